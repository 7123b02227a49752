// Reads the firewall as `iptables-save` and `nft list ruleset` print it and
// finds the NFQUEUE rules on the OUTPUT path: which source ports they catch,
// which queue they feed, whether loopback is spared and whether they fail
// open (bypass). A chain counts only when OUTPUT reaches it through jumps.
// Pure functions, for the deployment doctor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/port_range.h"

namespace tc::intercept {

struct QueueRule {
  std::string where;              // "iptables filter/TCPCOPY_INTERCEPT", "nft ip tcpcopy_intercept/output"
  bool any_port = true;           // no source-port match at all
  bool ports_unreadable = false;  // a port match not understood here (negated, named set)
  std::vector<PortRange> sports;
  uint16_t queue_lo = 0;
  uint16_t queue_hi = 0;          // > queue_lo: spread over a range of queues
  bool bypass = false;            // accepts the packets when nobody reads the queue
  bool spares_loopback = false;   // "! -o lo", oifname != "lo", or an explicit other interface
  bool ipv4 = true;               // the IP versions it sees: iptables 4, ip6tables 6,
  bool ipv6 = true;               // nft by its table's family (inet: both)
};

// `ip_version` 4 for iptables-save, 6 for ip6tables-save.
std::vector<QueueRule> scan_iptables_save(std::string_view text, int ip_version = 4);
std::vector<QueueRule> scan_nft_ruleset(std::string_view text);

// Whether the rule catches TCP packets from `port` (an unreadable port
// match counts as no).
bool catches_port(const QueueRule& rule, uint16_t port);
bool feeds_queue(const QueueRule& rule, uint16_t queue);
// "80,6379", "any port", "8080-8090"
std::string describe_ports(const QueueRule& rule);

}  // namespace tc::intercept

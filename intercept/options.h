// Command line of intercept. Short flags keep their intercept 1.0 meaning so
// existing command lines keep working; every option also has a long name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address_prefix.h"
#include "common/ip_address.h"
#include "common/options/process_options.h"
#include "common/wire.h"

namespace tc::intercept {

// nfqueue: on the target, replies from NFQUEUE (architecture 2).
// assistant: on a host the target routes its replies to, replies captured
// with libpcap (architecture 3).
enum class Mode : uint8_t { kNfqueue, kAssistant };

// The shared options (log, daemon, pid file, secret, metrics, ...) are the
// ProcessOptions part.
struct Options : ProcessOptions {
  Mode mode = Mode::kNfqueue;
  std::vector<IpAddress> passlist;   // clients whose replies are accepted, not dropped
  uint16_t port = wire::kDefaultPort;  // control channel
  std::vector<IpAddress> bind;       // -b; empty: see control_exposure()
  std::vector<AddressPrefix> allow;  // control peers accepted; empty: any
  bool allow_any = false;            // --allow any: open to every address, said explicitly
  uint16_t queue_num = 0;      // the first queue
  uint16_t queue_count = 1;    // --queue-balance A:B: B - A + 1 queues, a thread each
  uint32_t queue_maxlen = 4096;
  // assistant mode
  std::vector<std::string> interfaces;  // -i: where the replies arrive
  std::string filter;                   // -F; empty: derived from target_ports
  std::vector<uint16_t> target_ports;   // --target-ports: the target's service ports
  // -S: bytes kept per reply: a link header (up to 64 bytes), the IP and
  // TCP headers and the longest payload prefix a tcpcopy may ask for
  // (wire::kMaxReplyEntry in all).
  uint32_t snaplen = 576;
  uint32_t buffer_mb = 16;              // -B: capture ring per interface
  uint32_t hash_size = 65536;
  uint32_t route_timeout_s = 120;
  std::vector<IpAddress> check_clients;  // --check-client: routes for replies to these
  std::vector<uint16_t> check_ports;     // --check-port: ports the NFQUEUE rule must catch
};

// Who can reach the control port, decided from -b, --allow and
// --secret-file. Without --allow and without --secret-file, intercept is
// closed by default: it listens on loopback only (or on -b's addresses when
// given), and `--allow any` is how an operator opens it on purpose.
struct ControlExposure {
  std::vector<IpAddress> bind;       // empty: every address
  bool loopback_default = false;     // bind is the secure default, not asked for
};
ControlExposure control_exposure(const Options& o);

// Parses argv into `out`: kRun, kHelp or kVersion, or kError with a
// message naming the option and the offending value. Never exits, never
// prints.
ParseResult parse_options(int argc, char* const argv[], Options& out);

std::string usage_text(const char* program);

}  // namespace tc::intercept

// The -x transfers: which online endpoint is replayed to which target.
// "[srcIP:]srcPort-dstIP:dstPort[,...]"; IPv6 addresses go in brackets
// ("[2001:db8::1]:80-[2001:db8::2]:8080"). The one parser of -x maps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace tc {

struct Transfer {
  std::optional<IpAddress> online_addr;  // absent: any local address
  uint16_t online_port = 0;
  Endpoint target;
};

class TransferMap {
 public:
  // Returns an error naming the bad part, or "" on success.
  static std::string parse(std::string_view spec, TransferMap& out);

  void add(const Transfer& t) { transfers_.push_back(t); }
  // The transfer for a captured packet's destination, or nullptr.
  const Transfer* find(const IpAddress& dst, uint16_t dport) const {
    for (const Transfer& t : transfers_)  // a handful of entries: a scan beats hashing
      if (t.online_port == dport && (!t.online_addr || *t.online_addr == dst)) return &t;
    return nullptr;
  }
  const std::vector<Transfer>& transfers() const { return transfers_; }
  bool empty() const { return transfers_.empty(); }

 private:
  std::vector<Transfer> transfers_;
};

}  // namespace tc

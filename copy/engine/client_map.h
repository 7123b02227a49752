// -c: the client addresses the target sees. Either a list ("10.9.0.1,
// 10.9.0.2": each real client maps to one of them, chosen by a hash of its
// address, so a client keeps its address) or an IPv4 range pattern
// ("10.9.0.x": the real client's last octet goes in place of x).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace tc {

class ClientMap {
 public:
  // Returns an error naming the bad part, or "" on success.
  static std::string parse(std::string_view spec, ClientMap& out);

  bool empty() const { return list_.empty() && !pattern_; }
  // The address the target sees for `client`, or nullopt when the map has
  // no address of the client's IP version.
  std::optional<IpAddress> map(const IpAddress& client) const;
  // What was given, for tcpcopy --check: the list, and a.b.c.0 for a.b.c.x.
  const std::vector<IpAddress>& addresses() const { return list_; }
  const std::optional<IpAddress>& pattern() const { return pattern_; }

 private:
  std::vector<IpAddress> list_;
  std::optional<IpAddress> pattern_;  // a.b.c.0 for "a.b.c.x"
};

}  // namespace tc

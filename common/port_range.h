// An inclusive range of TCP/UDP ports.
#pragma once

#include <cstdint>

namespace tc {

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;

  uint32_t size() const { return lo <= hi ? uint32_t{hi} - lo + 1 : 0; }
  bool contains(uint16_t port) const { return port >= lo && port <= hi; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

}  // namespace tc

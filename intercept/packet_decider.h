// The per-packet question every reply source asks: what to do with this
// reply of the target.
#pragma once

#include <cstdint>
#include <span>

namespace tc::intercept {

class PacketDecider {
 public:
  virtual ~PacketDecider() = default;
  // `packet` starts at the IP header, may be cut after the headers, and is
  // valid only during the call. Returns true to let the packet through
  // (NFQUEUE; a source that cannot let packets through ignores it).
  virtual bool accept(std::span<const uint8_t> packet) = 0;
};

}  // namespace tc::intercept

// The destinations tcpcopy may send to. Every sender checks the packet's own
// IP header against them, whatever the engine built.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/ip_address.h"

namespace tc {

class DestinationFilter {
 public:
  enum class Verdict : uint8_t { kSend, kRefused, kMalformed };

  explicit DestinationFilter(const std::vector<IpAddress>& targets);

  // kMalformed when `packet` does not hold a whole IPv4 or IPv6 header;
  // `v6` tells the family of a packet that does.
  Verdict check(std::span<const uint8_t> packet, bool& v6) const;

  // A family the sender cannot send has no allowed destination either.
  void refuse_v4() { v4_.clear(); }
  void refuse_v6() { v6_.clear(); }

 private:
  std::vector<std::array<uint8_t, 4>> v4_;
  std::vector<std::array<uint8_t, 16>> v6_;
};

}  // namespace tc

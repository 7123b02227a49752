#include "copy/send/destination_filter.h"

#include <algorithm>
#include <cstring>

namespace tc {

namespace {
constexpr size_t kIpv4Header = 20;
constexpr size_t kIpv6Header = 40;
}  // namespace

DestinationFilter::DestinationFilter(const std::vector<IpAddress>& targets) {
  for (const IpAddress& a : targets) {
    if (a.is_v4()) {
      std::array<uint8_t, 4> b{};
      std::copy_n(a.v4_bytes().begin(), 4, b.begin());
      v4_.push_back(b);
    } else {
      v6_.push_back(a.bytes16());
    }
  }
}

DestinationFilter::Verdict DestinationFilter::check(std::span<const uint8_t> packet, bool& v6) const {
  if (packet.empty()) return Verdict::kMalformed;
  const uint8_t version = packet[0] >> 4;
  bool ok = false;
  if (version == 4 && packet.size() >= kIpv4Header) {
    v6 = false;
    const uint8_t* dst = packet.data() + 16;
    ok = std::any_of(v4_.begin(), v4_.end(),
                     [dst](const std::array<uint8_t, 4>& t) { return std::memcmp(t.data(), dst, 4) == 0; });
  } else if (version == 6 && packet.size() >= kIpv6Header) {
    v6 = true;
    const uint8_t* dst = packet.data() + 24;
    ok = std::any_of(v6_.begin(), v6_.end(),
                     [dst](const std::array<uint8_t, 16>& t) { return std::memcmp(t.data(), dst, 16) == 0; });
  } else {
    return Verdict::kMalformed;
  }
  return ok ? Verdict::kSend : Verdict::kRefused;
}

}  // namespace tc

// Client ports for copies that cannot keep their own: the client reused the
// port online while the earlier copy still ran, or the target still holds a
// connection on it. Ports are handed out in turn over a range of their own
// (by default below the ephemeral ranges clients pick from), so
//   - a moved copy never takes the port a later client connection arrives
//     on, which would move that copy in turn (moves would cascade);
//   - a port comes round again only after the whole range has, so the
//     target has had the most time to forget the copy that used it last.
// The caller checks each port against its live sessions.
#pragma once

#include <cstdint>

namespace tc {

struct PortRange {
  uint16_t low = 1024;
  uint16_t high = 32767;

  uint32_t size() const { return uint32_t{high} - low + 1; }
  bool contains(uint16_t port) const { return port >= low && port <= high; }
};

class PortRotor {
 public:
  // `seed` spreads the start, so instances (-f) sharing a target do not
  // walk the range in step.
  explicit PortRotor(PortRange range, uint32_t seed = 0) : range_(range), offset_(seed % range.size()) {}

  uint16_t next() {
    const auto port = static_cast<uint16_t>(range_.low + offset_);
    offset_ = offset_ + 1 == range_.size() ? 0 : offset_ + 1;
    return port;
  }

  const PortRange& range() const { return range_; }

 private:
  PortRange range_;
  uint32_t offset_;
};

}  // namespace tc

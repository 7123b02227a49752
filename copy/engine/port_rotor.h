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

#include "common/port_range.h"

namespace tc {

class PortRotor {
 public:
  // `range` must not be empty. `seed` spreads the start, so instances (-f)
  // sharing a target do not walk the range in step.
  explicit PortRotor(PortRange range, uint32_t seed = 0) : range_(range), offset_(seed % range.size()) {}

  uint16_t next() {
    const auto port = static_cast<uint16_t>(range_.lo + offset_);
    offset_ = offset_ + 1 == range_.size() ? 0 : offset_ + 1;
    return port;
  }

  const PortRange& range() const { return range_; }

 private:
  PortRange range_;
  uint32_t offset_;
};

}  // namespace tc

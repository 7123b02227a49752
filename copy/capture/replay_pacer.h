// Offline replay timing and passes, as pure functions of the file's
// timestamps: no clock, no I/O.
#pragma once

#include <cstdint>
#include <span>

#include "common/clock.h"

namespace tc {

// When each packet of a capture file is due. Packets keep file order; the
// gap between two packets is the difference of their timestamps (a
// timestamp going backwards counts as no gap), gaps longer than
// `idle_threshold` are cut to it (0: never), and every gap is divided by
// `speed`.
class ReplayPacer {
 public:
  ReplayPacer(uint32_t speed, Duration idle_threshold) : speed_(speed < 1 ? 1 : speed), idle_(idle_threshold) {}

  // The next packet is the first of a pass: it is due at `at`.
  void start_pass(TimePoint at) {
    base_ = at;
    elapsed_ = Duration{0};
    first_ = true;
  }

  // The due time of the next packet, whose file timestamp is `stamp`.
  TimePoint due(Duration stamp) {
    if (first_) {
      first_ = false;
    } else {
      Duration gap = stamp > previous_ ? stamp - previous_ : Duration{0};
      if (idle_.count() > 0 && gap > idle_) gap = idle_;
      elapsed_ += gap;
    }
    previous_ = stamp;
    return base_ + elapsed_ / speed_;
  }

 private:
  uint32_t speed_;
  Duration idle_;
  TimePoint base_{};
  Duration elapsed_{0};
  Duration previous_{0};
  bool first_ = true;
};

// Each pass of a repeated replay moves the client's sequence numbers and
// TCP timestamp values forward by this much (pass 0: unchanged), 2^30 + 1
// per pass, so every pass looks like new connections from the same clients:
//   - a SYN of the new pass has a new ISN: the engine starts a new copy even
//     while the previous pass's copy of that client port is still open (it
//     moves the new one to a free port), and
//   - when the target still holds the previous pass's connection on that
//     port in TIME_WAIT, the new SYN's later sequence number and timestamp
//     let the target's TCP accept it as a new connection.
// The step is odd, so no two of 2^32 passes share a shift.
inline constexpr uint32_t pass_shift(uint32_t pass) { return pass * 0x40000001u; }

// Adds `delta` to the TCP sequence number and, when the timestamp option is
// there, to its value (TSval) of the IP packet `ip`, in place. False (and
// nothing changed) when it is not a TCP packet whose header is all there.
// The checksum is not updated: the engine rebuilds every packet it sends.
bool shift_client_packet(std::span<uint8_t> ip, uint32_t delta);

}  // namespace tc

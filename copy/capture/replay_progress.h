// How far an offline replay is through its file, as one line of text:
// share done, passes, packets, rates and the time left. Pure: the caller
// samples the replay (a handful of times a second at most) and prints.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace tc {

struct ReplayPosition {
  uint32_t pass = 0;       // the pass under way, from 0
  uint32_t passes = 1;     // --repeat
  int64_t offset = -1;     // bytes read of the file in this pass; -1: unknown
  int64_t file_size = -1;  // -1: unknown (not a regular file)
  uint64_t packets = 0;    // delivered so far, every pass
  uint64_t bytes = 0;      // their IP bytes
  bool done = false;       // every packet delivered
};

class ReplayProgress {
 public:
  explicit ReplayProgress(TimePoint start) : start_(start), last_at_(start) {}

  // The share of the whole replay done (every pass), 0 to 1; negative
  // when the file's size is unknown.
  static double fraction(const ReplayPosition& p);

  // The line for the position at `now`, for example
  //   offline replay: 37.5% (pass 2/3, 11.2 MiB of 29.9 MiB), 183201 packets,
  //   14210 packets/s, 3.1 MiB/s, about 18 s left
  // The rates are those since the previous line.
  std::string line(const ReplayPosition& p, TimePoint now);

 private:
  TimePoint start_;
  TimePoint last_at_;
  uint64_t last_packets_ = 0;
  uint64_t last_bytes_ = 0;
};

}  // namespace tc

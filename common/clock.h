// Time as the data path sees it: nanoseconds on the monotonic clock. The
// session engine never reads a clock itself; callers pass `now`, so tests
// drive it with a fake clock.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace tc {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::nanoseconds;  // since an arbitrary epoch

inline TimePoint monotonic_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

using namespace std::chrono_literals;

}  // namespace tc

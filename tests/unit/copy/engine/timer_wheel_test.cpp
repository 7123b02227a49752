#include "common/timer_wheel.h"

#include <gtest/gtest.h>

#include <vector>

namespace tc {
namespace {

TEST(TimerWheel, FiresInOrderOfTicksAndOnlyWhenDue) {
  const TimePoint start = std::chrono::seconds(10);
  TimerWheel w(8, 4ms, 16, start);
  w.schedule(1, start + 10ms);
  w.schedule(2, start + 100ms);  // beyond one turn (64 ms)
  std::vector<uint32_t> fired;
  auto rec = [&](uint32_t id) { fired.push_back(id); };
  w.advance(start + 9ms, rec);
  EXPECT_TRUE(fired.empty());
  w.advance(start + 12ms, rec);
  EXPECT_EQ(fired, std::vector<uint32_t>{1});
  w.advance(start + 70ms, rec);
  EXPECT_EQ(fired.size(), 1u) << "a timer a turn away must not fire early";
  w.advance(start + 101ms, rec);
  EXPECT_EQ(fired, (std::vector<uint32_t>{1, 2}));
}

TEST(TimerWheel, CancelAndRescheduleFromHandler) {
  const TimePoint start{};
  TimerWheel w(8, 1ms, 8, start);
  w.schedule(1, start + 2ms);
  w.schedule(2, start + 2ms);
  w.schedule(3, start + 3ms);
  w.cancel(3);
  int count = 0;
  w.advance(start + 5ms, [&](uint32_t id) {
    ++count;
    if (id == 1) w.schedule(1, start + 1ms);  // past due: fires in a later slot, not forever
  });
  EXPECT_GE(count, 2);
  EXPECT_LE(count, 2 + 4);  // id 1 at most once per remaining slot
  EXPECT_FALSE(w.scheduled(3));
}

TEST(TimerWheel, LongGapVisitsEverything) {
  const TimePoint start{};
  TimerWheel w(100, 1ms, 16, start);
  for (uint32_t i = 0; i < 100; ++i) w.schedule(i, start + std::chrono::milliseconds(i * 7));
  int fired = 0;
  w.advance(start + std::chrono::hours(1), [&](uint32_t) { ++fired; });
  EXPECT_EQ(fired, 100);
}

}  // namespace
}  // namespace tc

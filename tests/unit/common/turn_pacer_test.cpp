#include "common/turn_pacer.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

#include "common/clock.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"
#include "tests/unit/common/help_check.h"

namespace tc {
namespace {

using std::chrono::microseconds;

TEST(TurnPacer, SleepsOnlyAfterTurnsThatHandledABatch) {
  std::vector<microseconds> slept;
  TurnPacer pacer(microseconds(150), [&](microseconds d) { slept.push_back(d); });
  pacer.end_of_turn(0);  // a timer turn: the loop was idle
  EXPECT_TRUE(slept.empty());
  pacer.end_of_turn(1);  // one packet: nothing to batch, the next one must not wait
  EXPECT_TRUE(slept.empty());
  pacer.end_of_turn(TurnPacer::kMinBatch);
  pacer.end_of_turn(40);
  pacer.end_of_turn(1);
  ASSERT_EQ(slept.size(), 2u);
  EXPECT_EQ(slept[0], microseconds(150));
  EXPECT_EQ(slept[1], microseconds(150));
  EXPECT_EQ(pacer.sleeps(), 2u);
}

TEST(TurnPacer, ReportsBatchWaitsWithHelp) {
  TurnPacer pacer(microseconds(150), [](microseconds) {});
  pacer.end_of_turn(TurnPacer::kMinBatch);
  HelpCheck check;
  pacer.report(check);
  EXPECT_EQ(check.reported, 1u);
  EXPECT_TRUE(check.without_help.empty());
  CounterText text;
  pacer.report(text);
  EXPECT_EQ(text.line(), "batch_waits=1");
}

TEST(TurnPacer, ZeroWaitNeverSleeps) {
  int calls = 0;
  TurnPacer pacer(microseconds(0), [&](microseconds) { ++calls; });
  for (int i = 0; i < 10; ++i) pacer.end_of_turn(100);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(pacer.sleeps(), 0u);
}

TEST(TurnPacer, RealSleepLastsAtLeastTheWait) {
  TurnPacer pacer(microseconds(2000));
  const TimePoint before = monotonic_now();
  pacer.end_of_turn(TurnPacer::kMinBatch);
  EXPECT_GE(monotonic_now() - before, std::chrono::microseconds(2000));
}

// The pacer's input: run_once says whether the turn was woken by I/O.
TEST(EventLoopTurn, CountsReadyDescriptorsAndZeroOnTimeout) {
  EventLoop loop;
  UniqueFd a(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  UniqueFd b(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_TRUE(a && b);
  int handled = 0;
  auto clear = [&handled](int fd) {
    return [&handled, fd](uint32_t) {
      uint64_t v;
      [[maybe_unused]] const ssize_t r = ::read(fd, &v, sizeof v);
      ++handled;
    };
  };
  const EventLoop::Registration ra = loop.add(a.get(), EPOLLIN, clear(a.get()));
  const EventLoop::Registration rb = loop.add(b.get(), EPOLLIN, clear(b.get()));
  EXPECT_EQ(loop.run_once(std::chrono::milliseconds(1)), 0u);
  const uint64_t one = 1;
  ASSERT_EQ(::write(a.get(), &one, sizeof one), 8);
  EXPECT_EQ(loop.run_once(std::chrono::milliseconds(100)), 1u);
  ASSERT_EQ(::write(a.get(), &one, sizeof one), 8);
  ASSERT_EQ(::write(b.get(), &one, sizeof one), 8);
  EXPECT_EQ(loop.run_once(std::chrono::milliseconds(100)), 2u);
  EXPECT_EQ(handled, 3);
  EXPECT_EQ(loop.run_once(std::chrono::milliseconds(1)), 0u);
}

}  // namespace
}  // namespace tc

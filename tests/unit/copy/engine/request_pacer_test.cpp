#include "copy/engine/request_pacer.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

class RequestPacerTest : public ::testing::Test {
 protected:
  RequestPacer p;
  PacerTimes times{.hold_timeout = 2s, .answer_quiet = 50ms};
  EngineCounters counters;
  TimePoint now{std::chrono::seconds(100)};
};

TEST_F(RequestPacerTest, AMovingClientAckMarksANewRequest) {
  EXPECT_FALSE(p.client_ack(9001, true));  // the first ack is the base
  EXPECT_FALSE(p.client_ack(9001, true));
  EXPECT_FALSE(p.client_ack(9501, false));  // a pure ack moves nothing
  EXPECT_TRUE(p.client_ack(9501, true));
  EXPECT_EQ(p.online_output(9501), 500u);
}

TEST_F(RequestPacerTest, ARequestWaitsUntilTheTargetSaidAsMuch) {
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  EXPECT_TRUE(p.holding);
  EXPECT_EQ(counters.holds, 1u);
  p.target_answered(300, now);
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  p.target_answered(200, now);
  EXPECT_FALSE(p.hold(500, false, false, now, times, counters));
  EXPECT_FALSE(p.holding);
  EXPECT_EQ(counters.holds, 1u);
  EXPECT_EQ(counters.hold_timeouts, 0u);
}

TEST_F(RequestPacerTest, AShortAnswerEndsOnQuietAndCountsAsWhole) {
  p.target_answered(120, now);
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  EXPECT_EQ(p.deadline(times), now + 50ms);
  EXPECT_FALSE(p.hold(500, false, false, now + 50ms, times, counters));
  EXPECT_EQ(p.answer_credit, 500u);  // the next request is not short by 380
}

TEST_F(RequestPacerTest, AFinWaitsForTheWholeAnswerOrTheTimeout) {
  p.target_answered(120, now);
  EXPECT_TRUE(p.hold(500, true, false, now + 1s, times, counters));  // quiet does not end it
  EXPECT_EQ(p.deadline(times), now + 1s + 2s);
  EXPECT_FALSE(p.hold(500, true, true, now + 1s, times, counters));  // the target closed
  EXPECT_TRUE(p.hold(600, true, false, now + 1s, times, counters));
  EXPECT_FALSE(p.hold(600, true, false, now + 3s, times, counters));
  EXPECT_EQ(counters.hold_timeouts, 1u);
}

TEST_F(RequestPacerTest, ARstWaitsOnlyAfterRequests) {
  EXPECT_FALSE(p.rst_waits(now, times, counters));
  p.requests_seen = 1;
  EXPECT_TRUE(p.rst_waits(now, times, counters));
  p.target_answered(10, now);
  EXPECT_TRUE(p.rst_waits(now + 10ms, times, counters));
  EXPECT_FALSE(p.rst_waits(now + 50ms, times, counters));
  EXPECT_EQ(p.deadline(times), TimePoint{});
}

}  // namespace
}  // namespace tc

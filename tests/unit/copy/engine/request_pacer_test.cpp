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

TEST_F(RequestPacerTest, ALongerAnswerEndsOnlyOnQuiet) {
  p.target_answered(1448, now);  // online said 500: the target says more
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  EXPECT_EQ(p.deadline(times), now + 50ms);
  p.target_answered(1448, now + 30ms);  // still sending
  EXPECT_TRUE(p.hold(500, false, false, now + 60ms, times, counters));
  EXPECT_FALSE(p.hold(500, false, false, now + 80ms, times, counters));
  EXPECT_EQ(p.answer_credit, 500u);  // the next answer counts from online's length
  EXPECT_EQ(counters.hold_timeouts, 0u);
}

TEST_F(RequestPacerTest, AnAnswerOfOnlinesLengthEndsAtOnce) {
  p.target_answered(300, now);
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  p.target_answered(200, now + 1ms);
  EXPECT_FALSE(p.hold(500, false, false, now + 1ms, times, counters));
  p.request_sent();
  p.target_answered(500, now + 2ms);
  EXPECT_FALSE(p.hold(1000, false, false, now + 2ms, times, counters));
  EXPECT_EQ(counters.holds, 1u);
}

TEST_F(RequestPacerTest, AFinAfterALongerAnswerWaitsForQuiet) {
  p.target_answered(20000, now);
  EXPECT_TRUE(p.hold(2049, true, false, now + 10ms, times, counters));
  EXPECT_EQ(p.deadline(times), now + 50ms);
  EXPECT_FALSE(p.hold(2049, true, false, now + 50ms, times, counters));
  EXPECT_EQ(counters.hold_timeouts, 0u);
}

TEST_F(RequestPacerTest, AFinAfterAnAnswerOfOnlinesLengthGoesAtOnce) {
  p.target_answered(2048, now);
  EXPECT_FALSE(p.hold(2048, true, false, now, times, counters));   // the client closed first
  EXPECT_FALSE(p.hold(2049, true, false, now, times, counters));   // online's FIN is one byte of it
  EXPECT_EQ(counters.holds, 0u);
}

TEST_F(RequestPacerTest, TheTargetsFinEndsARequestsWait) {
  p.target_answered(20000, now);
  EXPECT_TRUE(p.hold(500, false, false, now, times, counters));
  EXPECT_FALSE(p.hold(500, false, true, now, times, counters));
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

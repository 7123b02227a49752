// Request pacing: a request waits until the target has answered the one
// before it, as far as the online server had.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, NextRequestWaitsUntilTargetAnswered) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  ASSERT_EQ(out.take().size(), 1u);
  // The online server answered 500 bytes (client ack 9001 -> 9501), then req2.
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  EXPECT_TRUE(out.take().empty()) << "req2 must wait for the target's answer";
  EXPECT_EQ(c().holds, 1u);
  reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 300});
  ASSERT_EQ(out.take().size(), 1u) << "only an ack: 300 of 500 bytes answered";
  reply({.seq = 70301, .ack = 1005, .flags = A | P, .payload_len = 200});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req2");
  EXPECT_EQ(sent[0].pkt.ack, 70501u);
  EXPECT_EQ(c().requests_replicated, 1u) << "req2 counts once the target acknowledges it";
  reply({.seq = 70501, .ack = 1009, .flags = A});
  EXPECT_EQ(c().requests_replicated, 2u);
  EXPECT_EQ(c().hold_timeouts, 0u);
}

TEST_F(EngineTest, ShorterAnswerEndsAfterQuiet) {
  auto cfg = default_config();
  cfg.answer_quiet = 50ms;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 120});  // the test server says less
  out.take();
  advance(40ms);
  EXPECT_TRUE(out.take().empty());
  advance(20ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req2");
  EXPECT_EQ(c().hold_timeouts, 0u);
}

TEST_F(EngineTest, ShortfallOfOneAnswerDoesNotHoldTheNextOnes) {
  auto cfg = default_config();
  cfg.answer_quiet = 50ms;
  make(cfg);
  handshake(1000, 70000);
  // Online: 500 bytes answered req1, 500 more req2.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  capture({.seq = 1009, .ack = 10001, .flags = A | P, .data = "req3"});
  reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 498});  // two bytes short
  out.take();
  advance(60ms);  // quiet: req1's answer is taken as whole
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req2");
  // req2's answer has online's length: req3 goes at once, not after quiet.
  reply({.seq = 70499, .ack = 1009, .flags = A | P, .payload_len = 500});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req3");
  reply({.seq = 70999, .ack = 1013, .flags = A});
  EXPECT_EQ(c().requests_replicated, 3u);
}

TEST_F(EngineTest, HeldRequestGoesAfterHoldTimeout) {
  auto cfg = default_config();
  cfg.hold_timeout = 500ms;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  reply({.seq = 70001, .ack = 1005, .flags = A});  // acked, but no answer
  out.take();
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  EXPECT_TRUE(out.take().empty());
  advance(300ms);
  EXPECT_TRUE(out.take().empty());
  advance(300ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req2");
  EXPECT_EQ(c().hold_timeouts, 1u);
  // The wait is timed: about the hold timeout, in the 0.5 s bucket's range.
  EXPECT_EQ(c().hold_wait.count(), 1u);
  EXPECT_GE(c().hold_wait.sum(), 0.5);
  EXPECT_LE(c().hold_wait.sum(), 0.61);
}

TEST_F(EngineTest, HoldWaitIsTimedFromHoldToRelease) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  out.take();
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});  // held: online answered 500
  EXPECT_EQ(c().hold_wait.count(), 0u) << "not timed before it ends";
  advance(20ms);
  reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 500});
  ASSERT_EQ(out.take().size(), 1u);
  ASSERT_EQ(c().hold_wait.count(), 1u);
  EXPECT_NEAR(c().hold_wait.sum(), 0.020, 0.002);
  capture({.seq = 1009, .ack = 9501, .flags = A | P, .data = "more"});  // pipelined: no hold
  EXPECT_EQ(c().hold_wait.count(), 1u);
}

TEST_F(EngineTest, FinWaitsUntilTargetFinishedALongAnswer) {
  auto cfg = default_config();
  cfg.hold_timeout = 1s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET /big"});
  out.take();
  // Online: 100000 bytes of answer and the server's FIN; then the client closes.
  capture({.seq = 1009, .ack = 9001 + 100000 + 1, .flags = A | FIN});
  reply({.seq = 70001, .ack = 1009, .flags = A, .payload_len = 40000});
  for (int i = 0; i < 2; ++i) {
    advance(800ms);  // slow target: silence shorter than the hold timeout
    reply({.seq = 70001u + 40000u + 20000u * i, .ack = 1009, .flags = A, .payload_len = 20000});
    for (auto& p : out.take()) EXPECT_FALSE(p.pkt.fin()) << "FIN before the answer is complete";
  }
  advance(800ms);
  reply({.seq = 150001, .ack = 1009, .flags = A, .payload_len = 20000});  // 100000 bytes: all of it
  auto sent = out.take();
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().pkt.fin());
  EXPECT_EQ(c().hold_timeouts, 0u);
}

TEST_F(EngineTest, NoHoldSendsAtOnce) {
  auto cfg = default_config();
  cfg.hold_requests = false;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  EXPECT_EQ(out.take().size(), 2u);
  reply({.seq = 70001, .ack = 1009, .flags = A});
  EXPECT_EQ(c().requests_replicated, 2u);
}

TEST_F(EngineTest, PipelinedRequestsAreNotHeld) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "a"});
  capture({.seq = 1002, .ack = 9001, .flags = A | P, .data = "b"});
  capture({.seq = 1003, .ack = 9001, .flags = A | P, .data = "c"});
  EXPECT_EQ(out.take().size(), 3u);
  EXPECT_EQ(c().holds, 0u);
}

TEST_F(EngineTest, ServerFirstProtocolWaitsForGreeting) {  // 40-byte greeting online
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460});
  capture({.seq = 1001, .ack = 9001, .flags = A});
  out.take();
  // Online, the server greeted (40 bytes) before the client spoke.
  capture({.seq = 1001, .ack = 9041, .flags = A | P, .data = "LOGIN"});
  EXPECT_TRUE(out.take().empty());
  reply({.seq = 70001, .ack = 1001, .flags = A | P, .payload_len = 40});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "LOGIN");
}

TEST_F(EngineTest, HeldRequestIsNotSentInsideThePreviousPacket) {
  make();
  handshake(1000, 70000, /*target_window=*/0);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  EXPECT_TRUE(out.take().empty());
  reply({.seq = 70001, .ack = 1001, .flags = A, .window = 1000});  // window opens
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req1") << "req2 waits for the answer to req1";
  reply({.seq = 70001, .ack = 1005, .flags = A, .window = 1000});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().requests_replicated, 1u);
}

TEST_F(EngineTest, RequestReleasedInAPauseDoesNotReleaseTheFin) {
  auto cfg = default_config();
  cfg.answer_quiet = 50ms;
  cfg.hold_timeout = 2s;
  make(cfg);
  handshake(1000, 70000);
  // Online: req1 got a 1,000,000-byte answer, req2 one of 200,000, then FIN.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9001 + 1000000, .flags = A | P, .data = "req2"});
  capture({.seq = 1009, .ack = 9001 + 1200000, .flags = A | FIN});
  out.take();
  // The target answers in 50,000-byte pieces.
  uint32_t tseq = 70001;
  auto answer = [&](uint32_t bytes, uint32_t ack) {
    for (; bytes > 0; bytes -= 50000, tseq += 50000) reply({.seq = tseq, .ack = ack, .flags = A, .payload_len = 50000});
  };
  // A slow target: 100,000 bytes, then a pause longer than the quiet time.
  answer(100000, 1005);
  out.take();  // acks
  advance(60ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "req2") << "a pause may release the next request (pipelining)";
  // The rest of answer 1 must not count as answer 2: no FIN yet.
  answer(1000000, 1009);
  for (auto& p : out.take()) EXPECT_FALSE(p.pkt.fin());
  answer(100000, 1009);
  sent = out.take();
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().pkt.fin()) << "both answers complete: 1,200,000 bytes";
}

}  // namespace
}  // namespace tc::test

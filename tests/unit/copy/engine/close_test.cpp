// How sessions end: FIN and RST of either side, timeouts and caps.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, FinWaitsForDataAckThenSessionCompletes) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "bye"});
  capture({.seq = 1004, .ack = 9001, .flags = A | FIN});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u) << "FIN must wait for the data ack";
  reply({.seq = 70001, .ack = 1004, .flags = A});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.fin());
  EXPECT_EQ(sent[0].pkt.seq, 1004u);
  reply({.seq = 70001, .ack = 1005, .flags = A | FIN});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[0].pkt.ack, 70002u);
  EXPECT_EQ(c().sessions_completed, 1u);
  EXPECT_TRUE(reg.unregistered.empty()) << "a closed session lingers first";
  advance(3s);
  ASSERT_EQ(reg.unregistered.size(), 1u);
  EXPECT_EQ(engine->active_sessions(), 0u);
}

TEST_F(EngineTest, TargetClosesFirst) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  reply({.seq = 70001, .ack = 1004, .flags = A | P | FIN, .payload_len = 10});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].pkt.ack, 70012u);
  capture({.seq = 1004, .ack = 9012, .flags = A | FIN});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.fin());
  reply({.seq = 70012, .ack = 1005, .flags = A});
  EXPECT_EQ(c().sessions_completed, 1u);
}

TEST_F(EngineTest, RstWaitsForDataAckAndTheAnswer) {
  auto cfg = default_config();
  cfg.answer_quiet = 50ms;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "x"});
  // The client closed with the answer still in flight online: it resets.
  capture({.seq = 1002, .ack = 9001, .flags = R | A});
  ASSERT_EQ(out.take().size(), 1u);
  reply({.seq = 70001, .ack = 1002, .flags = A});  // data acked, no answer yet
  EXPECT_TRUE(out.take().empty()) << "the reset must not overtake the target's answer";
  reply({.seq = 70001, .ack = 1002, .flags = A | P, .payload_len = 120});
  out.take();  // the ack of the answer
  advance(60ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_EQ(sent[0].pkt.seq, 1002u);
}

TEST_F(EngineTest, RstGoesAfterHoldTimeoutWhenTargetNeverAnswers) {
  auto cfg = default_config();
  cfg.hold_timeout = 1s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "x"});
  capture({.seq = 1002, .ack = 9001, .flags = R | A});
  reply({.seq = 70001, .ack = 1002, .flags = A});
  out.take();
  advance(900ms);
  EXPECT_TRUE(out.take().empty());
  advance(200ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_EQ(c().hold_timeouts, 1u);
}

TEST_F(EngineTest, RstWithoutDataGoesAtOnce) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = R | A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.rst());
}

TEST_F(EngineTest, ResponseTimeoutDropsSession) {
  auto cfg = default_config();
  cfg.session_timeout = 5s;
  cfg.max_retransmits = 100;
  cfg.max_rto = 1s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "x"});
  for (int i = 0; i < 6; ++i) advance(1s);
  EXPECT_EQ(lost(LostReason::kResponseTimeout), 1u);
}

TEST_F(EngineTest, RequestsTheTargetNeverAcknowledgedAreCounted) {
  auto cfg = default_config();
  cfg.session_timeout = 5s;
  cfg.max_retransmits = 100;
  cfg.max_rto = 1s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
  for (int i = 0; i < 6; ++i) advance(1s);
  EXPECT_EQ(lost(LostReason::kResponseTimeout), 1u);
  EXPECT_EQ(c().requests_replicated, 0u);
  EXPECT_EQ(c().requests_undelivered[static_cast<size_t>(UndeliveredReason::kResponseTimeout)], 2u);
}

TEST_F(EngineTest, TargetResetBeforeItsFinIsNoCompletion) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
  reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 100});
  EXPECT_EQ(c().requests_replicated, 1u);
  // Acknowledged, but whether the target read it is unknown: a reset
  // instead of a FIN drops what it had not read.
  reply({.seq = 70101, .ack = 1005, .flags = R | A});
  EXPECT_EQ(lost(LostReason::kTargetAborted), 1u);
  EXPECT_EQ(c().sessions_completed, 0u);
}

TEST_F(EngineTest, IdleSessionIsClosed) {
  auto cfg = default_config();
  cfg.idle_timeout = 30s;
  make(cfg);
  handshake(1000, 70000);
  advance(29s);
  EXPECT_EQ(c().sessions_idle_closed, 0u);
  advance(2s);
  EXPECT_EQ(c().sessions_idle_closed, 1u);
  advance(5s);
  EXPECT_EQ(engine->active_sessions(), 0u);
}

TEST_F(EngineTest, SessionCapIsEnforced) {
  auto cfg = default_config();
  cfg.max_sessions = 3;
  make(cfg);
  // Sessions joined mid-stream hold data the target has not acked: none
  // may be evicted, so the table refuses newcomers.
  for (uint16_t p = 1; p <= 5; ++p) capture({.seq = 1000, .ack = 1, .flags = A | P, .data = "busy", .sport = p});
  EXPECT_EQ(c().sessions_created, 3u);
  EXPECT_EQ(lost(LostReason::kSessionCap), 2u);
}

TEST_F(EngineTest, MalformedAndForeignPacketsAreCounted) {
  make();
  std::vector<uint8_t> junk{0x45, 0, 0, 10};
  engine->on_captured(junk, now);
  EXPECT_EQ(c().malformed[static_cast<size_t>(ParseError::kTruncated)], 1u);
  capture({.seq = 1, .flags = S}, /*port=*/81);
  EXPECT_EQ(skipped(SkipReason::kNotTransfer), 1u);
  engine->on_reply(junk, now);
  EXPECT_EQ(c().replies_malformed, 1u);
  reply({.seq = 1, .ack = 1, .flags = A, .dport = 1});
  EXPECT_EQ(c().replies_unknown, 1u);
  EXPECT_TRUE(out.take().empty());
}

}  // namespace
}  // namespace tc::test

// The end of a capture file: sessions its clients never closed are reset
// on the target once answered, and a SYN that meets a connection an earlier
// replay left open on the target clears it, as a TIME_WAIT is cleared.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, CaptureEndResetsAnIdleSessionAtOnce) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  ASSERT_EQ(out.take().size(), 1u);
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 100});
  out.take();  // the ack of the answer
  advance(100ms);  // the answer is over
  EXPECT_EQ(engine->end_capture(now), 1u);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_EQ(sent[0].pkt.seq, 1004u);
  EXPECT_EQ(sent[0].pkt.ack, 70101u);
  EXPECT_EQ(c().sessions_capture_ended, 1u);
  EXPECT_EQ(c().sessions_completed, 1u);
  EXPECT_EQ(c().requests_replicated, 1u);
  advance(3s);
  EXPECT_EQ(engine->active_sessions(), 0u);
  ASSERT_EQ(reg.unregistered.size(), 1u);
}

TEST_F(EngineTest, CaptureEndWaitsForTheDataAndTheAnswer) {
  auto cfg = default_config();
  cfg.answer_quiet = 50ms;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  ASSERT_EQ(out.take().size(), 1u);
  EXPECT_EQ(engine->end_capture(now), 1u);
  EXPECT_TRUE(out.take().empty()) << "the request is not acknowledged yet";
  reply({.seq = 70001, .ack = 1004, .flags = A});
  EXPECT_TRUE(out.take().empty()) << "the reset must not overtake the answer";
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 100});
  out.take();
  advance(60ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_EQ(c().requests_replicated, 1u);
  for (size_t i = 0; i < c().sessions_lost.size(); ++i) EXPECT_EQ(c().sessions_lost[i], 0u);
}

TEST_F(EngineTest, CaptureEndReachesASessionStillInItsHandshake) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  ASSERT_EQ(out.take().size(), 1u);
  EXPECT_EQ(engine->end_capture(now), 1u);
  EXPECT_TRUE(out.take().empty());
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u) << "the handshake's ack, then the reset";
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_TRUE(sent[1].pkt.rst());
  EXPECT_EQ(c().sessions_completed, 1u);
}

TEST_F(EngineTest, CaptureEndLeavesClosingSessionsToTheirFin) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | FIN});
  ASSERT_EQ(out.take().size(), 1u);
  EXPECT_EQ(engine->end_capture(now), 0u);
  EXPECT_EQ(c().sessions_capture_ended, 0u);
  reply({.seq = 70001, .ack = 1002, .flags = A | FIN});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(c().sessions_completed, 1u);
  EXPECT_EQ(engine->end_capture(now), 0u) << "closed sessions are left alone";
}

// A later pass (or run) of the same clients starts after the end: the new
// SYN of the reused port takes the port of the closed copy at once.
TEST_F(EngineTest, NextPassAfterCaptureEndTakesThePort) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 10});
  advance(100ms);
  out.take();
  engine->end_capture(now);
  ASSERT_EQ(out.take().size(), 1u);
  capture({.seq = 5000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_EQ(c().ports_moved, 0u);
  EXPECT_EQ(c().ports_waited, 0u);
}

// The earlier run ended before its clients closed, and nothing reset its
// connections: the target still holds one on this 4-tuple, open, and
// answers the same SYN with a challenge ACK of what it expects next.
TEST_F(EngineTest, SynMeetingALeftoverConnectionClearsIt) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  ASSERT_EQ(out.take().size(), 1u);
  // The earlier run delivered "GET" (3 bytes) on that connection.
  reply({.seq = 70101, .ack = 1004, .flags = A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_EQ(sent[0].pkt.seq, 1004u);
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(sent[1].pkt.sport, kClientPort);
  EXPECT_EQ(c().stale_connections, 1u);
  reply({.seq = 90000, .ack = 1001, .flags = S | A, .mss = 1460});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].payload(), "GET");
  for (size_t i = 0; i < c().sessions_lost.size(); ++i) EXPECT_EQ(c().sessions_lost[i], 0u);
}

// The same, when the earlier run got no further than the handshake: the
// challenge ACK acknowledges exactly our SYN, which no target taking the
// SYN would send without its own SYN.
TEST_F(EngineTest, SynMeetingALeftoverHandshakeClearsIt) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  ASSERT_EQ(out.take().size(), 1u);
  reply({.seq = 70001, .ack = 1001, .flags = A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_FALSE(sent[0].pkt.has_ack());
  EXPECT_EQ(sent[0].pkt.seq, 1001u);
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(c().stale_connections, 1u);
  EXPECT_EQ(c().stale_resets, 1u);
  reply({.seq = 90000, .ack = 1001, .flags = S | A, .mss = 1460});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[0].pkt.ack, 90001u);
}

}  // namespace
}  // namespace tc::test

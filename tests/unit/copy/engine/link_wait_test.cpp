// Start-up: sessions captured before the intercept link is up wait for it,
// bounded in time, instead of being lost.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, SynWaitsForTheLinkThenGoes) {
  make();
  engine->await_link();
  reg.up = false;
  capture({.seq = 1000, .flags = S, .mss = 1460});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().sessions_link_waited, 1u);
  EXPECT_EQ(engine->link_waiting(), 1u);
  EXPECT_EQ(lost(LostReason::kNoIntercept), 0u);
  capture({.seq = 1001, .ack = 9001, .flags = A});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  advance(40ms);
  EXPECT_TRUE(out.take().empty());
  reg.up = true;
  engine->link_ready(now);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.seq, 1000u);
  EXPECT_EQ(engine->link_waiting(), 0u);
  ASSERT_FALSE(reg.registered.empty());
  EXPECT_EQ(reg.registered.back().client_port, kClientPort);
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[1].payload(), "GET");
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 10});
  EXPECT_EQ(c().requests_replicated, 1u);
  EXPECT_EQ(lost(LostReason::kNoIntercept), 0u);
}

// A connection live before the start: its first captured packet carries
// data; it is joined (faked handshake) as soon as the link is up, with
// everything captured meanwhile.
TEST_F(EngineTest, LiveConnectionIsJoinedWhenTheLinkComesUp) {
  make();
  engine->await_link();
  reg.up = false;
  capture({.seq = 5001, .ack = 9001, .flags = A | P, .data = "GET /a"});
  capture({.seq = 5007, .ack = 9101, .flags = A | P, .data = "GET /b"});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().sessions_joined, 1u);
  reg.up = true;
  engine->link_ready(now);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.seq, 5000u);
  reply({.seq = 70000, .ack = 5001, .flags = S | A, .mss = 1460});
  sent = out.take();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[1].payload(), "GET /a");
  reply({.seq = 70001, .ack = 5007, .flags = A | P, .payload_len = 100});
  advance(100ms);
  sent = out.take();
  bool b_sent = false;
  for (const Sent& p : sent) b_sent = b_sent || p.payload() == "GET /b";
  EXPECT_TRUE(b_sent);
}

TEST_F(EngineTest, LinkWaitIsBounded) {
  auto cfg = default_config();
  cfg.link_wait = 2s;
  make(cfg);
  engine->await_link();
  reg.up = false;
  capture({.seq = 1000, .flags = S, .mss = 1460});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  advance(1900ms);
  EXPECT_EQ(lost(LostReason::kNoIntercept), 0u);
  advance(200ms);
  EXPECT_EQ(lost(LostReason::kNoIntercept), 1u);
  EXPECT_EQ(c().requests_undelivered[static_cast<size_t>(UndeliveredReason::kNoIntercept)], 1u);
  EXPECT_EQ(engine->link_waiting(), 0u);
  EXPECT_TRUE(out.take().empty());
  // The start-up wait is over: a new session that cannot register is lost.
  capture({.seq = 3000, .flags = S, .mss = 1460, .sport = 40001});
  EXPECT_EQ(lost(LostReason::kNoIntercept), 2u);
  EXPECT_EQ(c().sessions_link_waited, 1u);
}

// Waiting sessions hold their data in the payload buffer, like any other:
// past -m the session is lost as no_buffer.
TEST_F(EngineTest, LinkWaitIsBoundedInMemory) {
  auto cfg = default_config();
  cfg.buffer_bytes = 64 * 1024;
  make(cfg);
  engine->await_link();
  reg.up = false;
  capture({.seq = 1000, .flags = S, .mss = 1460});
  const std::string chunk(1400, 'x');
  uint32_t seq = 1001;
  for (int i = 0; i < 100 && lost(LostReason::kNoBuffer) == 0; ++i, seq += 1400)
    capture({.seq = seq, .ack = 9001, .flags = A, .data = chunk});
  EXPECT_EQ(lost(LostReason::kNoBuffer), 1u);
  EXPECT_EQ(engine->link_waiting(), 0u);
  EXPECT_EQ(engine->buffered_segments(), 0u);
}

TEST_F(EngineTest, WithoutTheStartUpWaitASessionIsLostAtOnce) {
  make();
  reg.up = false;
  capture({.seq = 1000, .flags = S, .mss = 1460});
  EXPECT_EQ(lost(LostReason::kNoIntercept), 1u);
  EXPECT_EQ(c().sessions_link_waited, 0u);
}

}  // namespace
}  // namespace tc::test

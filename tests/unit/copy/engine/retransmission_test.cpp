// Retransmission, the target's window and a full output.
#include <gtest/gtest.h>

#include <string>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, RetransmitsWithBackoffThenGivesUp) {
  auto cfg = default_config();
  cfg.initial_rto = 200ms;
  cfg.max_rto = 1s;
  cfg.max_retransmits = 3;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "hello"});
  out.take();
  advance(150ms);
  EXPECT_TRUE(out.take().empty());
  advance(60ms);  // 210 ms: first retransmission
  auto r1 = out.take();
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].payload(), "hello");
  advance(300ms);
  EXPECT_TRUE(out.take().empty());
  advance(110ms);  // 400 ms after the first
  EXPECT_EQ(out.take().size(), 1u);
  advance(800ms);
  EXPECT_EQ(out.take().size(), 1u);
  EXPECT_EQ(c().retransmits, 3u);
  advance(1s);
  auto last = out.take();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_TRUE(last[0].pkt.rst()) << "a session given up is reset on the target";
  EXPECT_EQ(lost(LostReason::kTargetUnresponsive), 1u);
  // No storm afterwards.
  advance(10s);
  EXPECT_TRUE(out.take().empty());
}

TEST_F(EngineTest, AckStopsRetransmission) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "hello"});
  out.take();
  reply({.seq = 70001, .ack = 1006, .flags = A});
  advance(5s);
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().retransmits, 0u);
}

TEST_F(EngineTest, FastRetransmitOnThreeDuplicateAcks) {
  make();
  handshake(1000, 70000);
  for (int i = 0; i < 4; ++i)
    capture({.seq = 1001u + 100u * i, .ack = 9001, .flags = A | P, .data = std::string(100, char('a' + i))});
  ASSERT_EQ(out.take().size(), 4u);
  reply({.seq = 70001, .ack = 1101, .flags = A});
  for (int i = 0; i < 3; ++i) reply({.seq = 70001, .ack = 1101, .flags = A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.seq, 1101u);
  EXPECT_EQ(sent[0].payload(), std::string(100, 'b') + std::string(100, 'c') + std::string(100, 'd'));
  EXPECT_EQ(c().fast_retransmits, 1u);
}

TEST_F(EngineTest, TargetWindowIsRespected) {
  make();
  handshake(1000, 70000, /*target_window=*/1000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(3000, 'x')});
  auto sent = out.take();
  uint32_t bytes = 0;
  for (auto& s : sent) bytes += s.pkt.payload_len;
  EXPECT_EQ(bytes, 1000u);
  reply({.seq = 70001, .ack = 2001, .flags = A, .window = 8});  // scaled by 2^7: 1024 bytes
  bytes = 0;
  for (auto& s : out.take()) bytes += s.pkt.payload_len;
  EXPECT_EQ(bytes, 1024u);
}

TEST_F(EngineTest, ScaledWindowIsApplied) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460, .wscale = 7});
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .window = 1000, .mss = 1460, .wscale = 2});
  out.take();
  reply({.seq = 70001, .ack = 1001, .flags = A, .window = 1000});  // 4000 bytes
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(6000, 'x')});
  uint32_t bytes = 0;
  for (auto& s : out.take()) bytes += s.pkt.payload_len;
  EXPECT_EQ(bytes, 4000u);
}

TEST_F(EngineTest, ZeroWindowIsProbed) {
  make();
  handshake(1000, 70000);
  reply({.seq = 70001, .ack = 1001, .flags = A, .window = 0});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "data"});
  EXPECT_TRUE(out.take().empty());
  advance(250ms);
  auto probe = out.take();
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_EQ(probe[0].pkt.payload_len, 0u);
  EXPECT_EQ(probe[0].pkt.seq, 1000u);
  EXPECT_EQ(c().window_probes, 1u);
  reply({.seq = 70001, .ack = 1001, .flags = A, .window = 1000});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "data");
}

TEST_F(EngineTest, SequenceNumbersWrapAround) {
  make();
  handshake(0xfffffff0u, 0xfffffffau);
  capture({.seq = 0xfffffff1u, .ack = 9001, .flags = A | P, .data = std::string(40, 'w')});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.ack, 0xfffffffbu);
  reply({.seq = 0xfffffffbu, .ack = 0x19u, .flags = A | P, .payload_len = 20});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.ack, 0x0fu);
  capture({.seq = 0x19u, .ack = 9021, .flags = A | P, .data = "next"});  // online answered 20 bytes too
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.seq, 0x19u);
  advance(5s);
  EXPECT_TRUE(out.take().size() > 0) << "unacked data is retransmitted";
}

TEST_F(EngineTest, FullOutputIsCountedAndRecoveredByRetransmission) {
  make();
  handshake(1000, 70000);
  out.full = true;
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "lost-on-send"});
  EXPECT_EQ(c().output_full, 1u);
  out.full = false;
  // Nothing in flight yet: the next capture or reply pulls the data out.
  reply({.seq = 70001, .ack = 1001, .flags = A, .window = 2000});
  auto sent = out.take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().payload(), "lost-on-send");
}

}  // namespace
}  // namespace tc::test

// Reassembly of the captured data: reordering, overlap, packets cut to the
// MTU and gathered across buffer segments.
#include <gtest/gtest.h>

#include <string>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, OutOfOrderCaptureIsReassembled) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1004, .ack = 9001, .flags = A | P, .data = "def"});
  EXPECT_TRUE(out.take().empty()) << "a gap must not be sent across";
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "abc"});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].payload(), "abc");
  EXPECT_EQ(sent[1].payload(), "def");
}

TEST_F(EngineTest, OverlappingCaptureKeepsOnlyNewBytes) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "abcd"});
  capture({.seq = 1003, .ack = 9001, .flags = A | P, .data = "cdef"});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].pkt.seq, 1005u);
  EXPECT_EQ(sent[1].payload(), "ef");
}

TEST_F(EngineTest, ClientRetransmissionIsDropped) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "hello"});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "hello"});
  EXPECT_EQ(out.take().size(), 1u);
  EXPECT_EQ(skipped(SkipReason::kClientRetransmit), 1u);
}

TEST_F(EngineTest, LargeCapturedPacketIsSplitToMtu) {
  auto cfg = default_config();
  cfg.mtu = 1500;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(6000, 'g')});  // GRO-merged
  auto sent = out.take();
  uint32_t bytes = 0;
  for (auto& s : sent) {
    EXPECT_LE(s.bytes.size(), 1500u);
    bytes += s.pkt.payload_len;
  }
  EXPECT_EQ(bytes, 6000u);
  EXPECT_EQ(sent.size(), 5u);  // 1448 bytes each with timestamps
}

// Bytes that differ from packet to packet: a packet gathered from the
// wrong segments, or in the wrong order, does not match.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST_F(EngineTest, SmallRequestTakesOneSegmentAFullPacketThree) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(100, 'q')});
  EXPECT_EQ(engine->buffered_segments(), 1u) << "a 100-byte request costs one 512-byte segment";
  capture({.seq = 1101, .ack = 9001, .flags = A | P, .data = std::string(1448, 'r')});
  EXPECT_EQ(engine->buffered_segments(), 4u) << "1,448 bytes take three";
  reply({.seq = 70001, .ack = 1101 + 1448, .flags = A});
  EXPECT_EQ(engine->buffered_segments(), 0u) << "acked bytes are released";
}

TEST_F(EngineTest, PacketsSpanningSegmentsCarryTheCapturedBytesAndRetransmitThem) {
  auto cfg = default_config();
  cfg.initial_rto = 200ms;
  make(cfg);
  handshake(1000, 70000);
  const std::string data = pattern(6000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = data});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 5u);
  std::string got;
  for (auto& p : sent) {
    EXPECT_EQ(p.pkt.seq, 1001u + got.size());
    got += p.payload();
  }
  EXPECT_EQ(got, data);
  // The target acked the first two packets only: the RTO resends from the
  // third, gathered again from its segments.
  reply({.seq = 70001, .ack = 1001 + 2 * 1448, .flags = A});
  out.take();
  advance(250ms);
  auto again = out.take();
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].pkt.seq, 1001u + 2 * 1448);
  EXPECT_EQ(again[0].payload(), data.substr(2 * 1448, again[0].payload().size()));
  EXPECT_EQ(again[0].payload().size(), 1448u);
}

TEST_F(EngineTest, JumboMtuPacketsAreNotCutToTheSegmentSize) {
  auto cfg = default_config();
  cfg.mtu = 9000;
  make(cfg);
  capture({.seq = 1000, .flags = S, .window = 64240, .mss = 8960, .wscale = 7});
  ASSERT_EQ(out.take().size(), 1u);
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .window = 65535, .mss = 8960, .wscale = 7});
  out.take();
  capture({.seq = 1001, .ack = 9001, .flags = A});
  const std::string data = pattern(20000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = data});
  auto sent = out.take();
  ASSERT_GE(sent.size(), 3u);
  std::string got;
  for (auto& p : sent) {
    EXPECT_LE(p.bytes.size(), 9000u);
    got += p.payload();
  }
  EXPECT_EQ(got, data);
  EXPECT_GT(sent[0].pkt.payload_len, 8000u) << "one packet carries about 9,000 bytes, gathered from 18 segments";
}

TEST_F(EngineTest, BufferCapLosesSessionNotProcess) {
  auto cfg = default_config();
  cfg.buffer_bytes = 4 * SegmentPool::kFootprint;
  make(cfg);
  handshake(1000, 70000, /*target_window=*/0);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(20000, 'm')});
  EXPECT_EQ(lost(LostReason::kNoBuffer), 1u);
  EXPECT_EQ(engine->buffered_segments(), 0u);
}

}  // namespace
}  // namespace tc::test

// The engine against input no well-behaved client sends: flag combinations
// TCP never uses, sequence numbers far from anything the session has seen,
// and more sessions than the table holds.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

constexpr F U = tcpflag::kUrg;
constexpr uint32_t kGiB = 1u << 30;

class HostileInputTest : public EngineTest {
 protected:
  // SYN, SYN-ACK, ACK for the client on `port`; the target's ISN is tisn.
  void open(uint16_t port, uint32_t isn = 1000, uint32_t tisn = 70000) {
    capture({.seq = isn, .flags = S, .mss = 1460, .sport = port});
    reply({.seq = tisn, .ack = isn + 1, .flags = S | A, .window = 65535, .mss = 1460, .dport = port});
    capture({.seq = isn + 1, .ack = 9001, .flags = A, .sport = port});
    out.take();
  }
};

TEST(ValidTcpFlags, FollowsWhatTcpSends) {
  for (F ok : {S, F(S | U), F(S | A), R, F(R | A), F(FIN | A), F(FIN | A | U), A, F(A | U), F(A | P),
               F(A | P | tcpflag::kEce | tcpflag::kCwr), F(S | tcpflag::kEce | tcpflag::kCwr)})
    EXPECT_TRUE(valid_tcp_flags(ok)) << int{ok};
  for (F bad : {F(0), F(S | FIN), F(S | R), F(S | FIN | R), F(FIN | R | A), F(0x3f), F(0xff), FIN, P,
                F(FIN | P | U), F(S | A | R), U})
    EXPECT_FALSE(valid_tcp_flags(bad)) << int{bad};
}

TEST_F(HostileInputTest, OddFlagCombinationsStartNothing) {
  make();
  for (F f : {F(S | FIN), F(S | R), F(0), F(0x3f), F(0xff), FIN, F(P)})
    capture({.seq = 1000, .ack = 5, .flags = f, .data = f & S ? "" : "data"});
  EXPECT_EQ(skipped(SkipReason::kBadFlags), 7u);
  EXPECT_EQ(c().sessions_created, 0u);
  EXPECT_TRUE(reg.registered.empty());
  EXPECT_TRUE(out.take().empty());
}

TEST_F(HostileInputTest, OddFlagsInsideASessionAreIgnored) {
  make();
  open(kClientPort);
  capture({.seq = 1001, .ack = 9001, .flags = S | R});
  capture({.seq = 1001, .ack = 9001, .flags = F(0x3f), .data = "evil"});
  EXPECT_EQ(skipped(SkipReason::kBadFlags), 2u);
  EXPECT_TRUE(out.take().empty());
  // The session goes on as if they had not been there.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "good"});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "good");
}

TEST_F(HostileInputTest, RepliesWithOddFlagsAreCountedAndIgnored) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  reply({.seq = 70000, .ack = 1001, .flags = S | A | R});
  reply({.seq = 70000, .ack = 1001, .flags = S | FIN | A});
  EXPECT_EQ(c().replies_bad_flags, 2u);
  EXPECT_EQ(lost(LostReason::kTargetRefused), 0u);
  EXPECT_TRUE(out.take().empty());
}

TEST_F(HostileInputTest, DataFarAheadOrBehindIsSkipped) {
  make();
  open(kClientPort);
  // Just past 1 GiB beyond the captured data, and far behind the acked data.
  capture({.seq = 1001 + kGiB + 1, .ack = 9001, .flags = A | P, .data = "ahead"});
  capture({.seq = 1001 - kGiB - 1, .ack = 9001, .flags = A | P, .data = "behind"});
  EXPECT_EQ(skipped(SkipReason::kOutOfWindow), 2u);
  EXPECT_EQ(engine->buffered_segments(), 0u);
  EXPECT_TRUE(out.take().empty());
  // A gap inside the window is ordinary out-of-order data: kept.
  capture({.seq = 1001 + 100, .ack = 9001, .flags = A | P, .data = "later"});
  EXPECT_EQ(engine->buffered_segments(), 1u);
  EXPECT_EQ(skipped(SkipReason::kOutOfWindow), 2u);
}

TEST_F(HostileInputTest, FarAwayFinOrRstDoesNotEndTheSession) {
  make();
  open(kClientPort);
  capture({.seq = 1001 + 2 * kGiB - 5, .ack = 9001, .flags = FIN | A});
  capture({.seq = 1001 + kGiB + 7, .ack = 9001, .flags = R});
  EXPECT_EQ(skipped(SkipReason::kOutOfWindow), 2u);
  EXPECT_TRUE(out.take().empty());
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "still-here"});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), "still-here");
  EXPECT_EQ(engine->active_sessions(), 1u);
}

TEST_F(HostileInputTest, SequenceJumpsAcrossWrapAreMeasuredInSerialArithmetic) {
  make();
  open(kClientPort, 0xfffffff0u);
  capture({.seq = 0xfffffff1u + 500, .ack = 9001, .flags = A | P, .data = "wrapped-gap"});
  EXPECT_EQ(skipped(SkipReason::kOutOfWindow), 0u);
  capture({.seq = 0xfffffff1u + kGiB + 1, .ack = 9001, .flags = A | P, .data = "x"});
  EXPECT_EQ(skipped(SkipReason::kOutOfWindow), 1u);
}

TEST_F(HostileInputTest, BytesPastGapsAreCappedPerSession) {
  auto cfg = default_config();
  cfg.buffer_bytes = 4096 * SegmentPool::kFootprint;
  make(cfg);
  open(kClientPort);
  // Single bytes with a gap before each, last first: every one lands past a
  // gap and would take a segment of its own.
  for (uint32_t i = 1000; i > 0; --i) capture({.seq = 1001 + 2 * i, .ack = 9001, .flags = A | P, .data = "x"});
  EXPECT_EQ(skipped(SkipReason::kReorderCap), 1000u - 256u);
  EXPECT_EQ(engine->buffered_segments(), 256u);
  EXPECT_TRUE(out.take().empty());
  // Data at the captured end is always taken: it may close the gaps.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "ab"});
  auto sent = out.take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].payload().substr(0, 2), "ab");
  EXPECT_EQ(lost(LostReason::kNoBuffer), 0u);
}

TEST_F(HostileInputTest, FilledGapsMakeRoomForMoreReordering) {
  make();
  open(kClientPort);
  for (uint32_t i = 1; i <= 256; ++i) capture({.seq = 1001 + 2 * i, .ack = 9001, .flags = A | P, .data = "y"});
  capture({.seq = 1001 + 2 * 300, .ack = 9001, .flags = A | P, .data = "z"});
  EXPECT_EQ(skipped(SkipReason::kReorderCap), 1u);
  // Fill every gap, in order: 1001-1002, then 1004, 1006, ... 1512.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "gg"});
  for (uint32_t i = 1; i < 256; ++i) capture({.seq = 1002 + 2 * i, .ack = 9001, .flags = A | P, .data = "g"});
  capture({.seq = 1001 + 2 * 300, .ack = 9001, .flags = A | P, .data = "z"});
  EXPECT_EQ(skipped(SkipReason::kReorderCap), 1u) << "nothing past a gap any more: room again";
}

TEST_F(HostileInputTest, FullTableEvictsTheLeastRecentlyActiveIdleSession) {
  auto cfg = default_config();
  cfg.max_sessions = 3;
  make(cfg);
  open(1001);
  open(1002);
  open(1003);
  now += 1s;
  // 1001 is active again: 1002 is now the oldest.
  capture({.seq = 1001, .ack = 9001, .flags = A, .sport = 1001});
  capture({.seq = 5000, .flags = S, .mss = 1460, .sport = 1004});
  EXPECT_EQ(evicted(EvictReason::kIdle), 1u);
  EXPECT_EQ(lost(LostReason::kSessionCap), 0u);
  EXPECT_EQ(c().sessions_created, 4u);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.dport, 8080);
  EXPECT_EQ(sent[0].pkt.sport, 1002) << "the evicted session's target side is reset";
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(sent[1].pkt.sport, 1004);
  ASSERT_EQ(reg.unregistered.size(), 1u);
  EXPECT_EQ(reg.unregistered[0].client_port, 1002);
  EXPECT_EQ(engine->active_sessions(), 3u);
}

TEST_F(HostileInputTest, SessionsWithDataInFlightAreNeverEvicted) {
  auto cfg = default_config();
  cfg.max_sessions = 2;
  make(cfg);
  open(1001);
  open(1002);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req", .sport = 1001});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req", .sport = 1002});
  out.take();
  capture({.seq = 5000, .flags = S, .sport = 1003});
  EXPECT_EQ(lost(LostReason::kSessionCap), 1u);
  EXPECT_EQ(evicted(EvictReason::kIdle), 0u);
  EXPECT_TRUE(out.take().empty());
  // Once the target acked 1001's request, that session may go.
  reply({.seq = 70001, .ack = 1004, .flags = A, .dport = 1001});
  out.take();
  capture({.seq = 5000, .flags = S, .sport = 1003});
  EXPECT_EQ(evicted(EvictReason::kIdle), 1u);
  EXPECT_EQ(c().sessions_created, 3u);
}

TEST_F(HostileInputTest, LingeringSessionsMakeRoomFirst) {
  auto cfg = default_config();
  cfg.max_sessions = 2;
  make(cfg);
  open(1001);
  open(1002);
  reply({.seq = 70001, .ack = 1001, .flags = R, .dport = 1002});  // 1002 closed, lingers
  out.take();
  capture({.seq = 5000, .flags = S, .sport = 1003});
  EXPECT_EQ(evicted(EvictReason::kLingering), 1u);
  EXPECT_EQ(evicted(EvictReason::kIdle), 0u);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
}

TEST_F(HostileInputTest, SynFloodStaysWithinTheTable) {
  auto cfg = default_config();
  cfg.max_sessions = 100;
  make(cfg);
  for (uint32_t i = 0; i < 5000; ++i) {
    Pkt p{.seq = 1000 + i, .flags = S, .mss = 1460, .sport = static_cast<uint16_t>(1024 + i % 60000)};
    p.src = IpAddress::from_v4_host(0x0a4e0000u + i / 60000);
    capture(p);
  }
  EXPECT_EQ(engine->active_sessions(), 100u);
  EXPECT_EQ(c().sessions_created, 5000u);
  EXPECT_EQ(evicted(EvictReason::kIdle), 4900u);
  // Every half-open session goes once the clock runs out.
  advance(200s);
  advance(5s);
  EXPECT_EQ(engine->active_sessions(), 0u);
}

}  // namespace
}  // namespace tc::test

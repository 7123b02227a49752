#include "copy/engine/session_engine.h"

#include <gtest/gtest.h>

#include <memory>

#include "engine_harness.h"

namespace tc::test {
namespace {

using F = uint8_t;
constexpr F A = tcpflag::kAck;
constexpr F P = tcpflag::kPsh;
constexpr F S = tcpflag::kSyn;
constexpr F FIN = tcpflag::kFin;
constexpr F R = tcpflag::kRst;

class EngineTest : public ::testing::Test {
 protected:
  void make(EngineConfig c = default_config()) {
    engine = std::make_unique<SessionEngine>(std::move(c), out, reg, now);
  }
  void capture(const Pkt& p, uint16_t port = 80) {
    auto b = client_packet(p, port);
    engine->on_captured(b, now);
  }
  void reply(const Reply& r) {
    auto b = reply_header(r);
    engine->on_reply(b, now);
    engine->flush();
  }
  void advance(Duration d) {
    now += d;
    engine->on_tick(now);
  }
  const EngineCounters& c() const { return engine->counters(); }
  uint64_t lost(LostReason r) const { return c().sessions_lost[static_cast<size_t>(r)]; }
  uint64_t skipped(SkipReason r) const { return c().skipped[static_cast<size_t>(r)]; }

  // Client SYN, target SYN-ACK, and the third ACK; the target's ISN is tisn.
  void handshake(uint32_t isn = 1000, uint32_t tisn = 70000, uint16_t target_window = 65535) {
    capture({.seq = isn, .flags = S, .window = 64240, .mss = 1460, .wscale = 7});
    auto syn = out.take();
    ASSERT_EQ(syn.size(), 1u);
    ASSERT_TRUE(syn[0].pkt.syn());
    reply({.seq = tisn, .ack = isn + 1, .flags = S | A, .window = target_window, .mss = 1460, .wscale = 7});
    auto ack = out.take();
    ASSERT_EQ(ack.size(), 1u);
    ASSERT_EQ(ack[0].pkt.flags, A);
    ASSERT_EQ(ack[0].pkt.ack, tisn + 1);
    capture({.seq = isn + 1, .ack = 9001, .flags = A});  // client's handshake ack online
    ASSERT_TRUE(out.take().empty());
  }

  TimePoint now{std::chrono::seconds(1000)};
  RecordingOutput out;
  RecordingRegistrar reg;
  std::unique_ptr<SessionEngine> engine;
};

TEST_F(EngineTest, SynIsRegisteredThenSentWithClientIsnAndOptions) {
  make();
  capture({.seq = 1000, .flags = S, .window = 64240, .ts_val = 77, .mss = 1460, .wscale = 7});
  ASSERT_EQ(reg.registered.size(), 1u);
  EXPECT_EQ(reg.registered[0].client, kClient);
  EXPECT_EQ(reg.registered[0].target, kTarget);
  EXPECT_EQ(reg.registered[0].target_port, 8080);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  const TcpPacket& p = sent[0].pkt;
  EXPECT_EQ(p.src, kClient);
  EXPECT_EQ(p.dst, kTarget);
  EXPECT_EQ(p.sport, kClientPort);
  EXPECT_EQ(p.dport, 8080);
  EXPECT_EQ(p.flags, S);
  EXPECT_EQ(p.seq, 1000u);
  EXPECT_EQ(p.window, 64240);
  EXPECT_EQ(p.options.mss, 1460);
  EXPECT_EQ(p.options.wscale, 7);
  EXPECT_TRUE(p.options.has_timestamp);
  EXPECT_EQ(p.options.ts_val, 77u);
  EXPECT_EQ(c().sessions_created, 1u);
}

TEST_F(EngineTest, DataAckIsRewrittenIntoTargetSpaceAndTimestampsEchoTarget) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET / HTTP/1.1\r\n\r\n", .ts_val = 1234});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.seq, 1001u);
  EXPECT_EQ(sent[0].pkt.ack, 70001u);  // not the online server's 9001
  EXPECT_EQ(sent[0].payload(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(sent[0].pkt.options.ts_val, 1234u);
  EXPECT_EQ(sent[0].pkt.options.ts_ecr, 5000u);  // the target's TSval
  EXPECT_EQ(c().requests_replicated, 1u);
  // The target answers with data: the engine acks it itself.
  reply({.seq = 70001, .ack = 1019, .flags = A | P, .payload_len = 300, .ts_val = 5100});
  auto acks = out.take();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].pkt.flags, A);
  EXPECT_EQ(acks[0].pkt.ack, 70301u);
  EXPECT_EQ(acks[0].pkt.options.ts_ecr, 5100u);
  EXPECT_EQ(c().response_bytes, 300u);
}

TEST_F(EngineTest, RepliesOfOneBatchGetOneAck) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET /big"});
  out.take();
  for (int i = 0; i < 5; ++i) {
    auto b = reply_header({.seq = 70001u + 1000u * i, .ack = 1009, .payload_len = 1000});
    engine->on_reply(b, now);
  }
  engine->flush();
  auto acks = out.take();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].pkt.ack, 75001u);
}

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

TEST_F(EngineTest, SessionOpenBeforeCaptureJoinsWithFakedHandshake) {
  auto cfg = default_config();
  cfg.fake_syn_mss = 1400;
  make(cfg);
  capture({.seq = 5001, .ack = 777, .flags = A | P, .data = "mid"});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.flags, S);
  EXPECT_EQ(sent[0].pkt.seq, 5000u);
  EXPECT_EQ(sent[0].pkt.options.mss, 1400);
  EXPECT_EQ(c().sessions_joined, 1u);
  reply({.seq = 300, .ack = 5001, .flags = S | A, .mss = 1460, .wscale = 7});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.flags, A);  // faked third handshake packet
  EXPECT_EQ(sent[0].pkt.ack, 301u);
  EXPECT_EQ(sent[1].payload(), "mid");
  EXPECT_EQ(sent[1].pkt.seq, 5001u);
}

TEST_F(EngineTest, OnlyFullSessionsSkipsMidStream) {
  auto cfg = default_config();
  cfg.only_full_sessions = true;
  make(cfg);
  capture({.seq = 5001, .ack = 777, .flags = A | P, .data = "mid"});
  EXPECT_TRUE(out.take().empty());
  EXPECT_TRUE(reg.registered.empty());
  EXPECT_EQ(skipped(SkipReason::kNotFullSession), 1u);
}

TEST_F(EngineTest, PureAckOfUnknownSessionStartsNothing) {
  make();
  capture({.seq = 5001, .ack = 777, .flags = A});
  capture({.seq = 5001, .ack = 777, .flags = A | FIN});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(skipped(SkipReason::kNoSession), 2u);
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

TEST_F(EngineTest, TargetRefusingIsCountedWithoutStorm) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  reply({.seq = 0, .ack = 1001, .flags = R | A});
  EXPECT_EQ(lost(LostReason::kTargetRefused), 1u);
  // Later packets of that connection are absorbed while it lingers.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "x"});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(skipped(SkipReason::kAfterClose), 1u);
  advance(10s);
  EXPECT_TRUE(out.take().empty());
}

TEST_F(EngineTest, SilentTargetLosesSynAfterRetries) {
  auto cfg = default_config();
  cfg.max_syn_retransmits = 2;
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  advance(250ms);
  advance(450ms);
  auto sent = out.take();
  EXPECT_EQ(sent.size(), 3u);
  advance(2s);
  EXPECT_EQ(lost(LostReason::kNoSynAck), 1u);
}

// SYNs back off past the data's cap (max_rto), as a client's connect does:
// a target whose listen queue overflows answers once it catches up.
TEST_F(EngineTest, SynRetriesBackOffPastTheDataCapUntilTheirCount) {
  auto cfg = default_config();
  cfg.initial_rto = 200ms;
  cfg.max_rto = 1s;
  cfg.max_syn_retransmits = 6;
  cfg.max_syn_rto = 5s;
  cfg.max_retransmits = 2;  // data only
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  // Retransmissions at 0.2, 0.6, 1.4, 3.0, 6.2 and 11.2 s; given up at 16.2 s.
  std::vector<int> at_ms;
  for (int ms = 1; ms <= 16100; ++ms) {
    advance(1ms);
    for (const auto& p : out.take())
      if (p.pkt.syn()) at_ms.push_back(ms);
  }
  const std::vector<int> want{200, 600, 1400, 3000, 6200, 11200};
  ASSERT_EQ(at_ms.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(at_ms[i], want[i], 10) << i;
  EXPECT_EQ(lost(LostReason::kNoSynAck), 0u);
  advance(200ms);
  EXPECT_EQ(lost(LostReason::kNoSynAck), 1u);
  EXPECT_EQ(c().syn_retransmits, 6u);
}

TEST_F(EngineTest, NoInterceptMeansNoSyn) {
  make();
  reg.up = false;
  capture({.seq = 1000, .flags = S, .mss = 1460});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(lost(LostReason::kNoIntercept), 1u);
}

TEST_F(EngineTest, ReregisterAllAnnouncesLiveSessions) {
  make();
  handshake(1000, 70000);
  reg.registered.clear();
  engine->reregister_all();
  EXPECT_EQ(reg.registered.size(), 1u);
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

// Without a wait (port_wait 0) the new copy moves at once.
TEST_F(EngineTest, PortReusedWhileOldCopyRunsMovesNewCopy) {
  auto cfg = default_config();
  cfg.port_wait = 0s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});
  out.take();
  // Online the connection is over; the client reuses the port at once.
  capture({.seq = 50000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.seq, 50000u);
  EXPECT_NE(sent[0].pkt.sport, kClientPort) << "the new copy must take another port";
  EXPECT_EQ(c().ports_moved, 1u);
  const uint16_t moved = sent[0].pkt.sport;
  ASSERT_EQ(reg.registered.size(), 2u);
  EXPECT_EQ(reg.registered[1].client_port, moved);
  // The old copy still completes: its data is acked and retransmitted no more.
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 10});
  // Replies for the new copy arrive on the moved port.
  reply({.seq = 90000, .ack = 50001, .flags = S | A, .mss = 1460, .dport = moved});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_EQ(sent[0].pkt.ack, 70011u);
  EXPECT_EQ(sent[1].pkt.sport, moved);
  EXPECT_EQ(sent[1].pkt.ack, 90001u);
  // Captured data of the new connection goes to the new copy.
  capture({.seq = 50001, .ack = 1, .flags = A | P, .data = "new"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.sport, moved);
  EXPECT_EQ(sent[0].payload(), "new");
}

// The client reuses the port while the old copy still runs: the new copy
// waits for it, buffering what the client sends, and takes the port once
// the old copy is done, so the target sees the port's connections in turn.
TEST_F(EngineTest, PortReusedWhileOldCopyRunsWaitsForIt) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});
  capture({.seq = 1004, .ack = 9101, .flags = A | FIN});
  out.take();
  capture({.seq = 50000, .flags = S, .ts_val = 2000, .mss = 1460});
  capture({.seq = 50001, .ack = 1, .flags = A, .ts_val = 2001});
  capture({.seq = 50001, .ack = 1, .flags = A | P, .data = "new", .ts_val = 2002});
  EXPECT_TRUE(out.take().empty()) << "nothing of the new copy while the old one holds the port";
  EXPECT_EQ(c().ports_waited, 1u);
  EXPECT_EQ(reg.registered.size(), 1u);
  EXPECT_EQ(engine->active_sessions(), 2u);
  // The old copy finishes: the target answers, takes our FIN, sends its own.
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 100});
  reply({.seq = 70101, .ack = 1005, .flags = A | FIN});
  engine->flush();
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].pkt.flags, A | FIN) << "the held FIN, once the answer came";
  EXPECT_EQ(sent[1].pkt.flags, A);
  EXPECT_EQ(sent[1].pkt.ack, 70102u) << "the target's FIN acked before the port changes hands";
  EXPECT_TRUE(sent[2].pkt.syn());
  EXPECT_EQ(sent[2].pkt.seq, 50000u);
  EXPECT_EQ(sent[2].pkt.sport, kClientPort);
  EXPECT_EQ(sent[2].pkt.options.ts_val, 2002u) << "the newest client timestamp: past the old connection's";
  ASSERT_EQ(reg.unregistered.size(), 1u);
  ASSERT_EQ(reg.registered.size(), 2u);
  EXPECT_EQ(reg.registered[1].client_port, kClientPort);
  EXPECT_EQ(c().ports_moved, 0u);
  EXPECT_EQ(engine->active_sessions(), 1u) << "the old copy gave its port up instead of lingering";
  // The new copy runs with what it buffered.
  reply({.seq = 90000, .ack = 50001, .flags = S | A, .mss = 1460});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[1].payload(), "new");
  EXPECT_EQ(sent[1].pkt.sport, kClientPort);
}

// A copy lost or reset gives its port up as well.
TEST_F(EngineTest, WaitingCopyStartsWhenTheOldOneIsLost) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  capture({.seq = 50000, .flags = S, .mss = 1460});
  EXPECT_TRUE(out.take().empty());
  reply({.seq = 0, .ack = 1001, .flags = R | A});  // the target refuses the old copy
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.seq, 50000u);
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_EQ(lost(LostReason::kTargetRefused), 1u);
}

// The wait is bounded: an old copy that runs on keeps the port, the new one
// moves to the move range.
TEST_F(EngineTest, WaitingCopyMovesWhenTheWaitRunsOut) {
  auto cfg = default_config();
  cfg.port_wait = 1s;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});
  out.take();
  capture({.seq = 50000, .flags = S, .mss = 1460});
  EXPECT_TRUE(out.take().empty());
  reply({.seq = 70001, .ack = 1004, .flags = A});  // the old copy is alive
  advance(900ms);
  out.take();
  EXPECT_EQ(reg.registered.size(), 1u);
  advance(200ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.seq, 50000u);
  EXPECT_TRUE(cfg.move_ports.contains(sent[0].pkt.sport)) << sent[0].pkt.sport;
  EXPECT_EQ(c().ports_moved, 1u);
  ASSERT_EQ(reg.registered.size(), 2u);
  EXPECT_EQ(reg.registered[1].client_port, sent[0].pkt.sport);
}

// Connections reusing a port while its copies still run queue up behind
// them and take the port one after the other, in the order they came.
TEST_F(EngineTest, CopiesQueueForAPortInOrder) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  for (uint32_t isn : {20000u, 30000u, 40000u}) capture({.seq = isn, .flags = S, .mss = 1460});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().ports_waited, 3u);
  EXPECT_EQ(engine->active_sessions(), 4u);
  // Each copy the target refuses hands the port to the next in the queue.
  uint32_t holder_isn = 1000;
  for (uint32_t isn : {20000u, 30000u, 40000u}) {
    reply({.seq = 0, .ack = holder_isn + 1, .flags = R | A});
    const auto sent = out.take();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(sent[0].pkt.syn());
    EXPECT_EQ(sent[0].pkt.seq, isn);
    EXPECT_EQ(sent[0].pkt.sport, kClientPort);
    holder_isn = isn;
  }
  EXPECT_EQ(c().ports_moved, 0u);
}

// A copy that ends while it waits (here: evicted from a full table) leaves
// the queue; the one behind it moves up and takes the port in its turn.
TEST_F(EngineTest, WaiterThatEndsLeavesTheQueue) {
  auto cfg = default_config();
  cfg.max_sessions = 3;
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});  // in flight: not evictable
  capture({.seq = 20000, .flags = S, .mss = 1460});  // queued, nothing buffered: evictable
  capture({.seq = 30000, .flags = S, .mss = 1460});  // queued behind it
  capture({.seq = 30001, .ack = 1, .flags = A | P, .data = "x"});
  out.take();
  // The table is full: a newcomer evicts the idle waiter.
  capture({.seq = 50000, .flags = S, .mss = 1460, .sport = 2});
  out.take();
  EXPECT_EQ(c().sessions_evicted[static_cast<size_t>(EvictReason::kIdle)], 1u);
  reply({.seq = 70001, .ack = 1001, .flags = R | A});  // the holder is reset
  const auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].pkt.rst()) << "the holder's side is reset";
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(sent[1].pkt.seq, 30000u) << "the copy behind the evicted one";
  EXPECT_EQ(sent[1].pkt.sport, kClientPort);
}

// The reply that completes a session and the client's SYN reusing its port
// can come in one turn: the ack of the target's FIN still goes, first.
TEST_F(EngineTest, AckOwedToTargetGoesBeforeThePortIsTakenOver) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req"});
  capture({.seq = 1004, .ack = 9101, .flags = A | FIN});
  reply({.seq = 70001, .ack = 1004, .flags = A | P, .payload_len = 100});
  out.take();
  ASSERT_EQ(engine->active_sessions(), 1u);
  // The target acks our FIN and sends its own; before the turn's flush the
  // client is seen starting a new connection from the same port.
  auto fin = reply_header({.seq = 70101, .ack = 1005, .flags = A | FIN});
  engine->on_reply(fin, now);
  EXPECT_EQ(c().sessions_completed, 1u);
  capture({.seq = 50000, .flags = S, .mss = 1460});
  engine->flush();
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_EQ(sent[0].pkt.ack, 70102u) << "the target's FIN acked, so it leaves the 4-tuple";
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(sent[1].pkt.seq, 50000u);
  EXPECT_EQ(sent[1].pkt.sport, kClientPort) << "the finished session's port is taken as is";
}

TEST_F(EngineTest, PortOfFinishedSessionIsReusedAsIs) {
  make();
  handshake(1000, 70000);
  reply({.seq = 70001, .ack = 1001, .flags = R});
  out.take();
  capture({.seq = 50000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_EQ(c().ports_moved, 0u);
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
  EXPECT_EQ(c().requests_replicated, 1u);
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

TEST_F(EngineTest, BufferCapLosesSessionNotProcess) {
  auto cfg = default_config();
  cfg.buffer_bytes = 4 * SegmentPool::kFootprint;
  make(cfg);
  handshake(1000, 70000, /*target_window=*/0);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = std::string(20000, 'm')});
  EXPECT_EQ(lost(LostReason::kNoBuffer), 1u);
  EXPECT_EQ(engine->buffered_segments(), 0u);
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

TEST_F(EngineTest, LostSynAckHandshakeAckIsRepeated) {
  make();
  handshake(1000, 70000);
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.flags, A);
  EXPECT_EQ(sent[0].pkt.ack, 70001u);
}

TEST_F(EngineTest, Ipv6SessionsWork) {
  EngineConfig cfg = default_config();
  cfg.transfers = TransferMap();
  ASSERT_EQ(TransferMap::parse("80-[2001:db8::2]:8080", cfg.transfers), "");
  make(cfg);
  TcpSegmentSpec s;
  s.src = *IpAddress::parse("2001:db8::1");
  s.dst = *IpAddress::parse("2001:db8::9");
  s.sport = 1234;
  s.dport = 80;
  s.seq = 10;
  s.flags = S;
  s.mss = 1440;
  std::vector<uint8_t> b(200);
  b.resize(build_tcp_packet(s, b));
  engine->on_captured(b, now);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.ip_version, 6);
  EXPECT_EQ(sent[0].pkt.dst.to_string(), "2001:db8::2");
}

TEST_F(EngineTest, CopiesGoOutOnDistinctPorts) {
  auto cfg = default_config();
  cfg.copies = 3;
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_NE(sent[1].pkt.sport, kClientPort);
  EXPECT_NE(sent[2].pkt.sport, sent[1].pkt.sport);
  EXPECT_EQ(reg.registered.size(), 3u);
  // Each copy completes its own handshake and carries the same request.
  for (auto& syn : sent) reply({.seq = 500, .ack = 1001, .flags = S | A, .mss = 1460, .dport = syn.pkt.sport});
  out.take();
  capture({.seq = 1001, .ack = 1, .flags = A | P, .data = "GET /"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 3u);
  for (auto& p : sent) EXPECT_EQ(p.payload(), "GET /");
  EXPECT_EQ(c().requests_replicated, 3u);
}

TEST_F(EngineTest, InstanceOffsetShiftsEvenTheFirstCopy) {
  auto cfg = default_config();
  cfg.instance = 5;
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_NE(sent[0].pkt.sport, kClientPort);
  EXPECT_GE(sent[0].pkt.sport, 1024);
}

TEST_F(EngineTest, CopyClashingWithLiveSessionIsMovedAndCounted) {
  auto cfg = default_config();
  cfg.copies = 2;
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  const uint16_t copy1 = out.take()[1].pkt.sport;
  // A real client whose port equals copy 1's port.
  capture({.seq = 7000, .flags = S, .mss = 1460, .sport = copy1});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].pkt.sport, copy1) << "copy 0 of the new client must not take a live port";
  EXPECT_EQ(c().ports_moved, 1u);
}

TEST_F(EngineTest, PercentageChoosesWholeSessionsDeterministically) {
  auto cfg = default_config();
  cfg.sample_percent = 50;
  cfg.max_sessions = 4096;
  make(cfg);
  std::vector<uint16_t> chosen;
  for (uint16_t port = 2000; port < 3000; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    if (!out.take().empty()) chosen.push_back(port);
  }
  EXPECT_GT(chosen.size(), 420u);
  EXPECT_LT(chosen.size(), 580u);
  // Later packets of an unchosen session never start it mid-stream.
  const uint64_t created = c().sessions_created;
  for (uint16_t port = 2000; port < 3000; ++port)
    capture({.seq = 1001, .ack = 1, .flags = A | P, .data = "x", .sport = port});
  EXPECT_EQ(c().sessions_created, created);
}

TEST_F(EngineTest, RampStartsAtZero) {
  auto cfg = default_config();
  cfg.ramp = 100s;
  cfg.max_sessions = 4096;
  make(cfg);
  int early = 0, late = 0;
  for (uint16_t port = 2000; port < 2200; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    early += out.take().empty() ? 0 : 1;
  }
  now += 200s;
  for (uint16_t port = 3000; port < 3200; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    late += out.take().empty() ? 0 : 1;
  }
  EXPECT_EQ(early, 0);
  EXPECT_EQ(late, 200);
}

TEST_F(EngineTest, ClientAddressRewriteKeepsOriginLookup) {
  auto cfg = default_config();
  ASSERT_EQ(ClientMap::parse("192.0.2.x", cfg.client_map), "");
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.src.to_string(), "192.0.2.2");  // kClient is 10.0.1.2
  EXPECT_EQ(reg.registered[0].client.to_string(), "192.0.2.2");
  reply({.seq = 500, .ack = 1001, .flags = S | A, .mss = 1460, .dst = *IpAddress::parse("192.0.2.2")});
  capture({.seq = 1001, .ack = 1, .flags = A | P, .data = "hi"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].payload(), "hi");
  EXPECT_EQ(sent[1].pkt.src.to_string(), "192.0.2.2");
}

TEST_F(EngineTest, LoopbackClientsNeedALocalAddress) {
  make();
  capture({.seq = 1000, .flags = S, .src = *IpAddress::parse("127.0.0.1")});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(skipped(SkipReason::kLoopbackClient), 1u);
  auto cfg = default_config();
  cfg.local_address = *IpAddress::parse("10.0.1.1");
  make(cfg);
  capture({.seq = 1000, .flags = S, .src = *IpAddress::parse("127.0.0.1")});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.src.to_string(), "10.0.1.1");
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

// The target still holds the 4-tuple in TIME_WAIT and answers our SYN with
// a bare ACK of the old connection: a reset at that ACK's number clears it,
// and the SYN goes again at once, on the same port.
TEST_F(EngineTest, SynAnsweredByTimeWaitAckIsResetAndSentAgain) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  ASSERT_EQ(out.take().size(), 1u);
  reply({.seq = 123456, .ack = 777777, .flags = A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].pkt.rst());
  EXPECT_FALSE(sent[0].pkt.has_ack());
  EXPECT_EQ(sent[0].pkt.seq, 777777u) << "RFC 793: <SEQ=SEG.ACK><CTL=RST>";
  EXPECT_EQ(sent[0].pkt.sport, kClientPort);
  EXPECT_TRUE(sent[1].pkt.syn());
  EXPECT_EQ(sent[1].pkt.seq, 1000u);
  EXPECT_EQ(sent[1].pkt.sport, kClientPort);
  EXPECT_EQ(c().stale_connections, 1u);
  EXPECT_EQ(c().stale_resets, 1u);
  EXPECT_EQ(c().retransmits, 0u) << "not a timer retransmission";
  // The target takes the new SYN.
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].payload(), "GET");
  EXPECT_EQ(sent[1].pkt.sport, kClientPort);
  EXPECT_EQ(c().ports_moved, 0u);
}

// A target that ignores the reset (net.ipv4.tcp_rfc1337=1) answers the
// repeated SYN with the same ACK: the copy moves to a free client port,
// registered with intercept before its SYN goes out.
TEST_F(EngineTest, TimeWaitThatSurvivesTheResetMovesTheCopy) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  reply({.seq = 123456, .ack = 777777, .flags = A});
  out.take();
  reply({.seq = 123456, .ack = 777777, .flags = A});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  const uint16_t moved = sent[0].pkt.sport;
  EXPECT_NE(moved, kClientPort);
  EXPECT_EQ(c().ports_moved, 1u);
  ASSERT_EQ(reg.registered.size(), 2u);
  EXPECT_EQ(reg.registered[1].client_port, moved);
  ASSERT_EQ(reg.unregistered.size(), 1u);
  EXPECT_EQ(reg.unregistered[0].client_port, kClientPort);
  // Replies on the old port reach nothing now; on the new one, the session.
  reply({.seq = 123456, .ack = 777777, .flags = A});
  EXPECT_EQ(c().replies_unknown, 1u);
  reply({.seq = 70000, .ack = 1001, .flags = S | A, .mss = 1460, .dport = moved});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "GET"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].pkt.sport, moved);
  EXPECT_EQ(sent[1].payload(), "GET");
  EXPECT_EQ(sent[1].pkt.sport, moved);
}

// A target that answers every SYN with a bare ACK gets a bounded number of
// resets and moves; then the retransmission timer decides.
TEST_F(EngineTest, StaleAcksAreAnsweredABoundedNumberOfTimes) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  for (int i = 0; i < 20; ++i) {
    const uint16_t port = engine->active_sessions() ? reg.registered.back().client_port : kClientPort;
    reply({.seq = 123456, .ack = 777777, .flags = A, .dport = port});
  }
  EXPECT_EQ(c().stale_resets, 3u);
  EXPECT_EQ(c().ports_moved, 2u);
  EXPECT_EQ(c().stale_connections, 20u);
  out.take();
  for (int i = 0; i < 120; ++i) advance(1s);
  EXPECT_EQ(lost(LostReason::kNoSynAck), 1u);
}

// An ACK that acknowledges our SYN without a SYN flag is no TIME_WAIT: ignored.
TEST_F(EngineTest, AckOfOurSynWithoutSynIsIgnored) {
  make();
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  reply({.seq = 70000, .ack = 1001, .flags = A});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(c().stale_connections, 0u);
}

// The port a moved copy would take is held by a finished session that
// lingers for late packets: the port is taken over, not skipped.
TEST_F(EngineTest, MovedCopyTakesThePortOfALingeringSession) {
  auto cfg = default_config();
  cfg.port_wait = 0s;
  make(cfg);
  const uint16_t kCandidate = default_config().move_ports.lo;  // the rotor's first port
  capture({.seq = 5000, .flags = S, .mss = 1460, .sport = kCandidate});
  reply({.seq = 60000, .ack = 5001, .flags = S | A, .mss = 1460, .dport = kCandidate});
  reply({.seq = 60001, .ack = 5001, .flags = R, .dport = kCandidate});  // over: lingers
  out.take();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});
  out.take();
  capture({.seq = 50000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.sport, kCandidate);
  EXPECT_EQ(c().ports_moved, 1u);
  EXPECT_EQ(lost(LostReason::kNoFreePort), 0u);
}

// Moved copies take the ports of their own range in turn: a port comes round
// again only after the whole range has, and a live session's port is passed.
TEST_F(EngineTest, MovedCopiesTakePortsOfTheMoveRangeInTurn) {
  auto cfg = default_config();
  cfg.move_ports = {.lo = 2000, .hi = 2002};
  cfg.port_wait = 0s;
  make(cfg);
  // A live session on 2001, a client port inside the move range.
  capture({.seq = 9000, .flags = S, .mss = 1460, .sport = 2001});
  out.take();
  std::vector<uint16_t> ports;
  for (uint16_t client = 40000; client < 40004; ++client) {
    capture({.seq = 1000, .flags = S, .mss = 1460, .sport = client});
    out.take();
    // The client reuses the port while the first copy still waits.
    capture({.seq = 5000, .flags = S, .mss = 1460, .sport = client});
    const auto sent = out.take();
    ASSERT_LE(sent.size(), 1u);
    ports.push_back(sent.empty() ? 0 : sent[0].pkt.sport);
  }
  // 2000, 2002 (2001 is live); then every port of the range is live and the
  // copies find none free (0: no SYN went out).
  EXPECT_EQ(ports, (std::vector<uint16_t>{2000, 2002, 0, 0}));
  EXPECT_EQ(c().ports_moved, 2u);
  EXPECT_EQ(lost(LostReason::kNoFreePort), 2u);
}

// A moved copy must not take the port a later client connection arrives on:
// that copy would have to move in turn, and under load the moves cascade.
TEST_F(EngineTest, MovedCopyLeavesTheClientPortRangeAlone) {
  auto cfg = default_config();
  cfg.port_wait = 0s;
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  out.take();
  capture({.seq = 5000, .flags = S, .mss = 1460});  // reused while the first copy waits
  const auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  const uint16_t moved = sent[0].pkt.sport;
  EXPECT_TRUE(default_config().move_ports.contains(moved)) << moved;
  // Connections on the ports the old walk would have chosen keep their own.
  for (uint32_t k = 1; k <= 8; ++k) {
    const auto port = static_cast<uint16_t>(1024 + (kClientPort + k * 4099u) % (65536u - 1024u));
    capture({.seq = 7000, .flags = S, .mss = 1460, .sport = port});
    const auto syn = out.take();
    ASSERT_EQ(syn.size(), 1u);
    EXPECT_EQ(syn[0].pkt.sport, port);
  }
  EXPECT_EQ(c().ports_moved, 1u);
}

}  // namespace
}  // namespace tc::test

// The handshake: SYN options, faked handshakes for sessions joined
// mid-stream, refused or silent targets, stale connections on the 4-tuple.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

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
  EXPECT_EQ(c().requests_replicated, 0u) << "counted once the target acknowledges it";
  // The target answers with data: the engine acks it itself.
  reply({.seq = 70001, .ack = 1019, .flags = A | P, .payload_len = 300, .ts_val = 5100});
  EXPECT_EQ(c().requests_replicated, 1u);
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

}  // namespace
}  // namespace tc::test

// The engine pairs each exchange of a replicated session with the online
// one (copy/compare/exchange_tracker.h): sizes, latencies and first bytes
// on both sides, from synthetic packets and the fake clock.
#include <string>
#include <vector>

#include "copy/compare/exchange_tracker.h"
#include "engine_harness.h"

namespace tc::test {
namespace {

using compare::ExchangeRecord;
using compare::ExchangeTracker;

class RecordingSink : public compare::ExchangeSink {
 public:
  void on_exchange(const ExchangeRecord& r) override { records.push_back(r); }
  std::vector<ExchangeRecord> records;
};

std::string text(const compare::Answer& a) { return std::string(a.prefix.view()); }

const std::string kGetA = "GET /a HTTP/1.1\r\n\r\n";  // 19 bytes
const std::string kGetB = "GET /b HTTP/1.1\r\n\r\n";

std::string answer(const std::string& head, size_t len) {
  std::string s = head;
  s.resize(len, 'x');
  return s;
}

class CompareTest : public EngineTest {
 protected:
  void start(uint32_t capacity = 8) {
    tracker = std::make_unique<ExchangeTracker>(capacity, sink, Duration{0}, 3s);
    tracker->set_protocols(compare::ProtocolChoice::kHttp, {});
    make(default_config(), tracker.get());
  }
  void online(uint32_t seq, uint32_t ack, const std::string& data, size_t keep = 64) {
    auto b = online_answer_packet(seq, ack, data, keep);
    engine->on_online_answer(b, now);
  }
  void step(Duration d) {
    now += d;
    engine->on_tick(now);
  }
  // The client's FIN online and the target's FIN+ACK that closes the copy.
  void close_both(uint32_t client_seq, uint32_t client_ack, uint32_t target_seq) {
    capture({.seq = client_seq, .ack = client_ack, .flags = A | FIN});
    step(2100ms);  // a held FIN goes at the latest after the hold timeout
    reply({.seq = target_seq, .ack = client_seq + 1, .flags = A | FIN});
  }

  RecordingSink sink;
  std::unique_ptr<ExchangeTracker> tracker;
};

TEST_F(CompareTest, KeepAliveExchangesArePairedWithTheirOnlineAnswers) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  ASSERT_EQ(out.take().size(), 1u);  // the request went to the target
  step(5ms);
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  step(5ms);
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 150, .head = "HTTP/1.1 404 Not Found\r\n"});
  step(10ms);
  capture({.seq = 1020, .ack = 9101, .flags = A | P, .data = kGetB});
  step(100ms);  // the target's answer is over: the next request goes
  online(9101, 1039, answer("HTTP/1.1 200 OK\r\n", 100));
  reply({.seq = 70151, .ack = 1039, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  EXPECT_EQ(sink.records.size(), 1u);  // the first exchange is over on both sides
  close_both(1039, 9201, 70251);

  ASSERT_EQ(sink.records.size(), 2u);
  const ExchangeRecord& a = sink.records[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.protocol, compare::Protocol::kHttp);
  EXPECT_EQ(std::string(a.request.view()), kGetA);
  EXPECT_TRUE(a.online.seen);
  EXPECT_EQ(a.online.bytes, 100u);
  EXPECT_DOUBLE_EQ(a.online.ms, 5.0);
  EXPECT_EQ(text(a.online).substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_TRUE(a.target.seen);
  EXPECT_EQ(a.target.bytes, 150u);
  EXPECT_DOUBLE_EQ(a.target.ms, 10.0);
  EXPECT_EQ(text(a.target).substr(0, 22), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(a.origin.client, kClient);
  EXPECT_EQ(a.origin.client_port, kClientPort);

  const ExchangeRecord& b = sink.records[1];
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(std::string(b.request.view()), kGetB);
  EXPECT_EQ(b.online.bytes, 100u);
  EXPECT_EQ(b.target.bytes, 100u);
  EXPECT_GE(b.online.ms, 0.0);
  EXPECT_GE(b.target.ms, 0.0);
  EXPECT_EQ(text(b.target).substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(tracker->counters().exchanges, 2u);
  EXPECT_EQ(tracker->counters().tracks_open, 1u);  // until the closed session stops lingering
  step(2100ms);
  EXPECT_EQ(tracker->counters().tracks_open, 0u);
  EXPECT_EQ(sink.records.size(), 2u);
}

TEST_F(CompareTest, APipelinedBatchIsOneExchange) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  step(1ms);
  capture({.seq = 1020, .ack = 9001, .flags = A | P, .data = kGetB});  // before any answer
  step(1ms);
  online(9001, 1039, answer("HTTP/1.1 200 OK\r\n", 80));
  online(9081, 1039, answer("HTTP/1.1 200 OK\r\n", 80));
  reply({.seq = 70001, .ack = 1039, .flags = A | P, .payload_len = 160, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(1039, 9161, 70161);

  ASSERT_EQ(sink.records.size(), 1u);
  const ExchangeRecord& r = sink.records[0];
  EXPECT_EQ(r.online.bytes, 160u);
  EXPECT_EQ(r.target.bytes, 160u);
  EXPECT_DOUBLE_EQ(r.online.ms, 1.0);  // from the batch's last request byte
  EXPECT_EQ(std::string(r.request.view()).substr(0, 6), "GET /a");
}

TEST_F(CompareTest, AnAnswerSplitOverManyPacketsKeepsItsFirstBytes) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  step(2ms);
  online(9001, 1020, "HTTP/");
  online(9006, 1020, "1.1 200 OK\r\n");
  online(9018, 1020, answer("Content-Length: 82\r\n", 82));
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 3, .head = "HTT"});
  reply({.seq = 70004, .ack = 1020, .flags = A | P, .payload_len = 97, .head = "P/1.1 500 Oops\r\n"});
  close_both(1020, 9100, 70101);

  ASSERT_EQ(sink.records.size(), 1u);
  const ExchangeRecord& r = sink.records[0];
  EXPECT_EQ(text(r.online).substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(r.online.bytes, 99u);
  EXPECT_DOUBLE_EQ(r.online.ms, 2.0);
  EXPECT_EQ(text(r.target).substr(0, 14), "HTTP/1.1 500 O");
  EXPECT_EQ(r.target.bytes, 100u);
}

TEST_F(CompareTest, OutOfOrderRepliesTimeTheAnswerByItsFirstByte) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 150));
  step(3ms);
  reply({.seq = 70101, .ack = 1020, .flags = A | P, .payload_len = 50, .head = "xxxx"});  // the tail first
  step(4ms);
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  reply({.seq = 70101, .ack = 1020, .flags = A | P, .payload_len = 50, .head = "xxxx"});  // the tail again
  close_both(1020, 9151, 70151);

  ASSERT_EQ(sink.records.size(), 1u);
  const ExchangeRecord& r = sink.records[0];
  EXPECT_DOUBLE_EQ(r.target.ms, 7.0);
  EXPECT_EQ(text(r.target).substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(r.target.bytes, 150u);
}

TEST_F(CompareTest, ASessionJoinedMidStreamIsCompared) {
  start();
  capture({.seq = 5001, .ack = 7001, .flags = A | P, .data = kGetA});  // no SYN seen
  auto syn = out.take();
  ASSERT_FALSE(syn.empty());
  ASSERT_TRUE(syn[0].pkt.syn());
  reply({.seq = 30000, .ack = 5001, .flags = S | A, .mss = 1460, .wscale = 7});
  out.take();
  online(7001, 5020, answer("HTTP/1.1 200 OK\r\n", 70));
  reply({.seq = 30001, .ack = 5020, .flags = A | P, .payload_len = 70, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(5020, 7071, 30071);

  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(std::string(sink.records[0].request.view()), kGetA);
  EXPECT_EQ(sink.records[0].online.bytes, 70u);
  EXPECT_EQ(sink.records[0].target.bytes, 70u);
}

TEST_F(CompareTest, ATargetThatNeverAnswersIsSeenSilent) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  reply({.seq = 70001, .ack = 1020, .flags = A});  // acks the request, says nothing
  close_both(1020, 9101, 70001);

  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_TRUE(sink.records[0].online.seen);
  EXPECT_FALSE(sink.records[0].target.seen);
  EXPECT_EQ(sink.records[0].target.bytes, 0u);
  EXPECT_LT(sink.records[0].target.ms, 0.0);
}

TEST_F(CompareTest, AQuietLongLivedConnectionReportsItsLastExchange) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 120, .head = "HTTP/1.1 200 OK\r\n"});
  now += 2s;
  tracker->on_tick(now);
  EXPECT_TRUE(sink.records.empty());
  now += 1500ms;
  tracker->on_tick(now);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].online.bytes, 100u);
  EXPECT_EQ(sink.records[0].target.bytes, 120u);
  // The connection goes on: its next exchange is compared too.
  capture({.seq = 1020, .ack = 9101, .flags = A | P, .data = kGetB});
  step(100ms);
  online(9101, 1039, answer("HTTP/1.1 200 OK\r\n", 100));
  reply({.seq = 70121, .ack = 1039, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(1039, 9201, 70221);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[1].index, 1u);
  EXPECT_EQ(sink.records[1].online.bytes, 100u);
  EXPECT_EQ(sink.records[1].target.bytes, 100u);
}

TEST_F(CompareTest, WithoutTheOnlineAnswersSizesComeFromTheClientsAcks) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(1020, 9101, 70101);
  // The online answer may still come while the session lingers...
  EXPECT_TRUE(sink.records.empty());
  step(2100ms);  // ...and once it is gone, the exchange goes as it is.

  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_TRUE(sink.records[0].online.seen);
  EXPECT_EQ(sink.records[0].online.bytes, 100u);
  EXPECT_LT(sink.records[0].online.ms, 0.0);
  EXPECT_EQ(sink.records[0].online.prefix.len, 0u);
  EXPECT_EQ(tracker->counters().online_first_unseen, 1u);
}

TEST_F(CompareTest, SessionsBeyondTheTableAreCountedNotCompared) {
  start(1);
  handshake();
  capture({.seq = 500, .flags = S, .window = 64240, .mss = 1460, .wscale = 7, .sport = 40001});
  EXPECT_EQ(tracker->counters().sessions, 1u);
  EXPECT_EQ(tracker->counters().not_compared[static_cast<size_t>(compare::NotComparedReason::kNoTrack)], 1u);
  EXPECT_EQ(c().sessions_created, 2u);  // replicated all the same
}

TEST_F(CompareTest, OnlyTheFirstCopyIsCompared) {
  EngineConfig cfg = default_config();
  cfg.copies = 3;
  tracker = std::make_unique<ExchangeTracker>(8, sink, Duration{0}, 3s);
  make(cfg, tracker.get());
  capture({.seq = 1000, .flags = S, .window = 64240, .mss = 1460, .wscale = 7});
  EXPECT_EQ(c().sessions_created, 3u);
  EXPECT_EQ(tracker->counters().sessions, 1u);
}

TEST_F(CompareTest, AnswersForNoSessionAndBrokenAnswersAreCounted) {
  start();
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  EXPECT_EQ(tracker->counters().online_unmatched, 1u);
  const std::vector<uint8_t> junk = {0x45, 0, 0, 10, 1, 2};
  engine->on_online_answer(junk, now);
  EXPECT_EQ(c().malformed_answers, 1u);
}

TEST_F(CompareTest, AResetTargetIsMarked) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  reply({.seq = 70001, .ack = 1020, .flags = R | A});
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_TRUE(sink.records[0].target.reset);
  EXPECT_FALSE(sink.records[0].online.reset);
}

TEST_F(CompareTest, AnOnlineAnswerCapturedAfterTheClientsFinStillCounts) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  step(3ms);
  close_both(1020, 9101, 70101);  // the answer capture is behind the request capture
  EXPECT_TRUE(sink.records.empty());
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(text(sink.records[0].online).substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_GE(sink.records[0].online.ms, 0.0);
  EXPECT_EQ(tracker->counters().online_first_unseen, 0u);
}

TEST_F(CompareTest, AnOnlineAnswerCapturedBeforeItsRequestIsKeptForIt) {
  start();
  handshake();
  step(1ms);
  online(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100));  // the answer capture is ahead
  EXPECT_EQ(tracker->counters().online_early, 1u);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(1020, 9101, 70101);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(text(sink.records[0].online).substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_DOUBLE_EQ(sink.records[0].online.ms, 0.0);  // no later than the request: as good as at once
  EXPECT_EQ(tracker->counters().online_first_unseen, 0u);
}

TEST_F(CompareTest, ACaptureOfBothDirectionsFeedsTheComparison) {
  start();
  handshake();
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kGetA});
  step(4ms);
  auto b = online_answer_packet(9001, 1020, answer("HTTP/1.1 200 OK\r\n", 100), 100);
  engine->on_captured(b, now);  // e.g. -i or a capture file: both directions
  reply({.seq = 70001, .ack = 1020, .flags = A | P, .payload_len = 100, .head = "HTTP/1.1 200 OK\r\n"});
  close_both(1020, 9101, 70101);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_DOUBLE_EQ(sink.records[0].online.ms, 4.0);
  EXPECT_EQ(c().skipped[static_cast<size_t>(SkipReason::kNotTransfer)], 0u);
}

}  // namespace
}  // namespace tc::test

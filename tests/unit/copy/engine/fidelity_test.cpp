// A target whose answers differ in length from the online server's: every
// request and the client's FIN reach it only after its answer to the
// previous request ended, so no request is pipelined onto an answer the
// target is still sending and no answer is cut by the FIN. A keep-alive
// client of 8 requests, then FIN, answered online with 240 bytes each.
#include <gtest/gtest.h>

#include <string>

#include "engine_harness.h"

namespace tc::test {
namespace {

constexpr uint32_t kIsn = 1000;
constexpr uint32_t kTargetIsn = 70000;
constexpr uint32_t kRequestLen = 10;
constexpr uint32_t kOnlineAnswer = 240;
constexpr int kRequests = 8;
constexpr uint32_t kMss = 1448;

// The target's side: acknowledges what the engine sends at once, answers
// the requests one after the other with `answer` bytes each, one packet of
// at most kMss bytes per millisecond, and closes after the client's FIN
// once everything before it is answered (as nginx with keep-alive does).
struct FakeTarget {
  uint32_t answer = 0;
  uint32_t packet = kMss;         // largest packet of an answer
  uint32_t rcv_nxt = kIsn + 1;    // next client byte expected
  uint32_t snd_nxt = kTargetIsn + 1;
  uint32_t left = 0;              // bytes of the answer in progress still to send
  int pending = 0;                // requests received, not yet being answered
  int received = 0;
  int answered = 0;
  int pipelined = 0;              // requests that came while an answer was unfinished
  bool fin_received = false;
  bool fin_inside_answer = false; // the FIN came while answers were unfinished
  bool fin_sent = false;
  bool busy() const { return left > 0 || pending > 0; }
};

class FidelityTest : public EngineTest {
 protected:
  void SetUp() override {
    auto cfg = default_config();
    cfg.answer_quiet = 50ms;
    cfg.hold_timeout = 2s;
    make(cfg);
    handshake(kIsn, kTargetIsn);
  }

  // The client's requests and FIN as captured: online answered each request
  // with kOnlineAnswer bytes before the client sent the next one.
  void capture_session() {
    for (int k = 0; k < kRequests; ++k) {
      std::string req = "GET /x?r=" + std::to_string(k);
      req.resize(kRequestLen, ' ');
      capture({.seq = kIsn + 1 + kRequestLen * k, .ack = 9001 + kOnlineAnswer * k, .flags = A | P, .data = req});
    }
    capture({.seq = kIsn + 1 + kRequestLen * kRequests, .ack = 9001 + kOnlineAnswer * kRequests, .flags = A | FIN});
  }

  // What the engine sent reaches the target, which acknowledges it.
  void deliver() {
    for (const Sent& p : out.take()) {
      bool fresh = false;
      if (p.pkt.payload_len > 0 && p.pkt.seq == t.rcv_nxt) {
        ASSERT_EQ(p.pkt.payload_len % kRequestLen, 0u) << "a request split over packets";
        const int n = static_cast<int>(p.pkt.payload_len / kRequestLen);
        if (t.busy()) t.pipelined += n;
        t.received += n;
        t.pending += n;
        t.rcv_nxt += p.pkt.payload_len;
        fresh = true;
      }
      if (p.pkt.fin() && p.pkt.seq + p.pkt.payload_len == t.rcv_nxt && !t.fin_received) {
        t.fin_received = true;
        t.fin_inside_answer = t.busy();
        t.rcv_nxt += 1;
        fresh = true;
      }
      if (fresh) reply({.seq = t.snd_nxt, .ack = t.rcv_nxt, .flags = A});
    }
  }

  // One millisecond of the target: the next packet of its answer, or its FIN.
  void target_step() {
    if (t.left == 0 && t.pending > 0) {
      --t.pending;
      t.left = t.answer;
    }
    if (t.left > 0) {
      const uint32_t n = std::min(t.left, t.packet);
      reply({.seq = t.snd_nxt, .ack = t.rcv_nxt, .flags = A | P, .payload_len = n});
      t.snd_nxt += n;
      t.left -= n;
      if (t.left == 0) {
        ++t.answered;
        last_answer_end = now;
      }
    } else if (t.fin_received && !t.fin_sent) {
      reply({.seq = t.snd_nxt, .ack = t.rcv_nxt, .flags = A | FIN});
      t.snd_nxt += 1;
      t.fin_sent = true;
    }
  }

  // Runs the session until the target closed (at most 10 s).
  void run(uint32_t answer) {
    t.answer = answer;
    capture_session();
    for (int ms = 0; ms < 10000 && !t.fin_sent; ++ms) {
      deliver();
      target_step();
      deliver();
      advance(1ms);
    }
    deliver();
    ASSERT_TRUE(t.fin_sent) << "the session did not end: received " << t.received << ", answered " << t.answered;
  }

  void expect_faithful() {
    EXPECT_EQ(t.received, kRequests);
    EXPECT_EQ(t.answered, kRequests);
    EXPECT_EQ(t.pipelined, 0) << "requests sent while the target was still answering";
    EXPECT_FALSE(t.fin_inside_answer) << "the FIN cut an answer";
    EXPECT_EQ(c().requests_replicated, static_cast<uint64_t>(kRequests));
    EXPECT_EQ(c().sessions_completed, 1u);
  }

  FakeTarget t;
  TimePoint last_answer_end{};
};

TEST_F(FidelityTest, LargerAnswersEndBeforeTheNextRequestAndTheFin) {
  run(20480 + 200);  // 15 packets per answer
  expect_faithful();
  EXPECT_EQ(c().hold_timeouts, 0u);
  // Each answer ended on quiet: about 50 ms per request and the FIN.
  EXPECT_LT(now - last_answer_end, 200ms);
}

TEST_F(FidelityTest, SmallerAnswersEndOnQuiet) {
  run(100);
  expect_faithful();
  // The FIN waits for online's total or the hold timeout: the answers
  // were all shorter.
  EXPECT_EQ(c().hold_timeouts, 1u);
}

TEST_F(FidelityTest, EqualAnswersReleaseAtOnce) {
  const TimePoint start = now;
  run(kOnlineAnswer);
  expect_faithful();
  EXPECT_EQ(c().hold_timeouts, 0u);
  // No quiet waited for: one millisecond per answer packet and a few for
  // the FIN's round trip.
  EXPECT_LT(now - start, 20ms);
}

TEST_F(FidelityTest, EqualAnswersInSmallPacketsReleaseAtOnce) {
  // 240 bytes in packets of 100: only the last packet boundary matches
  // online's count.
  const TimePoint start = now;
  t.packet = 100;
  run(kOnlineAnswer);
  expect_faithful();
  EXPECT_EQ(c().hold_timeouts, 0u);
  EXPECT_LT(now - start, 40ms);
}

}  // namespace
}  // namespace tc::test

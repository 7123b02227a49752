// Client ports: copies that queue for a port the client reused online,
// and copies moved to the move range.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "engine_harness.h"

namespace tc::test {
namespace {

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
  for (auto& p : sent) reply({.seq = 501, .ack = 1006, .flags = A, .dport = p.pkt.sport});
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

// --workers: every port a worker gives a copy hashes to the worker of the
// client's own port, so no other worker can ever use that connection.
TEST_F(EngineTest, AWorkersCopiesStayOnItsPorts) {
  for (const int w : {2, 3, 8}) {
    const auto workers = static_cast<uint16_t>(w);
    auto cfg = default_config();
    cfg.copies = 5;
    cfg.instance = 3;
    cfg.shard = {.index = FlowShard::worker_of(kClientPort, workers), .count = workers};
    make(cfg);
    capture({.seq = 1000, .flags = S, .mss = 1460});
    auto sent = out.take();
    ASSERT_EQ(sent.size(), 5u);
    std::set<uint16_t> ports;
    for (const auto& p : sent) {
      EXPECT_EQ(FlowShard::worker_of(p.pkt.sport, workers), cfg.shard.index) << p.pkt.sport << " of " << workers;
      EXPECT_GE(p.pkt.sport, 1024);
      ports.insert(p.pkt.sport);
    }
    EXPECT_EQ(ports.size(), 5u) << "copies on distinct ports";
  }
}

TEST_F(EngineTest, AWorkersMovedCopyStaysOnItsPorts) {
  auto cfg = default_config();
  cfg.port_wait = 0s;
  cfg.move_ports = {.lo = 2000, .hi = 2100};
  cfg.shard = {.index = FlowShard::worker_of(kClientPort, 3), .count = 3};
  // The rotor's first ports that are another worker's are passed over.
  uint16_t first_own = 2000;
  while (FlowShard::worker_of(first_own, 3) != cfg.shard.index) ++first_own;
  ASSERT_GT(first_own, 2000);
  make(cfg);
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "old"});
  out.take();
  capture({.seq = 50000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(sent[0].pkt.syn());
  EXPECT_EQ(sent[0].pkt.sport, first_own);
  EXPECT_EQ(c().ports_moved, 1u);
}

TEST(FlowShard, AlignFindsAPortOfTheSameWorker) {
  for (const int nn : {2, 3, 7, 8, 16}) {
    const auto n = static_cast<uint16_t>(nn);
    for (const uint32_t port : {0u, 1u, 1023u, 1024u, 1025u, 40000u, 65534u, 65535u}) {
      for (const int l : {0, 1, 2, 5, 6, 65535}) {
        const auto like = static_cast<uint16_t>(l);
        const uint16_t a = FlowShard::align(static_cast<uint16_t>(port), like, n);
        EXPECT_EQ(FlowShard::worker_of(a, n), FlowShard::worker_of(like, n)) << port << " like " << like << " of " << n;
        EXPECT_GE(a, 1024) << port;
      }
    }
  }
  EXPECT_EQ(FlowShard::align(40001, 7, 1), 40001);
}

// Linux hands out even ports to connect(): the workers must share those too.
TEST(FlowShard, EvenPortsAloneReachEveryWorker) {
  for (const int nn : {2, 3, 4, 8, 16}) {
    const auto n = static_cast<uint16_t>(nn);
    std::vector<unsigned> per(n);
    for (uint32_t port = 32768; port < 60999; port += 2) ++per[FlowShard::worker_of(static_cast<uint16_t>(port), n)];
    const unsigned fair = (60999 - 32768) / 2 / n;
    for (uint16_t w = 0; w < n; ++w) {
      EXPECT_GT(per[w], fair * 9 / 10) << "worker " << w << " of " << n;
      EXPECT_LT(per[w], fair * 11 / 10) << "worker " << w << " of " << n;
    }
  }
  EXPECT_TRUE((FlowShard{.index = 0, .count = 1}).owns(40000));
}

}  // namespace
}  // namespace tc::test

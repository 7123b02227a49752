// --workers with captures the kernel cannot share out: each worker keeps
// the packets of its own client ports.
#include "copy/capture/shard_filter.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"

namespace tc {
namespace {

std::vector<uint8_t> packet(uint16_t sport, uint16_t dport) {
  TcpSegmentSpec s;
  s.src = *IpAddress::parse("10.0.0.1");
  s.dst = *IpAddress::parse("10.0.0.2");
  s.sport = sport;
  s.dport = dport;
  s.seq = 1;
  s.flags = tcpflag::kAck;
  s.window = 100;
  std::vector<uint8_t> out(128);
  out.resize(build_tcp_packet(s, out));
  return out;
}

struct Count final : PacketHandler {
  void on_packet(std::span<const uint8_t>) override { ++n; }
  int n = 0;
};

TEST(ShardFilter, EachWorkerKeepsItsOwnClientPorts) {
  constexpr uint16_t kWorkers = 3;
  ShardStats stats;
  Count got[kWorkers];
  std::vector<ShardFilter> filters;
  for (uint16_t i = 0; i < kWorkers; ++i)
    filters.emplace_back(got[i], FlowShard{.index = i, .count = kWorkers}, ClientPort::kSource, stats);
  int per_worker[kWorkers] = {};
  for (uint16_t port = 40000; port < 40100; ++port) {
    ++per_worker[FlowShard::worker_of(port, kWorkers)];
    const auto p = packet(port, 80);
    for (auto& f : filters) f.on_packet(p);
  }
  for (uint16_t i = 0; i < kWorkers; ++i) EXPECT_EQ(got[i].n, per_worker[i]) << "worker " << i;
  EXPECT_EQ(stats.others, 100u * (kWorkers - 1));
}

TEST(ShardFilter, RepliesAndAnswersGoByTheirDestinationPort) {
  const FlowShard shard{.index = FlowShard::worker_of(40001, 2), .count = 2};
  EXPECT_TRUE(shard_keeps(shard, packet(80, 40001), ClientPort::kDestination));
  // The other direction's packet goes by its destination, port 80.
  EXPECT_EQ(shard_keeps(shard, packet(40001, 80), ClientPort::kDestination), FlowShard::worker_of(80, 2) == shard.index);
  EXPECT_TRUE(shard_keeps(FlowShard{}, packet(1, 2), ClientPort::kSource)) << "one worker keeps everything";
}

TEST(ShardFilter, AnUnreadablePacketIsTheFirstWorkers) {
  const std::vector<uint8_t> junk = {0x45, 0, 0};
  EXPECT_TRUE(shard_keeps(FlowShard{.index = 0, .count = 2}, junk, ClientPort::kSource));
  EXPECT_FALSE(shard_keeps(FlowShard{.index = 1, .count = 2}, junk, ClientPort::kSource));
}

}  // namespace
}  // namespace tc

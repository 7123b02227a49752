// --workers, for the captures the kernel cannot share out among the
// workers (raw sockets where the packet ring is refused, libpcap with -i,
// the answers' own socket, architecture 1's reply capture): each worker
// reads every packet and keeps the connections of its own client ports
// (see FlowShard). The packet ring needs none of this: its fanout group
// hands each worker its share.
#pragma once

#include <cstdint>
#include <span>

#include "common/counters.h"
#include "common/flow_shard.h"
#include "copy/capture/capture_source.h"

namespace tc {

// Which TCP port of a packet is the client's: the source port of a request,
// the destination port of an online answer or of a target's reply.
enum class ClientPort : uint8_t { kSource, kDestination };

// Whether `packet` (from the IP header) is `shard`'s. A packet whose ports
// cannot be read is worker 0's, so it is counted once, where the engine
// counts what is wrong with it.
bool shard_keeps(const FlowShard& shard, std::span<const uint8_t> packet, ClientPort side);

#define TC_SHARD_COUNTERS(COUNTER, GAUGE, REASONS)                                                     \
  COUNTER(others, "capture_other_workers", "",                                                       \
          "Packets a worker read and left to another (--workers with a capture the kernel cannot share " \
          "out: raw sockets, libpcap, architecture 1's replies); summed over the workers")

struct ShardStats {
  TC_COUNTER_FIELDS(TC_SHARD_COUNTERS)

  void report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_SHARD_COUNTERS, sink); }
};

// Hands `next` the packets of this worker's connections only.
class ShardFilter final : public PacketHandler {
 public:
  ShardFilter(PacketHandler& next, FlowShard shard, ClientPort side, ShardStats& stats)
      : next_(next), shard_(shard), side_(side), stats_(stats) {}

  void on_packet(std::span<const uint8_t> packet) override {
    if (shard_keeps(shard_, packet, side_)) next_.on_packet(packet);
    else ++stats_.others;
  }
  void on_capture_end() override { next_.on_capture_end(); }

 private:
  PacketHandler& next_;
  FlowShard shard_;
  ClientPort side_;
  ShardStats& stats_;
};

}  // namespace tc

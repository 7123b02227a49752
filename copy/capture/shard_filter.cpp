#include "copy/capture/shard_filter.h"

#include "common/tcp_packet.h"

namespace tc {

bool shard_keeps(const FlowShard& shard, std::span<const uint8_t> packet, ClientPort side) {
  if (!shard.sharded()) return true;
  TcpPacket pkt;
  if (TcpPacket::parse(packet, pkt, Extent::kHeadersOnly) != ParseError::kNone) return shard.index == 0;
  return shard.owns(side == ClientPort::kSource ? pkt.sport : pkt.dport);
}

}  // namespace tc

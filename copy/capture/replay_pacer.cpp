#include "copy/capture/replay_pacer.h"

#include "common/tcp_packet.h"

namespace tc {

namespace {

constexpr uint8_t kOptEnd = 0;
constexpr uint8_t kOptNop = 1;
constexpr uint8_t kOptTimestamp = 8;
constexpr uint8_t kTimestampLength = 10;

uint32_t read_be32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

void add_be32(std::span<uint8_t> b, size_t at, uint32_t delta) {
  const uint32_t v = read_be32(b, at) + delta;
  for (size_t i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

}  // namespace

bool shift_client_packet(std::span<uint8_t> ip, uint32_t delta) {
  TcpPacket pkt;
  if (TcpPacket::parse(ip, pkt, Extent::kHeadersOnly) != ParseError::kNone) return false;
  // The parser checked that the whole TCP header, options included, is in
  // `ip` and that the options are well formed.
  const size_t tcp = pkt.ip_header_len;
  const size_t end = tcp + pkt.tcp_header_len;
  if (end > ip.size()) return false;
  add_be32(ip, tcp + 4, delta);  // sequence number
  for (size_t at = tcp + 20; at < end;) {
    const uint8_t kind = ip[at];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++at;
      continue;
    }
    if (at + 1 >= end) break;
    const uint8_t len = ip[at + 1];
    if (len < 2 || at + len > end) break;
    if (kind == kOptTimestamp && len == kTimestampLength) add_be32(ip, at + 2, delta);  // TSval
    at += len;
  }
  return true;
}

}  // namespace tc

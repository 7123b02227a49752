// Writes a complete IP + TCP packet (headers, options, payload, checksums).
// Outgoing packets are always rebuilt, never patched: options that refer to
// the online server's sequence space (SACK blocks) must not leak through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ip_address.h"

namespace tc {

struct TcpSegmentSpec {
  IpAddress src;
  IpAddress dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t mss = 0;        // 0: no MSS option
  int8_t wscale = -1;      // -1: no window scale option
  bool sack_permitted = false;
  bool timestamp = false;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  std::span<const uint8_t> payload;
};

// Largest header build_tcp_packet writes: IPv6 (40) + TCP with options (40).
inline constexpr size_t kMaxBuiltHeader = 80;

// Returns the packet length, or 0 if `out` is too small.
size_t build_tcp_packet(const TcpSegmentSpec& spec, std::span<uint8_t> out);

}  // namespace tc

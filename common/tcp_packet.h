// Validated view of an IP (v4 or v6) + TCP packet. Validate-then-construct:
// TcpPacket::parse either fills a complete view or names what is wrong, and
// the caller counts that reason and skips the packet.
#pragma once

#include <cstdint>
#include <span>

#include "common/ip_address.h"

namespace tc {

enum class ParseError : uint8_t {
  kNone = 0,
  kTruncated,        // fewer bytes than a header needs
  kBadVersion,       // IP version is neither 4 nor 6
  kBadIhl,           // IPv4 header length < 20 or beyond the packet
  kBadTotalLength,   // IP length shorter than its headers, or longer than captured
  kNotTcp,           // another transport protocol
  kFragment,         // an IP fragment (only whole packets are replayed)
  kBadDataOffset,    // TCP data offset < 5 or beyond the packet
  kBadOptions,       // a TCP option runs past the header or has a bad length
  kBadExtHeader,     // malformed IPv6 extension header chain
  kMappedAddress,    // IPv6 with an IPv4-mapped address (RFC 4291 2.5.5.2: never on the wire)
  kDuplicateOption,  // MSS, window scale, SACK-permitted or timestamp twice in one header
  kCount
};

const char* to_string(ParseError e);

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcpflag

// Whether a flag combination can occur in a real TCP connection: SYN alone
// or with ACK, RST alone or with ACK, and otherwise ACK (with FIN, URG).
// PSH, ECE and CWR do not matter. SYN+FIN, SYN+RST, FIN+RST, no flags,
// all flags and FIN or data without ACK are not. The same set as Linux
// conntrack's table of valid TCP flags.
bool valid_tcp_flags(uint8_t flags);

struct TcpOptions {
  uint16_t mss = 0;          // 0: absent
  int8_t wscale = -1;        // -1: absent
  bool sack_permitted = false;
  bool has_timestamp = false;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
};

// How much of the packet the buffer must hold.
enum class Extent : uint8_t {
  kWholePacket,  // captured packets: the IP length must fit in the buffer
  kHeadersOnly,  // reply headers: payload may be cut off; its length comes from the IP header
};

struct TcpPacket {
  uint8_t ip_version = 0;
  IpAddress src;
  IpAddress dst;
  uint8_t ttl = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  TcpOptions options;
  uint16_t ip_header_len = 0;   // including IPv6 extension headers
  uint16_t tcp_header_len = 0;
  uint32_t payload_len = 0;     // from the IP length field
  std::span<const uint8_t> payload;       // the payload bytes present in the buffer
  std::span<const uint8_t> headers;       // IP + TCP headers as captured

  bool syn() const { return flags & tcpflag::kSyn; }
  bool fin() const { return flags & tcpflag::kFin; }
  bool rst() const { return flags & tcpflag::kRst; }
  bool has_ack() const { return flags & tcpflag::kAck; }

  static ParseError parse(std::span<const uint8_t> data, TcpPacket& out,
                          Extent extent = Extent::kWholePacket);
};

// Sequence-space comparisons (RFC 1982 serial arithmetic).
inline bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
inline bool seq_gt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
inline bool seq_ge(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) >= 0; }

}  // namespace tc

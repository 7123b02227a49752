#include "common/tcp_packet.h"

#include "common/byte_reader.h"

namespace tc {

const char* to_string(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "ok";
    case ParseError::kTruncated: return "truncated";
    case ParseError::kBadVersion: return "bad_ip_version";
    case ParseError::kBadIhl: return "bad_ihl";
    case ParseError::kBadTotalLength: return "bad_total_length";
    case ParseError::kNotTcp: return "not_tcp";
    case ParseError::kFragment: return "fragment";
    case ParseError::kBadDataOffset: return "bad_data_offset";
    case ParseError::kBadOptions: return "bad_tcp_options";
    case ParseError::kBadExtHeader: return "bad_ipv6_ext_header";
    case ParseError::kMappedAddress: return "ipv4_mapped_ipv6_address";
    case ParseError::kDuplicateOption: return "duplicate_tcp_option";
    case ParseError::kCount: break;
  }
  return "unknown";
}

bool valid_tcp_flags(uint8_t flags) {
  using namespace tcpflag;
  const uint8_t f = flags & static_cast<uint8_t>(~(kPsh | kEce | kCwr));
  switch (f) {
    case kSyn:
    case kSyn | kUrg:
    case kSyn | kAck:
    case kRst:
    case kRst | kAck:
    case kFin | kAck:
    case kFin | kAck | kUrg:
    case kAck:
    case kAck | kUrg: return true;
    default: return false;
  }
}

namespace {

constexpr uint8_t kProtoTcp = 6;

ParseError parse_options(std::span<const uint8_t> opts, TcpOptions& out) {
  ByteReader r(opts);
  // The options read here may each appear once (RFC 9293 3.2 and RFC 7323);
  // a second copy makes the header malformed rather than letting the last
  // one win, since a replay would otherwise differ from what the target of
  // the original connection understood.
  uint32_t seen = 0;
  while (!r.empty()) {
    uint8_t kind = 0;
    r.u8(kind);
    if (kind == 0) break;      // end of option list
    if (kind == 1) continue;   // no-op
    uint8_t len = 0;
    if (!r.u8(len) || len < 2) return ParseError::kBadOptions;
    auto body = r.take(len - 2u);
    if (!body) return ParseError::kBadOptions;
    ByteReader b(*body);
    if (kind == 2 || kind == 3 || kind == 4 || kind == 8) {
      const uint32_t bit = 1u << kind;
      if (seen & bit) return ParseError::kDuplicateOption;
      seen |= bit;
    }
    switch (kind) {
      case 2:
        if (len != 4) return ParseError::kBadOptions;
        b.be16(out.mss);
        break;
      case 3: {
        if (len != 3) return ParseError::kBadOptions;
        uint8_t ws = 0;
        b.u8(ws);
        out.wscale = static_cast<int8_t>(ws > 14 ? 14 : ws);  // RFC 7323: clamp to 14
        break;
      }
      case 4:
        if (len != 2) return ParseError::kBadOptions;
        out.sack_permitted = true;
        break;
      case 8:
        if (len != 10) return ParseError::kBadOptions;
        b.be32(out.ts_val);
        b.be32(out.ts_ecr);
        out.has_timestamp = true;
        break;
      default:
        break;  // other options (SACK blocks, MD5, ...) are not needed
    }
  }
  return ParseError::kNone;
}

// Parses the TCP header at `r`, which holds exactly the IP payload bytes that
// are present; `ip_payload_len` is the length the IP header declares.
ParseError parse_tcp(ByteReader& r, uint32_t ip_payload_len, TcpPacket& out) {
  uint8_t off_byte = 0;
  uint16_t window = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  if (r.remaining() < 20) return ParseError::kTruncated;
  r.be16(out.sport);
  r.be16(out.dport);
  r.be32(seq);
  r.be32(ack);
  r.u8(off_byte);
  r.u8(flags);
  r.be16(window);
  r.skip(4);  // checksum, urgent pointer
  const uint16_t doff = static_cast<uint16_t>((off_byte >> 4) * 4);
  if (doff < 20 || doff > ip_payload_len) return ParseError::kBadDataOffset;
  auto opts = r.take(doff - 20u);
  if (!opts) return ParseError::kBadDataOffset;
  out.seq = seq;
  out.ack = ack;
  out.flags = flags;
  out.window = window;
  out.tcp_header_len = doff;
  out.options = TcpOptions{};
  if (ParseError e = parse_options(*opts, out.options); e != ParseError::kNone) return e;
  out.payload_len = ip_payload_len - doff;
  auto present = r.rest();
  out.payload = present.first(present.size() < out.payload_len ? present.size() : out.payload_len);
  return ParseError::kNone;
}

ParseError parse_v4(std::span<const uint8_t> data, TcpPacket& out, Extent extent) {
  ByteReader r(data);
  uint8_t vihl = 0, tos = 0, ttl = 0, proto = 0;
  uint16_t total = 0, id = 0, frag = 0, csum = 0;
  if (data.size() < 20) return ParseError::kTruncated;
  r.u8(vihl);
  r.u8(tos);
  r.be16(total);
  r.be16(id);
  r.be16(frag);
  r.u8(ttl);
  r.u8(proto);
  r.be16(csum);
  const uint16_t ihl = static_cast<uint16_t>((vihl & 0x0f) * 4);
  if (ihl < 20 || ihl > data.size()) return ParseError::kBadIhl;
  if (total < ihl) return ParseError::kBadTotalLength;
  if (extent == Extent::kWholePacket && total > data.size()) return ParseError::kBadTotalLength;
  if (proto != kProtoTcp) return ParseError::kNotTcp;
  if ((frag & 0x3fff) != 0) return ParseError::kFragment;  // MF set or offset != 0
  auto src = r.take(4);
  auto dst = r.take(4);
  out.src = IpAddress::from_v4(src->first<4>());
  out.dst = IpAddress::from_v4(dst->first<4>());
  out.ttl = ttl;
  out.ip_version = 4;
  out.ip_header_len = ihl;
  ByteReader body(data.subspan(ihl, (total < data.size() ? total : data.size()) - ihl));
  ParseError e = parse_tcp(body, total - ihl, out);
  if (e != ParseError::kNone) return e;
  out.headers = data.first(ihl + out.tcp_header_len);
  return ParseError::kNone;
}

ParseError parse_v6(std::span<const uint8_t> data, TcpPacket& out, Extent extent) {
  ByteReader r(data);
  if (data.size() < 40) return ParseError::kTruncated;
  uint32_t first = 0;
  uint16_t plen = 0;
  uint8_t next = 0, hop = 0;
  r.be32(first);
  r.be16(plen);
  r.u8(next);
  r.u8(hop);
  out.src = IpAddress::from_v6(r.take(16)->first<16>());
  out.dst = IpAddress::from_v6(r.take(16)->first<16>());
  // IpAddress stores IPv4 as IPv4-mapped IPv6: such an address in a real
  // IPv6 header would pass for IPv4 everywhere after this point.
  if (out.src.is_v4() || out.dst.is_v4()) return ParseError::kMappedAddress;
  if (extent == Extent::kWholePacket && 40u + plen > data.size()) return ParseError::kBadTotalLength;
  // Walk the extension header chain: hop-by-hop, routing, destination options.
  uint32_t hdr_len = 40;
  for (int guard = 0; guard < 8; ++guard) {
    if (next == kProtoTcp) break;
    if (next == 44) return ParseError::kFragment;
    if (next != 0 && next != 43 && next != 60) return ParseError::kNotTcp;
    uint8_t nh = 0, len8 = 0;
    if (!r.u8(nh) || !r.u8(len8)) return ParseError::kBadExtHeader;
    const uint32_t ext = (uint32_t{len8} + 1) * 8;
    if (!r.skip(ext - 2)) return ParseError::kBadExtHeader;
    hdr_len += ext;
    next = nh;
  }
  if (next != kProtoTcp) return ParseError::kBadExtHeader;
  if (hdr_len > 40u + plen) return ParseError::kBadTotalLength;
  out.ip_version = 6;
  out.ttl = hop;
  out.ip_header_len = static_cast<uint16_t>(hdr_len);
  const size_t avail = data.size() < 40u + plen ? data.size() : 40u + plen;
  ByteReader body(data.subspan(hdr_len, avail - hdr_len));
  ParseError e = parse_tcp(body, 40u + plen - hdr_len, out);
  if (e != ParseError::kNone) return e;
  out.headers = data.first(hdr_len + out.tcp_header_len);
  return ParseError::kNone;
}

}  // namespace

ParseError TcpPacket::parse(std::span<const uint8_t> data, TcpPacket& out, Extent extent) {
  if (data.empty()) return ParseError::kTruncated;
  switch (data[0] >> 4) {
    case 4: return parse_v4(data, out, extent);
    case 6: return parse_v6(data, out, extent);
    default: return ParseError::kBadVersion;
  }
}

}  // namespace tc

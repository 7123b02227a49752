#include "common/tcp_builder.h"

#include "common/byte_reader.h"
#include "common/checksum.h"

namespace tc {

size_t build_tcp_packet(const TcpSegmentSpec& s, std::span<uint8_t> out) {
  size_t opt_len = 0;
  if (s.mss) opt_len += 4;
  if (s.wscale >= 0) opt_len += 4;     // NOP + WS(3)
  if (s.sack_permitted) opt_len += 4;  // NOP NOP + SACK-permitted(2)
  if (s.timestamp) opt_len += 12;      // NOP NOP + TS(10)
  const size_t tcp_len = 20 + opt_len + s.payload.size();
  const bool v4 = s.src.is_v4();
  const size_t ip_len = v4 ? 20 : 40;
  if (ip_len + tcp_len > out.size() || ip_len + tcp_len > 65535) return 0;

  ByteWriter w(out);
  if (v4) {
    w.u8(0x45);
    w.u8(0);
    w.be16(static_cast<uint16_t>(ip_len + tcp_len));
    w.be16(s.ip_id);
    w.be16(0x4000);  // don't fragment
    w.u8(s.ttl);
    w.u8(6);
    w.be16(0);  // checksum, below
    w.bytes(s.src.v4_bytes());
    w.bytes(s.dst.v4_bytes());
    w.patch_be16(10, checksum_fold(checksum_add(0, out.first(20))));
  } else {
    w.be32(0x60000000u);
    w.be16(static_cast<uint16_t>(tcp_len));
    w.u8(6);
    w.u8(s.ttl);
    w.bytes(s.src.bytes16());
    w.bytes(s.dst.bytes16());
  }
  const size_t tcp_at = w.size();
  w.be16(s.sport);
  w.be16(s.dport);
  w.be32(s.seq);
  w.be32(s.ack);
  w.u8(static_cast<uint8_t>(((20 + opt_len) / 4) << 4));
  w.u8(s.flags);
  w.be16(s.window);
  w.be16(0);  // checksum, below
  w.be16(0);  // urgent pointer
  if (s.mss) {
    w.u8(2);
    w.u8(4);
    w.be16(s.mss);
  }
  if (s.wscale >= 0) {
    w.u8(1);
    w.u8(3);
    w.u8(3);
    w.u8(static_cast<uint8_t>(s.wscale));
  }
  if (s.sack_permitted) {
    w.u8(1);
    w.u8(1);
    w.u8(4);
    w.u8(2);
  }
  if (s.timestamp) {
    w.u8(1);
    w.u8(1);
    w.u8(8);
    w.u8(10);
    w.be32(s.ts_val);
    w.be32(s.ts_ecr);
  }
  w.bytes(s.payload);
  if (w.overflowed()) return 0;
  w.patch_be16(tcp_at + 16, tcp_checksum(s.src, s.dst, out.subspan(tcp_at, tcp_len)));
  return w.size();
}

}  // namespace tc

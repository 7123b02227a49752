// IPv4/IPv6 + TCP parsing (TcpPacket::parse) in both extents, and a round
// trip: a packet rebuilt from what was parsed must parse to the same fields.
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "fuzz/fuzz_target.h"

TC_FUZZ_TARGET(tcp_packet) {
  using namespace tc;
  const std::span<const uint8_t> in(data, size);
  for (Extent extent : {Extent::kWholePacket, Extent::kHeadersOnly}) {
    TcpPacket p;
    const ParseError e = TcpPacket::parse(in, p, extent);
    TC_FUZZ_CHECK(e < ParseError::kCount);
    TC_FUZZ_CHECK(to_string(e) != nullptr);
    if (e != ParseError::kNone) continue;
    // Every view lies inside the input.
    TC_FUZZ_CHECK(p.headers.data() == in.data());
    TC_FUZZ_CHECK(p.headers.size() == size_t{p.ip_header_len} + p.tcp_header_len);
    TC_FUZZ_CHECK(p.headers.size() <= in.size());
    TC_FUZZ_CHECK(p.tcp_header_len >= 20 && p.tcp_header_len <= 60);
    TC_FUZZ_CHECK(p.payload.size() <= p.payload_len);
    if (!p.payload.empty()) {
      TC_FUZZ_CHECK(p.payload.data() == in.data() + p.headers.size());
      TC_FUZZ_CHECK(p.payload.data() + p.payload.size() <= in.data() + in.size());
    }
    if (extent == Extent::kWholePacket) TC_FUZZ_CHECK(p.payload.size() == p.payload_len);
    TC_FUZZ_CHECK(p.ip_version == 4 || p.ip_version == 6);
    TC_FUZZ_CHECK(p.src.is_v4() == (p.ip_version == 4));
    TC_FUZZ_CHECK(p.options.wscale <= 14);
    (void)valid_tcp_flags(p.flags);

    // Rebuild it and read it back.
    TcpSegmentSpec s;
    s.src = p.src;
    s.dst = p.dst;
    s.sport = p.sport;
    s.dport = p.dport;
    s.seq = p.seq;
    s.ack = p.ack;
    s.flags = p.flags;
    s.window = p.window;
    s.mss = p.options.mss;
    s.wscale = p.options.wscale;
    s.sack_permitted = p.options.sack_permitted;
    s.timestamp = p.options.has_timestamp;
    s.ts_val = p.options.ts_val;
    s.ts_ecr = p.options.ts_ecr;
    s.ttl = p.ttl;
    s.payload = p.payload;
    std::vector<uint8_t> out(p.headers.size() + p.payload.size() + 128);
    const size_t n = build_tcp_packet(s, out);
    if (n == 0) continue;  // too long for its IP version once rebuilt
    TcpPacket q;
    TC_FUZZ_CHECK(TcpPacket::parse(std::span<const uint8_t>(out.data(), n), q) == ParseError::kNone);
    TC_FUZZ_CHECK(q.src == p.src && q.dst == p.dst && q.sport == p.sport && q.dport == p.dport);
    TC_FUZZ_CHECK(q.seq == p.seq && q.ack == p.ack && q.flags == p.flags && q.window == p.window);
    TC_FUZZ_CHECK(q.options.mss == p.options.mss && q.options.wscale == p.options.wscale);
    TC_FUZZ_CHECK(q.options.has_timestamp == p.options.has_timestamp && q.options.ts_val == p.options.ts_val &&
                  q.options.ts_ecr == p.options.ts_ecr);
    TC_FUZZ_CHECK(q.payload.size() == p.payload.size() &&
                  (p.payload.empty() || std::memcmp(q.payload.data(), p.payload.data(), p.payload.size()) == 0));
  }
  return 0;
}

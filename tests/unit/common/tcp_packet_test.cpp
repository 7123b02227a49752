#include "common/tcp_packet.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "common/checksum.h"
#include "common/tcp_builder.h"

namespace tc {
namespace {

TcpSegmentSpec sample(const char* src, const char* dst) {
  TcpSegmentSpec s;
  s.src = *IpAddress::parse(src);
  s.dst = *IpAddress::parse(dst);
  s.sport = 40000;
  s.dport = 80;
  s.seq = 0xfffffff0u;
  s.ack = 7;
  s.flags = tcpflag::kSyn | tcpflag::kAck;
  s.window = 29200;
  s.mss = 1460;
  s.wscale = 7;
  s.sack_permitted = true;
  s.timestamp = true;
  s.ts_val = 111;
  s.ts_ecr = 222;
  return s;
}

std::vector<uint8_t> build(const TcpSegmentSpec& s) {
  std::vector<uint8_t> buf(2048);
  const size_t n = build_tcp_packet(s, buf);
  buf.resize(n);
  return buf;
}

TEST(TcpPacket, RoundTripsIpv4WithOptionsAndPayload) {
  auto spec = sample("10.1.2.3", "10.9.8.7");
  const std::array<uint8_t, 5> payload{'h', 'e', 'l', 'l', 'o'};
  spec.payload = payload;
  auto buf = build(spec);
  ASSERT_EQ(buf.size(), 20u + 20u + 4 + 4 + 4 + 12 + 5);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(buf, p), ParseError::kNone);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.src.to_string(), "10.1.2.3");
  EXPECT_EQ(p.dst.to_string(), "10.9.8.7");
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 80);
  EXPECT_EQ(p.seq, 0xfffffff0u);
  EXPECT_EQ(p.ack, 7u);
  EXPECT_TRUE(p.syn());
  EXPECT_TRUE(p.has_ack());
  EXPECT_EQ(p.window, 29200);
  EXPECT_EQ(p.options.mss, 1460);
  EXPECT_EQ(p.options.wscale, 7);
  EXPECT_TRUE(p.options.sack_permitted);
  EXPECT_TRUE(p.options.has_timestamp);
  EXPECT_EQ(p.options.ts_val, 111u);
  EXPECT_EQ(p.options.ts_ecr, 222u);
  EXPECT_EQ(p.payload_len, 5u);
  ASSERT_EQ(p.payload.size(), 5u);
  EXPECT_EQ(p.payload[0], 'h');
  // Checksums verify: summing a correct header/segment folds to zero.
  EXPECT_EQ(checksum_fold(checksum_add(0, std::span(buf).first(20))), 0);
  EXPECT_EQ(tcp_checksum(p.src, p.dst, std::span(buf).subspan(20)), 0);
}

TEST(TcpPacket, RoundTripsIpv6) {
  auto spec = sample("2001:db8::1", "2001:db8::2");
  auto buf = build(spec);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(buf, p), ParseError::kNone);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.src.to_string(), "2001:db8::1");
  EXPECT_FALSE(p.src.is_v4());
  EXPECT_EQ(p.ip_header_len, 40);
  EXPECT_EQ(tcp_checksum(p.src, p.dst, std::span(buf).subspan(40)), 0);
}

TEST(TcpPacket, Ipv6WithAnIpv4MappedAddressIsRefused) {
  // Such an address would pass for IPv4 everywhere after parsing.
  const auto buf = build(sample("2001:db8::1", "2001:db8::2"));
  for (size_t field : {size_t{8}, size_t{24}}) {  // source, destination
    std::vector<uint8_t> b = buf;
    std::fill(b.begin() + static_cast<long>(field), b.begin() + static_cast<long>(field) + 10, 0);
    b[field + 10] = b[field + 11] = 0xff;  // ::ffff:x.x.x.x
    TcpPacket p;
    EXPECT_EQ(TcpPacket::parse(b, p), ParseError::kMappedAddress) << field;
    EXPECT_EQ(TcpPacket::parse(b, p, Extent::kHeadersOnly), ParseError::kMappedAddress) << field;
  }
}

TEST(TcpPacket, HeadersOnlyTakesPayloadLengthFromIpHeader) {
  auto spec = sample("10.1.2.3", "10.9.8.7");
  std::vector<uint8_t> payload(1000, 'x');
  spec.payload = payload;
  auto buf = build(spec);
  std::vector<uint8_t> cut(buf.begin(), buf.begin() + 64);
  TcpPacket p;
  EXPECT_EQ(TcpPacket::parse(cut, p), ParseError::kBadTotalLength);
  ASSERT_EQ(TcpPacket::parse(cut, p, Extent::kHeadersOnly), ParseError::kNone);
  EXPECT_EQ(p.payload_len, 1000u);
  EXPECT_EQ(p.payload.size(), 64u - 20 - 44);
}

TEST(TcpPacket, TrailingLinkPaddingIsIgnored) {
  auto spec = sample("10.1.2.3", "10.9.8.7");
  spec.mss = 0;
  spec.wscale = -1;
  spec.sack_permitted = false;
  spec.timestamp = false;
  auto buf = build(spec);
  buf.resize(buf.size() + 6, 0);  // Ethernet minimum-frame padding
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(buf, p), ParseError::kNone);
  EXPECT_EQ(p.payload_len, 0u);
}

struct Mutation {
  const char* name;
  void (*apply)(std::vector<uint8_t>&);
  ParseError expect;
};

TEST(TcpPacket, RejectsMalformedWithReason) {
  const Mutation cases[] = {
      {"empty", [](std::vector<uint8_t>& b) { b.clear(); }, ParseError::kTruncated},
      {"short", [](std::vector<uint8_t>& b) { b.resize(19); }, ParseError::kTruncated},
      {"version", [](std::vector<uint8_t>& b) { b[0] = 0x55; }, ParseError::kBadVersion},
      {"ihl small", [](std::vector<uint8_t>& b) { b[0] = 0x44; }, ParseError::kBadIhl},
      {"ihl big", [](std::vector<uint8_t>& b) { b[0] = 0x4f; b.resize(50); b[2] = 0; b[3] = 50; }, ParseError::kBadIhl},
      {"total short", [](std::vector<uint8_t>& b) { b[2] = 0; b[3] = 10; }, ParseError::kBadTotalLength},
      {"total long", [](std::vector<uint8_t>& b) { b[2] = 0x10; }, ParseError::kBadTotalLength},
      {"udp", [](std::vector<uint8_t>& b) { b[9] = 17; }, ParseError::kNotTcp},
      {"fragment", [](std::vector<uint8_t>& b) { b[6] = 0x20; }, ParseError::kFragment},
      {"doff small", [](std::vector<uint8_t>& b) { b[32] = 0x40; }, ParseError::kBadDataOffset},
      {"doff big", [](std::vector<uint8_t>& b) { b[32] = 0xf0; }, ParseError::kBadDataOffset},
      {"option len 0", [](std::vector<uint8_t>& b) { b[41] = 0; }, ParseError::kBadOptions},
      {"option past end", [](std::vector<uint8_t>& b) { b[41] = 40; }, ParseError::kBadOptions},
      {"mss wrong len", [](std::vector<uint8_t>& b) { b[41] = 3; }, ParseError::kBadOptions},
      // The sample's options: MSS at 40, NOP at 44, window scale at 45,
      // NOP NOP at 48, SACK-permitted at 50, NOP NOP at 52, timestamp at 54.
      {"mss twice", [](std::vector<uint8_t>& b) { b[44] = 2; b[45] = 4; }, ParseError::kDuplicateOption},
      {"sack permitted twice", [](std::vector<uint8_t>& b) { b[48] = 4; b[49] = 2; }, ParseError::kDuplicateOption},
  };
  auto spec = sample("10.1.2.3", "10.9.8.7");
  for (const auto& c : cases) {
    auto buf = build(spec);
    c.apply(buf);
    TcpPacket p;
    EXPECT_EQ(TcpPacket::parse(buf, p), c.expect) << c.name;
  }
}

TEST(TcpPacket, DuplicateWindowScaleIsMalformedNotLastWins) {
  auto spec = sample("10.1.2.3", "10.9.8.7");
  spec.sack_permitted = false;
  spec.timestamp = false;
  spec.wscale = 7;
  auto buf = build(spec);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(buf, p), ParseError::kNone);
  EXPECT_EQ(p.options.wscale, 7);
  // MSS(40..43) becomes NOP + a second window scale of 2.
  buf[40] = 1;
  buf[41] = 3;
  buf[42] = 3;
  buf[43] = 2;
  EXPECT_EQ(TcpPacket::parse(buf, p), ParseError::kDuplicateOption);
  EXPECT_STREQ(to_string(ParseError::kDuplicateOption), "duplicate_tcp_option");
}

TEST(TcpPacket, Ipv6ExtensionHeadersAreWalked) {
  auto spec = sample("2001:db8::1", "2001:db8::2");
  auto buf = build(spec);
  // Insert an 8-byte destination-options header (next header 60).
  std::vector<uint8_t> ext{6, 0, 1, 4, 0, 0, 0, 0};
  buf.insert(buf.begin() + 40, ext.begin(), ext.end());
  buf[6] = 60;
  const uint16_t plen = static_cast<uint16_t>(((buf[4] << 8) | buf[5]) + 8);
  buf[4] = static_cast<uint8_t>(plen >> 8);
  buf[5] = static_cast<uint8_t>(plen);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(buf, p), ParseError::kNone);
  EXPECT_EQ(p.ip_header_len, 48);
  buf[6] = 44;
  EXPECT_EQ(TcpPacket::parse(buf, p), ParseError::kFragment);
  buf[6] = 17;
  EXPECT_EQ(TcpPacket::parse(buf, p), ParseError::kNotTcp);
}

TEST(IpAddress, ParsesAndFormats) {
  EXPECT_EQ(IpAddress::parse("192.168.0.1")->to_string(), "192.168.0.1");
  EXPECT_TRUE(IpAddress::parse("192.168.0.1")->is_v4());
  EXPECT_EQ(IpAddress::parse("::1")->to_string(), "::1");
  EXPECT_FALSE(IpAddress::parse("256.1.1.1").has_value());
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse("1.2.3").has_value());
  EXPECT_FALSE(IpAddress::parse("fe80::1::2").has_value());
  EXPECT_EQ(IpAddress::parse("10.0.0.1")->v4_host(), 0x0a000001u);
}

TEST(SeqArithmetic, WrapsAround) {
  EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
  EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
  EXPECT_TRUE(seq_le(5, 5));
  EXPECT_FALSE(seq_lt(5, 5));
}

}  // namespace
}  // namespace tc

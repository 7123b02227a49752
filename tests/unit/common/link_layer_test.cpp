#include "common/link_layer.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"

namespace tc {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes tcp_packet(const char* src, const char* dst, size_t payload = 0) {
  static const Bytes data(1500, 'p');
  TcpSegmentSpec s;
  s.src = *IpAddress::parse(src);
  s.dst = *IpAddress::parse(dst);
  s.sport = 40000;
  s.dport = 80;
  s.seq = 1000;
  s.flags = tcpflag::kAck;
  s.window = 1000;
  s.payload = std::span<const uint8_t>(data.data(), payload);
  Bytes out(2000);
  out.resize(build_tcp_packet(s, out));
  return out;
}

Bytes v4() { return tcp_packet("10.0.0.1", "10.0.0.2", 10); }
Bytes v6() { return tcp_packet("2001:db8::1", "2001:db8::2", 10); }

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

Bytes ethernet(const Bytes& ip, std::vector<uint16_t> tags, uint16_t type) {
  Bytes f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (uint16_t tpid : tags) {
    put16(f, tpid);
    put16(f, 0x0064);  // VLAN 100
  }
  put16(f, type);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}
Bytes ethernet(const Bytes& ip, uint16_t type = 0x0800) { return ethernet(ip, {}, type); }

Bytes sll(const Bytes& ip, uint16_t protocol) {
  Bytes f;
  put16(f, 0);       // packet type: to us
  put16(f, 1);       // ARPHRD_ETHER
  put16(f, 6);       // address length
  for (int i = 0; i < 8; ++i) f.push_back(i < 6 ? 0x02 : 0);
  put16(f, protocol);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes sll2(const Bytes& ip, uint16_t protocol) {
  Bytes f;
  put16(f, protocol);
  put16(f, 0);                    // reserved
  f.insert(f.end(), {0, 0, 0, 3});  // interface index
  put16(f, 1);                    // ARPHRD_ETHER
  f.push_back(0);                 // packet type
  f.push_back(6);                 // address length
  for (int i = 0; i < 8; ++i) f.push_back(i < 6 ? 0x02 : 0);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

// Expects the IP span to be exactly `ip`, in place inside `frame`.
void expect_ip(int dlt, const Bytes& frame, const Bytes& ip, size_t offset) {
  std::span<const uint8_t> out;
  ASSERT_EQ(ip_packet(dlt, frame, out), LinkError::kNone);
  ASSERT_EQ(out.size(), ip.size());
  EXPECT_EQ(out.data(), frame.data() + offset);
  EXPECT_EQ(Bytes(out.begin(), out.end()), ip);
  TcpPacket p;
  EXPECT_EQ(TcpPacket::parse(out, p), ParseError::kNone);
}

LinkError error_of(int dlt, const Bytes& frame) {
  std::span<const uint8_t> out;
  const LinkError e = ip_packet(dlt, frame, out);
  if (e != LinkError::kNone) {
    EXPECT_TRUE(out.empty());
  }
  return e;
}

TEST(LinkLayer, EthernetIpv4AndIpv6) {
  expect_ip(linktype::kEthernet, ethernet(v4()), v4(), 14);
  expect_ip(linktype::kEthernet, ethernet(v6(), 0x86dd), v6(), 14);
}

TEST(LinkLayer, EthernetPaddingIsCut) {
  const Bytes ip = tcp_packet("10.0.0.1", "10.0.0.2");  // 40 bytes: padded to a 60-byte frame
  Bytes frame = ethernet(ip);
  frame.resize(60, 0);
  expect_ip(linktype::kEthernet, frame, ip, 14);
  // A frame check sequence left at the end of an IPv6 frame.
  const Bytes ip6 = v6();
  Bytes frame6 = ethernet(ip6, 0x86dd);
  frame6.insert(frame6.end(), {0xde, 0xad, 0xbe, 0xef});
  expect_ip(linktype::kEthernet, frame6, ip6, 14);
}

TEST(LinkLayer, IpLongerThanTheFrameIsLeftToTheIpParser) {
  // Cut by a snap length: the span is what is there; TcpPacket decides.
  const Bytes ip = v4();
  Bytes frame = ethernet(ip);
  frame.resize(14 + 30);
  std::span<const uint8_t> out;
  ASSERT_EQ(ip_packet(linktype::kEthernet, frame, out), LinkError::kNone);
  EXPECT_EQ(out.size(), 30u);
}

TEST(LinkLayer, VlanTagsAreSkipped) {
  expect_ip(linktype::kEthernet, ethernet(v4(), {0x8100}, 0x0800), v4(), 18);
  expect_ip(linktype::kEthernet, ethernet(v6(), {0x88a8, 0x8100}, 0x86dd), v6(), 22);
  expect_ip(linktype::kEthernet, ethernet(v4(), {0x9100, 0x8100}, 0x0800), v4(), 22);
  const std::vector<uint16_t> eight(kMaxVlanTags, 0x8100);
  expect_ip(linktype::kEthernet, ethernet(v4(), eight, 0x0800), v4(), 14 + 4 * kMaxVlanTags);
}

TEST(LinkLayer, VlanStackLimit) {
  const std::vector<uint16_t> nine(kMaxVlanTags + 1, 0x8100);
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(v4(), nine, 0x0800)), LinkError::kTooManyVlanTags);
}

TEST(LinkLayer, VlanInsideCookedCapture) {
  Bytes inner;
  put16(inner, 0x0064);
  put16(inner, 0x0800);
  const Bytes ip = v4();
  inner.insert(inner.end(), ip.begin(), ip.end());
  expect_ip(linktype::kLinuxSll, sll(inner, 0x8100), ip, 20);
  expect_ip(linktype::kLinuxSll2, sll2(inner, 0x8100), ip, 24);
}

TEST(LinkLayer, OtherProtocolsAreNotIp) {
  Bytes arp(28, 0);
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(arp, 0x0806)), LinkError::kNotIp);
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(arp, 0x0040)), LinkError::kNotIp);  // 802.3 length
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(v4(), {0x8100}, 0x0806)), LinkError::kNotIp);
  EXPECT_EQ(error_of(linktype::kLinuxSll, sll(arp, 0x0806)), LinkError::kNotIp);
  EXPECT_EQ(error_of(linktype::kLinuxSll, sll(arp, 0x0004)), LinkError::kNotIp);  // 802.2 frames
  EXPECT_EQ(error_of(linktype::kLinuxSll2, sll2(arp, 0x0806)), LinkError::kNotIp);
}

TEST(LinkLayer, VersionMustMatchTheLinkHeader) {
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(v6(), 0x0800)), LinkError::kVersionMismatch);
  EXPECT_EQ(error_of(linktype::kEthernet, ethernet(v4(), 0x86dd)), LinkError::kVersionMismatch);
  EXPECT_EQ(error_of(linktype::kIpv4, v6()), LinkError::kVersionMismatch);
  EXPECT_EQ(error_of(linktype::kIpv6, v4()), LinkError::kVersionMismatch);
  Bytes bad = v4();
  bad[0] = 0x55;
  EXPECT_EQ(error_of(linktype::kRaw, bad), LinkError::kVersionMismatch);
}

TEST(LinkLayer, CookedCaptures) {
  expect_ip(linktype::kLinuxSll, sll(v4(), 0x0800), v4(), 16);
  expect_ip(linktype::kLinuxSll, sll(v6(), 0x86dd), v6(), 16);
  expect_ip(linktype::kLinuxSll2, sll2(v4(), 0x0800), v4(), 20);
  expect_ip(linktype::kLinuxSll2, sll2(v6(), 0x86dd), v6(), 20);
}

TEST(LinkLayer, RawIp) {
  expect_ip(linktype::kRaw, v4(), v4(), 0);
  expect_ip(linktype::kRaw, v6(), v6(), 0);
  expect_ip(linktype::kRawFile, v4(), v4(), 0);
  expect_ip(linktype::kIpv4, v4(), v4(), 0);
  expect_ip(linktype::kIpv6, v6(), v6(), 0);
}

TEST(LinkLayer, UnsupportedLinkType) {
  EXPECT_EQ(error_of(0, v4()), LinkError::kUnsupportedLinkType);      // DLT_NULL
  EXPECT_EQ(error_of(105, v4()), LinkError::kUnsupportedLinkType);    // 802.11
  EXPECT_FALSE(link_type_supported(0));
  for (int dlt : {linktype::kEthernet, linktype::kRaw, linktype::kRawFile, linktype::kLinuxSll, linktype::kLinuxSll2,
                  linktype::kIpv4, linktype::kIpv6}) {
    EXPECT_TRUE(link_type_supported(dlt)) << dlt;
    EXPECT_STRNE(link_type_name(dlt), "unsupported") << dlt;
  }
}

// Every prefix of every kind of frame: never a read past the end, and the
// right reason for each cut.
TEST(LinkLayer, EveryTruncation) {
  struct Case {
    int dlt;
    Bytes frame;
    size_t header;  // link bytes before the IP header
  } cases[] = {
      {linktype::kEthernet, ethernet(v4()), 14},
      {linktype::kEthernet, ethernet(v6(), {0x88a8, 0x8100}, 0x86dd), 22},
      {linktype::kLinuxSll, sll(v4(), 0x0800), 16},
      {linktype::kLinuxSll2, sll2(v6(), 0x86dd), 20},
      {linktype::kRaw, v4(), 0},
      {linktype::kIpv6, v6(), 0},
  };
  for (const Case& c : cases) {
    for (size_t n = 0; n < c.frame.size(); ++n) {
      // A copy of exactly n bytes, so a sanitizer sees any overread.
      const Bytes cut(c.frame.begin(), c.frame.begin() + static_cast<long>(n));
      std::span<const uint8_t> out;
      const LinkError e = ip_packet(c.dlt, cut, out);
      SCOPED_TRACE("dlt " + std::to_string(c.dlt) + " length " + std::to_string(n));
      if (n < c.header) {
        EXPECT_EQ(e, LinkError::kTruncated);  // inside the link header or one of its VLAN tags
      } else if (n == c.header) {
        EXPECT_EQ(e, LinkError::kNoIpHeader);
      } else {
        ASSERT_EQ(e, LinkError::kNone);
        EXPECT_EQ(out.data(), cut.data() + c.header);
        EXPECT_EQ(out.size(), n - c.header);
      }
    }
  }
}

TEST(LinkLayer, ReasonNamesAreDistinct) {
  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(LinkError::kCount); ++i)
    names.insert(to_string(static_cast<LinkError>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(LinkError::kCount));
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace tc

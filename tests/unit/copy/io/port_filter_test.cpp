#include "copy/capture/port_filter.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "common/tcp_builder.h"

namespace tc {
namespace {

// The subset of classic BPF the generator emits, with the kernel's rules:
// a load past the end of the packet ends the program with 0.
uint32_t run(const std::vector<sock_filter>& prog, std::span<const uint8_t> pkt) {
  uint32_t a = 0, x = 0;
  auto load = [&](uint64_t off, size_t size, uint32_t& out) {
    if (off + size > pkt.size()) return false;
    out = 0;
    for (size_t i = 0; i < size; ++i) out = (out << 8) | pkt[off + i];
    return true;
  };
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (!load(f.k, 4, a)) return 0;
        break;
      case BPF_LD | BPF_H | BPF_ABS:
        if (!load(f.k, 2, a)) return 0;
        break;
      case BPF_LD | BPF_B | BPF_ABS:
        if (!load(f.k, 1, a)) return 0;
        break;
      case BPF_LD | BPF_H | BPF_IND:
        if (!load(uint64_t{x} + f.k, 2, a)) return 0;
        break;
      case BPF_LDX | BPF_B | BPF_MSH: {
        uint32_t b = 0;
        if (!load(f.k, 1, b)) return 0;
        x = (b & 0xf) * 4;
        break;
      }
      case BPF_JMP | BPF_JEQ | BPF_K: pc += a == f.k ? f.jt : f.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & f.k) ? f.jt : f.jf; break;
      case BPF_JMP | BPF_JA: pc += f.k; break;
      case BPF_RET | BPF_K: return f.k;
      default: ADD_FAILURE() << "unexpected opcode " << f.code; return 0;
    }
  }
  ADD_FAILURE() << "program ran past its end";
  return 0;
}

// The kernel's static checks on a classic program (sk_chk_filter).
void expect_valid(const std::vector<sock_filter>& prog) {
  ASSERT_FALSE(prog.empty());
  EXPECT_LE(prog.size(), size_t{BPF_MAXINSNS});
  EXPECT_EQ(BPF_CLASS(prog.back().code), BPF_RET);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    if (BPF_CLASS(f.code) != BPF_JMP) continue;
    if (BPF_OP(f.code) == BPF_JA) {
      EXPECT_LT(pc + 1 + f.k, prog.size()) << "ja at " << pc;
    } else {
      EXPECT_LT(pc + 1 + f.jt, prog.size()) << "jt at " << pc;
      EXPECT_LT(pc + 1 + f.jf, prog.size()) << "jf at " << pc;
    }
  }
}

std::vector<uint8_t> tcp_packet(const char* dst, uint16_t dport, uint16_t sport = 40000) {
  TcpSegmentSpec s;
  s.src = *IpAddress::parse("192.0.2.7");
  s.dst = *IpAddress::parse(dst);
  s.sport = sport;
  s.dport = dport;
  s.flags = 0x02;
  static const uint8_t payload[] = {'G', 'E', 'T'};
  s.payload = payload;
  std::vector<uint8_t> out(200);
  out.resize(build_tcp_packet(s, out));
  return out;
}

// Inserts IPv4 options (NOPs ending with `tail`) after the 20-byte header.
std::vector<uint8_t> with_ip_options(std::vector<uint8_t> p, size_t words, std::array<uint8_t, 2> tail) {
  std::vector<uint8_t> opts(words * 4, 0x01);
  opts[opts.size() - 2] = tail[0];
  opts[opts.size() - 1] = tail[1];
  p.insert(p.begin() + 20, opts.begin(), opts.end());
  p[0] = static_cast<uint8_t>(0x40 | (5 + words));
  const size_t total = p.size();
  p[2] = static_cast<uint8_t>(total >> 8);
  p[3] = static_cast<uint8_t>(total);
  return p;
}

bool passes(const std::vector<sock_filter>& prog, const std::vector<uint8_t>& pkt) { return run(prog, pkt) != 0; }

TEST(PortFilter, MatchingPortsPassOthersFail) {
  const std::vector<uint16_t> ports{80, 443, 8080};
  const auto prog = build_port_filter(ports, {});
  expect_valid(prog);
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 80)));
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 443)));
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 8080)));
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.1", 81)));
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.1", 0)));
  // The source port is not what counts.
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.1", 5000, 80)));
  EXPECT_EQ(run(prog, tcp_packet("10.0.0.1", 80)), kFilterAccept);
}

TEST(PortFilter, HeaderLengthFromIhl) {
  // With one option word the TCP header starts at 24; the bytes at the
  // IHL-5 position of the destination port (22..23) hold 80 as a decoy.
  const auto pkt = with_ip_options(tcp_packet("10.0.0.1", 9999), 1, {0x00, 0x50});
  const std::vector<uint16_t> decoy{80};
  const std::vector<uint16_t> real{9999};
  EXPECT_FALSE(passes(build_port_filter(decoy, {}), pkt));
  EXPECT_TRUE(passes(build_port_filter(real, {}), pkt));
  // The longest IPv4 header: 60 bytes.
  const auto longest = with_ip_options(tcp_packet("10.0.0.1", 9999), 10, {0x00, 0x50});
  ASSERT_EQ(longest[0] & 0xf, 15);
  EXPECT_TRUE(passes(build_port_filter(real, {}), longest));
  EXPECT_FALSE(passes(build_port_filter(decoy, {}), longest));
}

TEST(PortFilter, FragmentsWithOffsetAreRejected) {
  const std::vector<uint16_t> ports{80};
  const auto prog = build_port_filter(ports, {});
  auto pkt = tcp_packet("10.0.0.1", 80);
  pkt[6] = 0x20;  // MF, offset 0: the first fragment carries the TCP header
  pkt[7] = 0x00;
  EXPECT_TRUE(passes(prog, pkt));
  pkt[6] = 0x00;  // offset 1 (8 bytes): no TCP header here
  pkt[7] = 0x01;
  EXPECT_FALSE(passes(prog, pkt));
  pkt[6] = 0x1f;  // the highest offset bits
  pkt[7] = 0x00;
  EXPECT_FALSE(passes(prog, pkt));
  pkt[6] = 0x40;  // DF only
  pkt[7] = 0x00;
  EXPECT_TRUE(passes(prog, pkt));
}

TEST(PortFilter, OtherProtocolsAndShortPacketsAreRejected) {
  const std::vector<uint16_t> ports{80};
  const auto prog = build_port_filter(ports, {});
  auto udp = tcp_packet("10.0.0.1", 80);
  udp[9] = 17;
  EXPECT_FALSE(passes(prog, udp));
  auto cut = tcp_packet("10.0.0.1", 80);
  cut.resize(22);  // ends inside the TCP source port
  EXPECT_FALSE(passes(prog, cut));
}

TEST(PortFilter, DestinationAddresses) {
  const std::vector<uint16_t> ports{80};
  const std::vector<IpAddress> addrs{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.3"),
                                     *IpAddress::parse("2001:db8::1")};
  const auto prog = build_port_filter(ports, addrs);
  expect_valid(prog);
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 80)));
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.3", 80)));
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.2", 80)));
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.3", 81)));

  const std::vector<IpAddress> v6_only{*IpAddress::parse("2001:db8::1")};
  const auto none = build_port_filter(ports, v6_only);
  expect_valid(none);
  EXPECT_FALSE(passes(none, tcp_packet("10.0.0.1", 80)));
}

TEST(PortFilter, EmptyPortListMeansAnyPort) {
  const auto prog = build_port_filter({}, {});
  expect_valid(prog);
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 1)));
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.1", 65535)));
  auto frag = tcp_packet("10.0.0.1", 80);
  frag[7] = 0x10;
  EXPECT_FALSE(passes(prog, frag));
}

TEST(PortFilter, LongListsKeepEveryJumpInRange) {
  std::vector<uint16_t> ports;
  for (uint16_t p = 1000; p < 2500; ++p) ports.push_back(p);
  ports.push_back(1000);  // duplicates are folded
  std::vector<IpAddress> addrs;
  for (uint32_t i = 0; i < 300; ++i) addrs.push_back(IpAddress::from_v4_host(0x0a000000u + i));
  const auto prog = build_port_filter(ports, addrs);
  expect_valid(prog);
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.0.0", 1000)));
  EXPECT_TRUE(passes(prog, tcp_packet("10.0.1.43", 2499)));  // the last address and port
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.1.44", 2499)));
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.9", 2500)));
}

TEST(PortFilter, RejectAll) {
  const auto prog = build_reject_all_filter();
  expect_valid(prog);
  EXPECT_FALSE(passes(prog, tcp_packet("10.0.0.1", 80)));
}

}  // namespace
}  // namespace tc

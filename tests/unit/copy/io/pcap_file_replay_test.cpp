// Offline replay against capture files the tests write themselves: every
// link type, pacing (speed, idle gaps), file order, repeats and their
// sequence shift, and the counted reasons for unusable frames.
#include "copy/capture/pcap_file_replay.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"

namespace tc {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes segment(uint16_t sport, uint32_t seq, uint8_t flags, size_t payload = 0, const char* src = "10.0.0.1",
              uint32_t ts_val = 0) {
  static const Bytes data(2000, 'd');
  TcpSegmentSpec s;
  s.src = *IpAddress::parse(src);
  s.dst = *IpAddress::parse(IpAddress::parse(src)->is_v4() ? "10.0.0.2" : "2001:db8::2");
  s.sport = sport;
  s.dport = 80;
  s.seq = seq;
  s.ack = 5000;
  s.flags = flags;
  s.window = 1000;
  if (flags & tcpflag::kSyn) s.mss = 1460;
  if (ts_val != 0) {
    s.timestamp = true;
    s.ts_val = ts_val;
    s.ts_ecr = 99;
  }
  s.payload = std::span<const uint8_t>(data.data(), payload);
  Bytes out(2100);
  out.resize(build_tcp_packet(s, out));
  return out;
}

Bytes ether(const Bytes& ip) {
  Bytes f = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  if ((ip[0] >> 4) == 6) f[13] = 0xdd, f[12] = 0x86;
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes ether_vlan(const Bytes& ip) {
  Bytes f = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00};
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes sll(const Bytes& ip) {
  Bytes f = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes sll2(const Bytes& ip) {
  Bytes f = {0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

struct Frame {
  int64_t ns;  // timestamp
  Bytes bytes;
  uint32_t wire_len = 0;  // 0: the frame's length (not cut)
};

class TempPcap {
 public:
  TempPcap(int dlt, const std::vector<Frame>& frames, int snaplen = 65535) {
    char name[] = "/tmp/tcpcopy-replay-test.XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path = name;
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, snaplen, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    EXPECT_NE(d, nullptr) << pcap_geterr(dead);
    for (const Frame& f : frames) {
      pcap_pkthdr h{};
      h.ts.tv_sec = f.ns / 1000000000;
      h.ts.tv_usec = f.ns % 1000000000;
      h.caplen = static_cast<bpf_u_int32>(f.bytes.size());
      h.len = f.wire_len ? f.wire_len : h.caplen;
      pcap_dump(reinterpret_cast<u_char*>(d), &h, f.bytes.data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
  }
  ~TempPcap() { std::remove(path.c_str()); }
  std::string path;
};

struct Collect final : PacketHandler {
  void on_packet(std::span<const uint8_t> p) override {
    TcpPacket t;
    ASSERT_EQ(TcpPacket::parse(p, t), ParseError::kNone);
    seqs.push_back(t.seq);
    ports.push_back(t.sport);
    sizes.push_back(p.size());
  }
  void on_capture_end() override { ends.push_back(seqs.size()); }
  std::vector<uint32_t> seqs;
  std::vector<size_t> ends;  // packets delivered when each pass ended
  std::vector<uint16_t> ports;
  std::vector<size_t> sizes;
};

constexpr int64_t kMs = 1000000;
const TimePoint kStart = TimePoint(std::chrono::seconds(1000));

PcapReplayOptions opts(const std::string& path) {
  PcapReplayOptions o;
  o.path = path;
  return o;
}

TEST(ReplayPacer, GapsScaledAndCut) {
  ReplayPacer p(2, std::chrono::milliseconds(100));
  p.start_pass(kStart);
  EXPECT_EQ(p.due(Duration(5'000 * kMs)), kStart);                               // first: at the start
  EXPECT_EQ(p.due(Duration(5'040 * kMs)), kStart + std::chrono::milliseconds(20));  // 40 ms / 2
  EXPECT_EQ(p.due(Duration(9'040 * kMs)), kStart + std::chrono::milliseconds(70));  // 4 s cut to 100, / 2
  EXPECT_EQ(p.due(Duration(9'000 * kMs)), kStart + std::chrono::milliseconds(70));  // backwards: no gap
  EXPECT_EQ(p.due(Duration(9'010 * kMs)), kStart + std::chrono::milliseconds(75));
  p.start_pass(kStart + std::chrono::seconds(1));
  EXPECT_EQ(p.due(Duration(1 * kMs)), kStart + std::chrono::seconds(1));
}

TEST(ReplayPacer, NoThresholdKeepsGaps) {
  ReplayPacer p(1, Duration{0});
  p.start_pass(kStart);
  p.due(Duration(0));
  EXPECT_EQ(p.due(Duration(3'600'000 * kMs)), kStart + std::chrono::hours(1));
}

TEST(ShiftClientPacket, MovesSequenceNumberAndTimestamp) {
  Bytes p = segment(40000, 0xfffffff0u, tcpflag::kAck, 10, "10.0.0.1", 0xfffffffeu);
  const Bytes before = p;
  ASSERT_TRUE(shift_client_packet(p, 0x20));
  TcpPacket t;
  ASSERT_EQ(TcpPacket::parse(p, t), ParseError::kNone);
  EXPECT_EQ(t.seq, 0x10u);  // wrapped
  EXPECT_EQ(t.ack, 5000u);
  ASSERT_TRUE(t.options.has_timestamp);
  EXPECT_EQ(t.options.ts_val, 0x1eu);
  EXPECT_EQ(t.options.ts_ecr, 99u);  // the echo is the online server's: left alone
  size_t differing = 0;
  for (size_t i = 0; i < p.size(); ++i) differing += p[i] != before[i];
  EXPECT_LE(differing, 8u);
}

TEST(ShiftClientPacket, WithoutTimestampsAndOverIpv6) {
  Bytes p = segment(40000, 7, tcpflag::kSyn, 0);
  ASSERT_TRUE(shift_client_packet(p, 1));
  TcpPacket t;
  ASSERT_EQ(TcpPacket::parse(p, t), ParseError::kNone);
  EXPECT_EQ(t.seq, 8u);
  EXPECT_EQ(t.options.mss, 1460);  // other options untouched
  Bytes v6 = segment(40000, 7, tcpflag::kAck, 0, "2001:db8::1", 500);
  ASSERT_TRUE(shift_client_packet(v6, 1));
  ASSERT_EQ(TcpPacket::parse(v6, t), ParseError::kNone);
  EXPECT_EQ(t.seq, 8u);
  EXPECT_EQ(t.options.ts_val, 501u);
  Bytes cut(p.begin(), p.begin() + 30);  // TCP header incomplete
  const Bytes cut_before = cut;
  EXPECT_FALSE(shift_client_packet(cut, 1));
  EXPECT_EQ(cut, cut_before);
}

TEST(ShiftClientPacket, EveryPassIsLaterThanTheLast) {
  for (uint32_t pass = 1; pass < 100; ++pass) {
    const uint32_t prev = pass_shift(pass - 1);
    const uint32_t cur = pass_shift(pass);
    EXPECT_NE(cur, 0u);
    EXPECT_TRUE(seq_gt(1000 + cur, 1000 + prev)) << pass;
    EXPECT_TRUE(seq_gt(1000 + cur, 1000 + prev + (1u << 29))) << pass;  // even past half a GiB of the last pass
  }
  EXPECT_EQ(pass_shift(0), 0u);
}

TEST(PcapFileReplay, DeliversInFileOrderAtTheirTime) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {10 * kMs, ether(segment(1, 101, tcpflag::kAck, 5))},
                          {10 * kMs, ether(segment(2, 200, tcpflag::kSyn))},
                          {50 * kMs, ether(segment(1, 106, tcpflag::kAck, 5))}});
  PcapFileReplay r(opts(f.path));
  Collect c;
  EXPECT_FALSE(r.finished());  // not started
  EXPECT_EQ(r.deliver_due(kStart + std::chrono::seconds(10), c), 0u);
  r.start(kStart);
  EXPECT_EQ(r.link_type(), DLT_EN10MB);
  EXPECT_EQ(r.deliver_due(kStart, c), 1u);
  EXPECT_EQ(r.next_due(), kStart + std::chrono::milliseconds(10));
  EXPECT_EQ(r.deliver_due(kStart + std::chrono::milliseconds(9), c), 0u);
  EXPECT_EQ(r.deliver_due(kStart + std::chrono::milliseconds(10), c), 2u);
  EXPECT_FALSE(r.finished());
  EXPECT_EQ(r.deliver_due(kStart + std::chrono::milliseconds(60), c), 1u);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs, (std::vector<uint32_t>{100, 101, 200, 106}));
  EXPECT_EQ(r.stats().packets, 4u);
  EXPECT_EQ(r.stats().passes, 1u);
}

TEST(PcapFileReplay, SpeedAndIdleThreshold) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {100 * kMs, ether(segment(1, 101, tcpflag::kAck, 5))},
                          {60'100 * kMs, ether(segment(1, 106, tcpflag::kAck, 5))}});
  PcapReplayOptions o = opts(f.path);
  o.speed = 4;
  o.idle_threshold = std::chrono::milliseconds(1000);
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart, c);
  EXPECT_EQ(r.next_due(), kStart + std::chrono::milliseconds(25));
  r.deliver_due(kStart + std::chrono::milliseconds(25), c);
  EXPECT_EQ(r.next_due(), kStart + std::chrono::milliseconds(275));  // (100 + 1000) / 4
}

TEST(PcapFileReplay, EveryLinkType) {
  const Bytes v4 = segment(1, 100, tcpflag::kSyn);
  const Bytes v6 = segment(1, 100, tcpflag::kSyn, 0, "2001:db8::1");
  struct Case {
    int dlt;
    Bytes frame;
    size_t ip_size;
  } cases[] = {
      {DLT_EN10MB, ether(v4), v4.size()},     {DLT_EN10MB, ether_vlan(v4), v4.size()},
      {DLT_EN10MB, ether(v6), v6.size()},     {DLT_LINUX_SLL, sll(v4), v4.size()},
      {DLT_LINUX_SLL2, sll2(v4), v4.size()},  {DLT_RAW, v4, v4.size()},
      {DLT_RAW, v6, v6.size()},               {DLT_IPV4, v4, v4.size()},
      {DLT_IPV6, v6, v6.size()},
  };
  for (const Case& k : cases) {
    TempPcap f(k.dlt, {{0, k.frame}});
    PcapFileReplay r(opts(f.path));
    Collect c;
    r.start(kStart);
    EXPECT_EQ(r.deliver_due(kStart, c), 1u) << k.dlt;
    ASSERT_EQ(c.sizes.size(), 1u) << k.dlt;
    EXPECT_EQ(c.sizes[0], k.ip_size) << k.dlt;
    EXPECT_EQ(c.seqs[0], 100u) << k.dlt;
  }
}

TEST(PcapFileReplay, UnusableFramesAreCounted) {
  Bytes arp = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06, 0, 1};
  Bytes short_frame = {2, 0, 0, 0};
  const Bytes full = ether(segment(1, 100, tcpflag::kAck, 500));
  Bytes cut(full.begin(), full.begin() + 100);
  TempPcap f(DLT_EN10MB, {{0, arp}, {1, short_frame}, {2, cut, static_cast<uint32_t>(full.size())},
                          {3, ether(segment(1, 100, tcpflag::kSyn))}});
  PcapFileReplay r(opts(f.path));
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs.size(), 1u);
  EXPECT_EQ(r.stats().link_errors[static_cast<size_t>(LinkError::kNotIp)], 1u);
  EXPECT_EQ(r.stats().link_errors[static_cast<size_t>(LinkError::kTruncated)], 1u);
  EXPECT_EQ(r.stats().truncated, 1u);
  CounterText text;
  r.report(text);
  EXPECT_NE(text.line().find("capture_link_errors{not_ip}=1"), std::string::npos) << text.line();
}

TEST(PcapFileReplay, RepeatsShiftEachPass) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {5 * kMs, ether(segment(1, 101, tcpflag::kAck, 5))}});
  PcapReplayOptions o = opts(f.path);
  o.repeat = 3;
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::milliseconds(4), c);
  EXPECT_EQ(r.pass(), 0u);
  // The next pass starts right after the last packet of this one: its
  // first packet is due at the same time.
  EXPECT_EQ(r.deliver_due(kStart + std::chrono::milliseconds(5), c), 2u);
  EXPECT_EQ(r.pass(), 1u);
  EXPECT_EQ(r.next_due(), kStart + std::chrono::milliseconds(10));
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  ASSERT_EQ(c.seqs.size(), 6u);
  for (uint32_t pass = 0; pass < 3; ++pass) {
    EXPECT_EQ(c.seqs[2 * pass], 100 + pass_shift(pass));
    EXPECT_EQ(c.seqs[2 * pass + 1], 101 + pass_shift(pass));
  }
  EXPECT_EQ(r.stats().passes, 3u);
  EXPECT_EQ(r.stats().packets, 6u);
}

TEST(PcapFileReplay, FilterAppliesToTheFile) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))}, {1, ether(segment(2, 200, tcpflag::kSyn))}});
  PcapReplayOptions o = opts(f.path);
  o.filter = "src port 2";
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_EQ(c.ports, (std::vector<uint16_t>{2}));
}

TEST(PcapFileReplay, BatchesAreBounded) {
  std::vector<Frame> frames;
  for (uint32_t i = 0; i < PcapFileReplay::kMaxPerDrain + 10; ++i)
    frames.push_back({0, ether(segment(1, 100 + i, tcpflag::kAck, 1))});
  TempPcap f(DLT_EN10MB, frames);
  PcapFileReplay r(opts(f.path));
  Collect c;
  r.start(kStart);
  EXPECT_EQ(r.deliver_due(kStart, c), PcapFileReplay::kMaxPerDrain);
  EXPECT_EQ(r.deliver_due(kStart, c), 10u);
  EXPECT_TRUE(r.finished());
}

// The bytes of a file, to damage them.
Bytes file_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  Bytes out;
  if (!f) return out;
  for (int c; (c = std::fgetc(f)) != EOF;) out.push_back(static_cast<uint8_t>(c));
  std::fclose(f);
  return out;
}

void write_bytes(const std::string& path, const Bytes& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(b.data(), 1, b.size(), f), b.size());
  std::fclose(f);
}

// A pcap file's global header is 24 bytes, each record's header 16.
constexpr size_t kFileHeader = 24;
constexpr size_t kRecordHeader = 16;

TEST(PcapFileReplay, FileCutMidRecordSaysWhereItBroke) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {1, ether(segment(1, 101, tcpflag::kAck, 5))},
                          {2, ether(segment(1, 106, tcpflag::kAck, 5))}});
  Bytes b = file_bytes(f.path);
  b.resize(b.size() - 10);  // the third record loses its end
  write_bytes(f.path, b);
  PcapReplayOptions o = opts(f.path);
  o.repeat = 3;  // a damaged file ends the replay: later passes would break there too
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs.size(), 2u);
  EXPECT_EQ(r.stats().read_errors, 1u);
  ASSERT_TRUE(r.damage().has_value());
  EXPECT_EQ(r.damage()->pass, 0u);
  EXPECT_EQ(r.damage()->record, 2u);
  EXPECT_GT(r.damage()->offset, 0);
  EXPECT_FALSE(r.damage()->reason.empty());
}

TEST(PcapFileReplay, HugeRecordLengthSaysWhy) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {1, ether(segment(1, 101, tcpflag::kAck, 5))}});
  Bytes b = file_bytes(f.path);
  // The second record's captured length (bytes 8-11 of its header, in the
  // writer's byte order) becomes 0xFFFFFFF0.
  const size_t second = kFileHeader + kRecordHeader + ether(segment(1, 100, tcpflag::kSyn)).size();
  ASSERT_GT(b.size(), second + 12);
  for (size_t i = 0; i < 4; ++i) b[second + 8 + i] = i == 0 ? 0xf0 : 0xff;
  if (b[0] != 0xd4 && b[0] != 0x4d) std::reverse(b.begin() + second + 8, b.begin() + second + 12);
  write_bytes(f.path, b);
  PcapFileReplay r(opts(f.path));
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs.size(), 1u);
  ASSERT_TRUE(r.damage().has_value());
  EXPECT_EQ(r.damage()->record, 1u);
  EXPECT_NE(r.damage()->reason.find("4294967280"), std::string::npos) << r.damage()->reason;
}

// A pcapng file: section header, one Ethernet interface, enhanced packet
// blocks (little-endian, microsecond stamps).
Bytes pcapng_bytes(const std::vector<Bytes>& frames) {
  Bytes b;
  auto u32 = [&b](uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  u32(0x0A0D0D0A), u32(28), u32(0x1A2B3C4D), u32(0x00000001), u32(0xffffffff), u32(0xffffffff), u32(28);
  u32(1), u32(20), u32(1), u32(65535), u32(20);  // link type 1 (Ethernet), reserved 0
  uint32_t usec = 0;
  for (const Bytes& f : frames) {
    const uint32_t padded = static_cast<uint32_t>((f.size() + 3) & ~size_t{3});
    u32(6), u32(32 + padded), u32(0), u32(0), u32(usec += 1000), u32(static_cast<uint32_t>(f.size())),
        u32(static_cast<uint32_t>(f.size()));
    b.insert(b.end(), f.begin(), f.end());
    b.resize(b.size() + (padded - f.size()), 0);
    u32(32 + padded);
  }
  return b;
}

TEST(PcapFileReplay, BrokenPcapngBlockSaysWhy) {
  TempPcap f(DLT_EN10MB, {});
  Bytes b = pcapng_bytes({ether(segment(1, 100, tcpflag::kSyn)), ether(segment(1, 101, tcpflag::kAck, 5))});
  const size_t good = b.size();
  // A third block whose length field claims nearly 4 GiB.
  for (uint32_t v : {6u, 0xFFFFFFF0u, 0u, 0u})
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  write_bytes(f.path, b);
  PcapReplayOptions o = opts(f.path);
  o.repeat = 2;
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs.size(), 2u);
  EXPECT_EQ(r.stats().read_errors, 1u);
  ASSERT_TRUE(r.damage().has_value());
  EXPECT_EQ(r.damage()->record, 2u);
  EXPECT_GE(r.damage()->offset, static_cast<int64_t>(good));
  EXPECT_NE(r.damage()->reason.find("4294967280"), std::string::npos) << r.damage()->reason;
  EXPECT_EQ(c.ends, (std::vector<size_t>{2})) << "the sessions of a broken file end too";
}

// The handler hears of each pass's end after its last packet and before
// the next pass's first.
TEST(PcapFileReplay, EachPassEndIsAnnounced) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {kMs, ether(segment(1, 101, tcpflag::kAck, 5))}});
  PcapReplayOptions o = opts(f.path);
  o.repeat = 3;
  PcapFileReplay r(o);
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(c.seqs.size(), 6u);
  EXPECT_EQ(c.ends, (std::vector<size_t>{2, 4, 6}));
}

TEST(PcapFileReplay, PositionFollowsTheFile) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))},
                          {kMs, ether(segment(1, 101, tcpflag::kAck, 5))},
                          {2 * kMs, ether(segment(1, 106, tcpflag::kAck, 5))}});
  PcapReplayOptions o = opts(f.path);
  o.repeat = 2;
  PcapFileReplay r(o);
  const int64_t size = static_cast<int64_t>(file_bytes(f.path).size());
  Collect c;
  r.start(kStart);
  ReplayPosition p = r.position();
  EXPECT_EQ(p.file_size, size);
  EXPECT_EQ(p.passes, 2u);
  EXPECT_GT(p.offset, 0);
  EXPECT_FALSE(p.done);
  r.deliver_due(kStart + std::chrono::microseconds(1500), c);
  const int64_t mid = r.position().offset;
  EXPECT_GT(mid, p.offset);
  EXPECT_LE(mid, size);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  p = r.position();
  EXPECT_TRUE(p.done);
  EXPECT_EQ(p.packets, 6u);
  EXPECT_DOUBLE_EQ(ReplayProgress::fraction(p), 1.0);
}

TEST(PcapFileReplay, WholeFileHasNoDamage) {
  TempPcap f(DLT_EN10MB, {{0, ether(segment(1, 100, tcpflag::kSyn))}});
  PcapFileReplay r(opts(f.path));
  Collect c;
  r.start(kStart);
  r.deliver_due(kStart + std::chrono::seconds(1), c);
  EXPECT_TRUE(r.finished());
  EXPECT_FALSE(r.damage().has_value());
}

TEST(PcapFileReplay, OpenErrorsNameTheFile) {
  try {
    PcapFileReplay r(opts("/nonexistent/x.pcap"));
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read pcap file: /nonexistent/x.pcap"), std::string::npos) << e.what();
  }
  TempPcap f(DLT_NULL, {{0, Bytes(40, 0)}});
  try {
    PcapFileReplay r(opts(f.path));
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tc

#include "copy/send/pcap_sender.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "common/link_layer.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/send/neighbour_table.h"

namespace tc {
namespace {

using Bytes = std::vector<uint8_t>;

// Records every frame; answers from a script (n >= 0 sent, negative: -errno).
class FakeInjectOps final : public InjectOps {
 public:
  int inject(pcap_t*, std::span<const uint8_t> frame) override {
    frames.emplace_back(frame.begin(), frame.end());
    if (script.empty()) return static_cast<int>(frame.size());
    const int r = script.front();
    script.pop_front();
    return r;
  }
  std::deque<int> script;
  std::vector<Bytes> frames;
};

const MacAddress kSource = *MacAddress::parse("02:00:00:00:00:aa");
const MacAddress kHop1 = *MacAddress::parse("02:00:00:00:00:01");
const MacAddress kHop2 = *MacAddress::parse("02:00:00:00:00:02");

class PcapSenderTest : public ::testing::Test {
 protected:
  void make(size_t batch = 8) {
    PcapSenderOptions o;
    o.interface = "eth-test";
    o.targets = {*IpAddress::parse("10.1.1.1"), *IpAddress::parse("10.1.1.2"), *IpAddress::parse("2001:db8::9")};
    o.batch = batch;
    sender = std::make_unique<PcapSender>(o, ops, PcapHandle(), kSource,
                                          std::vector<PcapSender::NextHop>{{o.targets[0], kHop1},
                                                                           {o.targets[1], kHop2},
                                                                           {o.targets[2], kHop2}});
  }

  void queue(const char* dst, uint32_t seq) {
    TcpSegmentSpec s;
    const IpAddress d = *IpAddress::parse(dst);
    s.src = *IpAddress::parse(d.is_v4() ? "192.0.2.1" : "2001:db8::1");
    s.dst = d;
    s.sport = 40000;
    s.dport = 80;
    s.seq = seq;
    s.flags = tcpflag::kSyn;
    std::span<uint8_t> buf = sender->acquire();
    ASSERT_GE(buf.size(), 1500u);
    const size_t len = build_tcp_packet(s, buf);
    ASSERT_GT(len, 0u);
    sender->commit(len);
  }

  FakeInjectOps ops;
  std::unique_ptr<PcapSender> sender;
};

TEST_F(PcapSenderTest, FramesCarryTheNextHopAndOurMac) {
  make();
  queue("10.1.1.1", 1);
  queue("10.1.1.2", 2);
  queue("2001:db8::9", 3);
  EXPECT_TRUE(ops.frames.empty());  // nothing leaves before flush
  EXPECT_EQ(sender->flush(), 3u);
  ASSERT_EQ(ops.frames.size(), 3u);
  const MacAddress* hops[] = {&kHop1, &kHop2, &kHop2};
  for (size_t i = 0; i < 3; ++i) {
    const Bytes& f = ops.frames[i];
    EXPECT_TRUE(std::equal(hops[i]->bytes.begin(), hops[i]->bytes.end(), f.begin())) << i;
    EXPECT_TRUE(std::equal(kSource.bytes.begin(), kSource.bytes.end(), f.begin() + 6)) << i;
    std::span<const uint8_t> ip;
    ASSERT_EQ(ip_packet(linktype::kEthernet, f, ip), LinkError::kNone);
    TcpPacket p;
    ASSERT_EQ(TcpPacket::parse(ip, p), ParseError::kNone);
    EXPECT_EQ(p.seq, i + 1);
  }
  EXPECT_EQ(ops.frames[0][12], 0x08);
  EXPECT_EQ(ops.frames[2][12], 0x86);
  EXPECT_EQ(sender->stats().packets_sent, 3u);
  EXPECT_EQ(sender->stats().bytes_sent, 14u * 3 + 40 + 40 + 60);
}

TEST_F(PcapSenderTest, OnlyTargetsAreSentTo) {
  make();
  queue("10.1.1.3", 1);
  queue("2001:db8::8", 2);
  queue("10.1.1.1", 3);
  EXPECT_EQ(sender->flush(), 1u);
  EXPECT_EQ(sender->stats().refused_destination, 2u);
  std::span<uint8_t> b = sender->acquire();
  b[0] = 0x45;
  sender->commit(10);  // not a whole header
  EXPECT_EQ(sender->stats().malformed, 1u);
}

TEST_F(PcapSenderTest, FullBatchSendsOnAcquireAfterTheHook) {
  make(2);
  std::vector<size_t> seen;
  sender->set_before_send([&] { seen.push_back(ops.frames.size()); });
  queue("10.1.1.1", 1);
  queue("10.1.1.1", 2);
  queue("10.1.1.1", 3);  // the third acquire sends the first two
  EXPECT_EQ(ops.frames.size(), 2u);
  EXPECT_EQ(seen, (std::vector<size_t>{0}));
  sender->flush();
  EXPECT_EQ(seen, (std::vector<size_t>{0, 2}));
}

TEST_F(PcapSenderTest, ErrorsAreCountedByErrno) {
  make();
  for (uint32_t i = 0; i < 5; ++i) queue("10.1.1.1", i);
  ops.script = {-EMSGSIZE, 54, -EINTR, 54, -ENOBUFS};
  // EMSGSIZE skips one; EINTR is retried; ENOBUFS drops the rest (2).
  EXPECT_EQ(sender->flush(), 2u);
  EXPECT_EQ(sender->stats().errors(EMSGSIZE), 1u);
  EXPECT_EQ(sender->stats().dropped(ENOBUFS), 2u);
  CounterText text;
  sender->report(text);
  EXPECT_NE(text.line().find("send_inject_errors{EMSGSIZE}=1"), std::string::npos) << text.line();
  EXPECT_NE(text.line().find("send_dropped_full{ENOBUFS}=2"), std::string::npos) << text.line();
}

const char* kArpTable =
    "IP address       HW type     Flags       HW address            Mask     Device\n"
    "10.77.2.2        0x1         0x2         aa:bb:cc:dd:ee:01     *        ot\n"
    "10.77.2.3        0x1         0x0         00:00:00:00:00:00     *        ot\n"
    "10.77.1.2        0x1         0x2         aa:bb:cc:dd:ee:02     *        oc\n"
    "10.77.2.9        0x1         0x6         aa:bb:cc:dd:ee:09     *        ot\n";

TEST(NeighbourTable, CompleteEntriesOfTheInterface) {
  EXPECT_EQ(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.2"), "ot"), MacAddress::parse("aa:bb:cc:dd:ee:01"));
  EXPECT_EQ(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.9"), "ot"), MacAddress::parse("aa:bb:cc:dd:ee:09"));
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.3"), "ot"));  // incomplete
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.1.2"), "ot"));  // another interface
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.4"), "ot"));
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("2001:db8::1"), "ot"));
  EXPECT_FALSE(find_neighbour("", *IpAddress::parse("10.77.2.2"), "ot"));
  EXPECT_FALSE(find_neighbour("garbage\n10.77.2.2 x", *IpAddress::parse("10.77.2.2"), "ot"));
}

}  // namespace
}  // namespace tc

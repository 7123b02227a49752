// Assistant mode's reply source on a real veth pair, inside a network
// namespace the test process creates for itself: frames written into one
// end arrive on the other, where PcapReplySource hands them to the same
// ReplyDispatcher and route table nfqueue mode uses. Skipped without the
// privilege for a namespace or without ip(8).
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "common/unique_fd.h"
#include "fake_reply_sink.h"
#include "intercept/pcap/pcap_reply_source.h"
#include "intercept/reply_dispatcher.h"

namespace tc::intercept {
namespace {

std::string g_skip_reason = "namespace not entered";

class PrivateNetnsWithVeth : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) {
      g_skip_reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    if (std::system("ip link set lo up && ip link add ra type veth peer name rb && "
                    "ip link set ra up && ip link set rb up") != 0) {
      g_skip_reason = "cannot build the veth pair with ip(8)";
      return;
    }
    for (int i = 0; i < 50 && std::system("ip link show ra | grep -q LOWER_UP") != 0; ++i) usleep(20000);
    g_skip_reason.clear();
  }
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateNetnsWithVeth);

// Writes whole Ethernet frames into `rb`; they arrive on `ra`.
class FrameWriter {
 public:
  FrameWriter() : fd_(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) {
    EXPECT_TRUE(fd_) << std::strerror(errno);
    addr_.sll_family = AF_PACKET;
    addr_.sll_ifindex = static_cast<int>(if_nametoindex("rb"));
    addr_.sll_halen = 6;
  }
  void send(std::vector<uint8_t> ip) {
    std::vector<uint8_t> frame = {0x02, 0, 0, 0, 0, 0xaa, 0x02, 0, 0, 0, 0, 0xbb, 0x08, 0x00};
    frame.insert(frame.end(), ip.begin(), ip.end());
    ASSERT_EQ(::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_),
              static_cast<ssize_t>(frame.size()))
        << std::strerror(errno);
  }

 private:
  UniqueFd fd_;
  sockaddr_ll addr_{};
};

std::vector<uint8_t> reply(uint16_t sport, uint16_t dport, size_t payload) {
  static const std::vector<uint8_t> data(1400, 'r');
  TcpSegmentSpec s;
  s.src = *IpAddress::parse("10.9.1.2");  // the target
  s.dst = *IpAddress::parse("10.9.9.7");  // a client
  s.sport = sport;
  s.dport = dport;
  s.seq = 777;
  s.ack = 1;
  s.flags = tcpflag::kAck;
  s.window = 500;
  s.payload = std::span<const uint8_t>(data.data(), payload);
  std::vector<uint8_t> out(1600);
  out.resize(build_tcp_packet(s, out));
  return out;
}

TEST(PcapReplyNetns, RepliesReachTheRouteTableAsHeaders) {
  if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason;
  PcapReplyOptions o;
  o.interfaces = {"ra"};
  o.target_ports = {80};
  PcapReplySource source(o);
  EXPECT_EQ(source.filter(), "tcp and (src port 80)");
  EXPECT_NE(source.describe().find("ra (Ethernet)"), std::string::npos) << source.describe();

  testing::FakeReplySink sink;
  RouteTable routes(RouteTable::Config{});
  ReplyDispatcher dispatcher({}, routes, sink);
  routes.connection_up(1, *IpAddress::parse("192.0.2.1"), 5);
  const SessionKey key{*IpAddress::parse("10.9.9.7"), *IpAddress::parse("10.9.1.2"), 40000, 80};
  routes.register_key(1, key, std::chrono::seconds(1), sink);

  FrameWriter w;
  w.send(reply(80, 40000, 1000));  // a data segment, cut to the snap length
  w.send(reply(81, 40000, 0));     // another port: filtered out
  w.send(reply(80, 40000, 0));

  const TimePoint deadline = monotonic_now() + std::chrono::seconds(2);
  while (monotonic_now() < deadline && sink.got.size() < 2) {
    pollfd p{source.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    dispatcher.set_now(std::chrono::seconds(2));
    source.drain(dispatcher);
  }
  usleep(50000);
  source.drain(dispatcher);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(source.replies(), 2u);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(sink.got[0].second, p, Extent::kHeadersOnly), ParseError::kNone);
  EXPECT_EQ(p.payload_len, 1000u);  // from the IP header, the payload itself was cut
  EXPECT_EQ(sink.header_lens[0], 40u);
  EXPECT_EQ(sink.got[0].second.size(), 40u + wire::kMaxReplyPrefix);  // headers and the longest prefix
  EXPECT_EQ(p.sport, 80);
}

TEST(PcapReplyNetns, MissingInterfaceIsNamed) {
  if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason;
  PcapReplyOptions o;
  o.interfaces = {"ra", "nosuch1"};
  try {
    PcapReplySource source(o);
    FAIL() << "opened a missing interface";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot open interface nosuch1: no such interface");
  }
}

}  // namespace
}  // namespace tc::intercept

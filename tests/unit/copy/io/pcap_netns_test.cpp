// PcapCapture and LinkSender on a real veth pair, inside a network namespace
// the test process creates for itself (so nothing touches the host's
// interfaces). Without the privilege for that, or without `ip`, the tests
// skip.
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
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
#include "copy/capture/pcap_capture.h"
#include "copy/send/link_sender.h"

namespace tc {
namespace {

// tca 10.9.0.1 <-> tcb 10.9.0.2
constexpr const char* kA = "tca";
constexpr const char* kB = "tcb";
std::string g_skip_reason = "namespace not entered";

class PrivateNetnsWithVeth : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) {
      g_skip_reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    // `ip` runs as a child, in this (new) namespace.
    const int rc = std::system(
        "ip link set lo up && ip link add tca type veth peer name tcb && "
        "ip addr add 10.9.0.1/24 dev tca && ip addr add 10.9.0.2/24 dev tcb && "
        "ip link set tca up && ip link set tcb up");
    if (rc != 0) {
      g_skip_reason = "cannot build the veth pair with ip(8)";
      return;
    }
    // The veth pair needs a moment to report carrier.
    for (int i = 0; i < 50 && std::system("ip link show tca | grep -q LOWER_UP") != 0; ++i) usleep(20000);
    g_skip_reason.clear();
  }
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateNetnsWithVeth);

#define REQUIRE_NETNS() \
  if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason

MacAddress mac_of(const char* name) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  EXPECT_EQ(ioctl(s.get(), SIOCGIFHWADDR, &ifr), 0) << std::strerror(errno);
  MacAddress m;
  std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

struct Collect final : PacketHandler {
  void on_packet(std::span<const uint8_t> p) override { packets.emplace_back(p.begin(), p.end()); }
  std::vector<std::vector<uint8_t>> packets;
};

void send_syn(LinkSender& sender, uint16_t dport, uint32_t seq, size_t payload = 0, const char* src = "10.9.0.2") {
  static const std::vector<uint8_t> data(1000, 'q');
  TcpSegmentSpec s;
  s.payload = std::span<const uint8_t>(data.data(), payload);
  s.src = *IpAddress::parse(src);
  s.dst = *IpAddress::parse("10.9.0.1");
  s.sport = 40000;
  s.dport = dport;
  s.seq = seq;
  s.flags = tcpflag::kSyn;
  s.window = 1000;
  s.mss = 1460;
  std::span<uint8_t> buf = sender.acquire(s.dst);
  sender.commit(build_tcp_packet(s, buf));
}

// Drains until `want` packets arrived or a second passed, then a little
// longer so that extra packets would show.
void collect(PcapCapture& capture, Collect& out, size_t want) {
  const TimePoint deadline = monotonic_now() + std::chrono::seconds(2);
  while (monotonic_now() < deadline && out.packets.size() < want) {
    pollfd p{capture.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    capture.drain(out);
  }
  usleep(50000);
  capture.drain(out);
}

LinkSenderOptions sender_options() {
  LinkSenderOptions o;
  o.interface = kB;
  o.targets = {*IpAddress::parse("10.9.0.1")};
  return o;
}

// Frames from tcb to tca's MAC.
LinkSenderOptions sender_to_a() {
  LinkSenderOptions o = sender_options();
  o.next_hop = mac_of(kA);
  return o;
}

PcapCaptureOptions capture_on(const char* interface, const char* filter) {
  PcapCaptureOptions o;
  o.interfaces = {interface};
  o.filter = filter;
  return o;
}

TEST(PcapNetns, RingFramesAreCapturedOnThePeer) {
  REQUIRE_NETNS();
  PcapCapture capture(capture_on(kA, "tcp and (dst port 80)"));
  LinkSender sender(sender_to_a());
  EXPECT_EQ(sender.source_mac(), mac_of(kB));

  send_syn(sender, 80, 1);
  send_syn(sender, 81, 2);  // not in the filter
  send_syn(sender, 80, 3);
  EXPECT_EQ(sender.flush(), 3u);

  Collect got;
  collect(capture, got, 2);
  ASSERT_EQ(got.packets.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    TcpPacket p;
    ASSERT_EQ(TcpPacket::parse(got.packets[i], p), ParseError::kNone);
    EXPECT_EQ(p.dport, 80);
    EXPECT_EQ(p.seq, i == 0 ? 1u : 3u);
    EXPECT_EQ(p.src, *IpAddress::parse("10.9.0.2"));
  }
  EXPECT_EQ(capture.stats().packets, 2u);
  EXPECT_EQ(capture.stats().truncated, 0u);
  EXPECT_NE(capture.describe().find("tca (Ethernet)"), std::string::npos) << capture.describe();
}

TEST(PcapNetns, OnlyInboundPacketsOnEveryInterface) {
  REQUIRE_NETNS();
  // Both ends captured: the SYN leaves tcb (not captured there) and
  // arrives on tca (captured once).
  PcapCaptureOptions co;
  co.interfaces = {kA, kB};
  co.filter = "tcp and (dst port 80)";
  PcapCapture capture(co);
  LinkSender sender(sender_to_a());
  send_syn(sender, 80, 7);
  sender.flush();
  Collect got;
  collect(capture, got, 1);
  EXPECT_EQ(got.packets.size(), 1u);
}

TEST(PcapNetns, SnaplenCutPacketsAreCounted) {
  REQUIRE_NETNS();
  PcapCaptureOptions co;
  co.interfaces = {kA};
  co.filter = "tcp and (dst port 80)";
  co.snaplen = 64;
  PcapCapture capture(co);
  LinkSender sender(sender_to_a());
  send_syn(sender, 80, 9, 200);  // 278 bytes on the wire
  sender.flush();
  Collect got;
  const TimePoint deadline = monotonic_now() + std::chrono::seconds(2);
  while (monotonic_now() < deadline && capture.stats().truncated == 0) {
    pollfd p{capture.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    capture.drain(got);
  }
  EXPECT_EQ(capture.stats().truncated, 1u);
  EXPECT_TRUE(got.packets.empty());
}

TEST(PcapNetns, RingFramesAreTakenByThePeersTcp) {
  REQUIRE_NETNS();
  // A SYN to a closed port of tca: tca's TCP answers with a RST, which
  // arrives on tcb. The frames went up the peer's stack, not just its taps.
  // The SYNs come from 10.8.0.7 (not an address of this namespace, which
  // tca would drop as martian), reached through tca at tcb's MAC.
  const std::string route = "ip route replace 10.8.0.7/32 dev tca && ip neigh replace 10.8.0.7 lladdr " +
                            mac_of(kB).to_string() + " dev tca nud permanent && " +
                            "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tca.rp_filter=0";
  ASSERT_EQ(std::system(route.c_str()), 0);
  PcapCapture capture(capture_on(kB, "tcp and src port 82 and tcp[tcpflags] & tcp-rst != 0"));
  LinkSenderOptions so = sender_to_a();
  so.ring_frames = 16;  // a block's worth (32 frames): 40 packets go round
  LinkSender sender(so);
  EXPECT_GE(sender.ring_frames(), 16u);
  EXPECT_TRUE(sender.copies_frames());  // PACKET_VNET_HDR (Linux 4.x and later)
  for (uint32_t i = 0; i < 40; ++i) {
    send_syn(sender, 82, 1000 + i, 0, "10.8.0.7");
    if (i % 4 == 3) {
      EXPECT_EQ(sender.flush(), 4u);
    }
  }
  Collect got;
  collect(capture, got, 40);
  EXPECT_EQ(got.packets.size(), 40u);
  EXPECT_EQ(sender.stats().packets_sent, 40u);
  EXPECT_EQ(sender.stats().ring_full, 0u);
}

TEST(PcapNetns, RingSendOnADownInterfaceDropsAndRecovers) {
  REQUIRE_NETNS();
  PcapCapture capture(capture_on(kA, "tcp and dst port 83"));
  LinkSender sender(sender_to_a());
  ASSERT_EQ(std::system("ip link set tcb down"), 0);
  send_syn(sender, 83, 1);
  send_syn(sender, 83, 2);
  EXPECT_EQ(sender.flush(), 0u);
  EXPECT_EQ(sender.stats().dropped_by(ENETDOWN), 2u);
  ASSERT_EQ(std::system("ip link set tcb up"), 0);
  for (int i = 0; i < 50 && std::system("ip link show tca | grep -q LOWER_UP") != 0; ++i) usleep(20000);
  // The ring is still in step with the kernel: the next frames go.
  send_syn(sender, 83, 3);
  send_syn(sender, 83, 4);
  EXPECT_EQ(sender.flush(), 2u);
  Collect got;
  collect(capture, got, 2);
  ASSERT_EQ(got.packets.size(), 2u);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(got.packets[0], p), ParseError::kNone);
  EXPECT_EQ(p.seq, 3u);
}

TEST(PcapNetns, PacketsLargerThanTheInterfaceMtuAreRefusedAtStart) {
  REQUIRE_NETNS();
  LinkSenderOptions so = sender_to_a();
  so.slot_size = 9000;
  try {
    LinkSender sender(so);
    FAIL() << "accepted packets the interface cannot carry";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot send on tcb: its MTU is 1500, below the 9000-byte packets tcpcopy sends (-M/--mtu)");
  }
}

TEST(PcapNetns, NextHopFromTheNeighbourTable) {
  REQUIRE_NETNS();
  const std::string mac = mac_of(kA).to_string();
  ASSERT_EQ(std::system(("ip neigh replace 10.9.0.1 lladdr " + mac + " dev tcb nud permanent").c_str()), 0);
  LinkSender sender(sender_options());
  ASSERT_EQ(sender.next_hops().size(), 1u);
  EXPECT_EQ(sender.next_hops()[0].mac.to_string(), mac);
  EXPECT_EQ(std::system("ip neigh del 10.9.0.1 dev tcb"), 0);
}

TEST(PcapNetns, OpenErrorsNameTheInterface) {
  REQUIRE_NETNS();
  PcapCaptureOptions co;
  co.interfaces = {kA, "nosuch0"};
  try {
    PcapCapture capture(co);
    FAIL() << "opened a missing interface";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot open interface nosuch0: no such interface");
  }
  LinkSenderOptions so = sender_options();
  so.interface = "nosuch0";
  so.next_hop = MacAddress::parse("02:00:00:00:00:01");
  try {
    LinkSender sender(so);
    FAIL() << "opened a missing interface";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot send on nosuch0: no such interface");
  }
  so = sender_options();  // no --dst-mac, no neighbour entry
  ASSERT_EQ(std::system("ip neigh flush dev tcb"), 0);
  try {
    LinkSender sender(so);
    FAIL() << "found a next hop that is not there";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no complete entry for 10.9.0.1 on tcb"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tc

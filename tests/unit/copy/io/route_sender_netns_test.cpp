// The default sender on real sockets, in network namespaces of the test's
// own: a veth pair to a target namespace whose interface changes its MAC
// mid-run (IPv4 and IPv6), and a tun device, which has no Ethernet framing.
// Without the privilege for namespaces, or without ip(8) and nsenter(1),
// the tests skip.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "common/unique_fd.h"
#include "copy/send/route_sender.h"

namespace tc {
namespace {

std::string g_skip_reason = "namespace not entered";

bool run(const std::string& command) { return std::system(("(" + command + ") >/dev/null 2>&1").c_str()) == 0; }

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!run("command -v ip && command -v nsenter")) {
      g_skip_reason = "ip(8) or nsenter(1) missing";
      return;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      g_skip_reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    if (!run("ip link set lo up")) {
      g_skip_reason = "ip link set lo up failed";
      return;
    }
    g_skip_reason.clear();
  }
};

#define REQUIRE_NETNS() \
  if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason

// A process idling in a network namespace of its own: the target's host.
class TargetNamespace {
 public:
  TargetNamespace() {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      const char ok = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
      (void)!::write(ready[1], &ok, 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char ok = 'n';
    if (pid_ < 0 || ::read(ready[0], &ok, 1) != 1 || ok != 'y') pid_ = -1;
    ::close(ready[0]);
  }
  ~TargetNamespace() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  TargetNamespace(const TargetNamespace&) = delete;
  TargetNamespace& operator=(const TargetNamespace&) = delete;

  bool ok() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool sh(const std::string& command) const {
    return run("nsenter -t " + std::to_string(pid_) + " -n sh -c '" + command + "'");
  }
  // TCP segments its kernel took in (IPv4 and IPv6 share the counter).
  uint64_t tcp_in_segments() const {
    const std::string path = "/proc/" + std::to_string(pid_) + "/net/snmp";
    std::ifstream in(path);
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
      if (!names.starts_with("Tcp:")) continue;
      std::istringstream n(names), v(values);
      std::string name, value;
      while (n >> name && v >> value)
        if (name == "InSegs") return std::stoull(value);
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
};

std::vector<uint8_t> syn(const IpAddress& src, const IpAddress& dst, uint16_t sport) {
  TcpSegmentSpec s;
  s.src = src;
  s.dst = dst;
  s.sport = sport;
  s.dport = 9;
  s.seq = 1000u + sport;
  s.flags = tcpflag::kSyn;
  s.window = 65535;
  s.mss = 1460;
  std::vector<uint8_t> out(200);
  out.resize(build_tcp_packet(s, out));
  return out;
}

void send(RouteSender& sender, const std::vector<uint8_t>& p) {
  TcpPacket parsed;
  ASSERT_EQ(TcpPacket::parse(p, parsed), ParseError::kNone);
  auto slot = sender.acquire(parsed.dst);
  std::copy(p.begin(), p.end(), slot.begin());
  sender.commit(p.size());
  sender.flush();
}

// One turn of an event loop: what rtnetlink says, then a packet.
void pump(RouteSender& sender, int wait_ms) {
  pollfd p{sender.event_fd(), POLLIN, 0};
  if (::poll(&p, 1, wait_ms) > 0) sender.on_readable();
}

// Waits for the target's kernel to have taken `want` segments.
uint64_t wait_segments(const TargetNamespace& ns, uint64_t from, uint64_t want) {
  uint64_t got = 0;
  for (int i = 0; i < 200 && (got = ns.tcp_in_segments() - from) < want; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return got;
}

class RouteSenderNetns : public ::testing::TestWithParam<bool> {};

// The target's MAC changes mid-run; it says so (a gratuitous ARP, an
// unsolicited neighbour advertisement), the kernel's neighbour entry
// changes, and every packet still arrives.
TEST_P(RouteSenderNetns, EveryPacketArrivesAcrossAMacChange) {
  REQUIRE_NETNS();
  const bool v6 = GetParam();
  TargetNamespace target;
  ASSERT_TRUE(target.ok());
  const std::string peer = v6 ? "t6" : "t4";
  const std::string ours = v6 ? "o6" : "o4";
  ASSERT_TRUE(run("ip link add " + ours + " type veth peer name " + peer + " && ip link set " + peer + " netns " +
                  std::to_string(target.pid()) + " && ip link set " + ours + " up"));
  const std::string local = v6 ? "fd88::1" : "10.88.0.1";
  const std::string remote = v6 ? "fd88::2" : "10.88.0.2";
  const std::string prefix = v6 ? "/64 nodad" : "/24";
  ASSERT_TRUE(run("ip addr add " + local + prefix + " dev " + ours));
  ASSERT_TRUE(target.sh("ip link set lo up && ip addr add " + remote + prefix + " dev " + peer +
                        " && sysctl -qw net.ipv4.conf." + peer + ".arp_notify=1 net.ipv6.conf." + peer +
                        ".ndisc_notify=1 && ip link set " + peer + " address 02:88:00:00:00:01 up"));

  Logger log;
  log.set_level(LogLevel::kWarn);
  RouteSenderOptions o;
  o.targets = {*IpAddress::parse(remote)};
  RouteSender sender(o, log);
  ASSERT_GE(sender.event_fd(), 0);
  const IpAddress src = *IpAddress::parse(local), dst = *IpAddress::parse(remote);

  const uint64_t start = target.tcp_in_segments();
  uint16_t port = 20000;
  uint64_t sent = 0;
  // Until the neighbour is resolved packets go through the kernel.
  for (int i = 0; i < 300 && sender.ring_of(dst) == nullptr; ++i) {
    pump(sender, 10);
    send(sender, syn(src, dst, port++));
    ++sent;
  }
  ASSERT_NE(sender.ring_of(dst), nullptr) << sender.describe();
  for (int i = 0; i < 50; ++i, ++sent) {
    pump(sender, 0);
    send(sender, syn(src, dst, port++));
  }
  EXPECT_EQ(wait_segments(target, start, sent), sent);
  const uint64_t via_ring_before = sent - sender.fallbacks(FallbackReason::kNoNeighbour);
  EXPECT_GE(via_ring_before, 50u);

  ASSERT_TRUE(target.sh("ip link set dev " + peer + " address 02:88:00:00:00:02"));
  for (int i = 0; i < 100; ++i, ++sent) {
    pump(sender, i == 0 ? 100 : 0);
    send(sender, syn(src, dst, port++));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(wait_segments(target, start, sent), sent) << sender.describe();
  EXPECT_NE(sender.describe().find("to 02:88:00:00:00:02"), std::string::npos) << sender.describe();
  EXPECT_EQ(sender.fallbacks(FallbackReason::kNoEthernet), 0u);
  EXPECT_EQ(sender.fallbacks(FallbackReason::kNoRing), 0u);
  // Most went out the ring, not through the kernel.
  EXPECT_GE(sent - sender.fallbacks(FallbackReason::kNoNeighbour), 150u);
}

INSTANTIATE_TEST_SUITE_P(Families, RouteSenderNetns, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? std::string("IPv6") : std::string("IPv4"); });

// A route through a tun device (no Ethernet framing, as ip-in-ip, GRE or
// WireGuard): raw sockets, said so, counted, and the packets reach it.
TEST(RouteSenderNetnsTun, ADeviceWithoutEthernetFramingUsesRawSockets) {
  REQUIRE_NETNS();
  UniqueFd tun(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!tun) GTEST_SKIP() << "/dev/net/tun: " << std::strerror(errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, "tun7", IFNAMSIZ - 1);
  ASSERT_EQ(ioctl(tun.get(), TUNSETIFF, &ifr), 0) << std::strerror(errno);
  ASSERT_TRUE(run("ip addr add 10.89.0.1/24 dev tun7 && ip -6 addr add fd89::1/64 dev tun7 nodad && "
                  "ip link set tun7 up"));

  Logger log;
  log.set_level(LogLevel::kWarn);
  RouteSenderOptions o;
  o.targets = {*IpAddress::parse("10.89.0.2"), *IpAddress::parse("fd89::2")};
  RouteSender sender(o, log);
  const std::string d = sender.describe();
  EXPECT_NE(d.find("10.89.0.2 raw sockets (tun7 has no Ethernet framing)"), std::string::npos) << d;
  EXPECT_NE(d.find("fd89::2 raw sockets (tun7 has no Ethernet framing)"), std::string::npos) << d;

  send(sender, syn(*IpAddress::parse("10.89.0.1"), *IpAddress::parse("10.89.0.2"), 30000));
  send(sender, syn(*IpAddress::parse("fd89::1"), *IpAddress::parse("fd89::2"), 30001));
  EXPECT_EQ(sender.fallbacks(FallbackReason::kNoEthernet), 2u);
  // Both reach the tun device (IPv6 may be preceded by the kernel's own
  // packets, such as router solicitations).
  int v4 = 0, v6 = 0;
  uint8_t buf[2048];
  for (int i = 0; i < 100 && (v4 == 0 || v6 == 0); ++i) {
    pollfd p{tun.get(), POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = ::read(tun.get(), buf, sizeof buf);
    if (n >= 40 && buf[0] >> 4 == 6 && buf[6] == 6 && buf[39] == 2) ++v6;  // TCP to fd89::2
    if (n >= 20 && buf[0] >> 4 == 4 && buf[9] == 6 && buf[19] == 2) ++v4;  // TCP to 10.89.0.2
  }
  EXPECT_EQ(v4, 1);
  EXPECT_EQ(v6, 1);
}

}  // namespace
}  // namespace tc

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new tc::PrivateNetns);
  return RUN_ALL_TESTS();
}

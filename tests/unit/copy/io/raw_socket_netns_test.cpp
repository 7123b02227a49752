// RawCapture, RingCapture and RawSender on real sockets. The process first moves into
// a network namespace of its own, so the packets stay on a private loopback;
// without the privilege for that (CAP_SYS_ADMIN, CAP_NET_RAW) the tests skip.
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/flow_shard.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/capture/raw_capture.h"
#include "copy/capture/ring_capture.h"
#include "copy/send/raw_sender.h"

namespace tc {
namespace {

std::string g_skip_reason = "namespace not entered";

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) {
      g_skip_reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (!s || ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) {
      g_skip_reason = std::string("SIOCGIFFLAGS lo: ") + std::strerror(errno);
      return;
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) {
      g_skip_reason = std::string("SIOCSIFFLAGS lo up: ") + std::strerror(errno);
      return;
    }
    g_skip_reason.clear();
  }
};

#define REQUIRE_NETNS() \
  if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason

struct Collect final : PacketHandler {
  void on_packet(std::span<const uint8_t> p) override { packets.emplace_back(p.begin(), p.end()); }
  std::vector<std::vector<uint8_t>> packets;
};

std::vector<uint8_t> syn(const char* src, const char* dst, uint16_t dport, uint32_t seq, size_t payload = 0,
                         uint16_t sport = 40000) {
  static const std::vector<uint8_t> zeros(2000, 'x');
  TcpSegmentSpec s;
  s.src = *IpAddress::parse(src);
  s.dst = *IpAddress::parse(dst);
  s.sport = sport;
  s.dport = dport;
  s.seq = seq;
  s.flags = tcpflag::kSyn;
  s.window = 65535;
  s.mss = 1460;
  s.payload = std::span<const uint8_t>(zeros.data(), payload);
  std::vector<uint8_t> out(3000);
  out.resize(build_tcp_packet(s, out));
  return out;
}

// Adds one word of IPv4 options (NOPs) after the 20-byte header.
std::vector<uint8_t> with_ip_option(std::vector<uint8_t> p) {
  const uint8_t nops[4] = {1, 1, 1, 0};
  p.insert(p.begin() + 20, std::begin(nops), std::end(nops));
  p[0] = 0x46;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  return p;
}

void send_all(RawSender& sender, const std::vector<std::vector<uint8_t>>& packets) {
  for (const auto& p : packets) {
    TcpPacket parsed;
    ASSERT_EQ(TcpPacket::parse(p, parsed), ParseError::kNone);
    auto buf = sender.acquire(parsed.dst);
    ASSERT_LE(p.size(), buf.size());
    std::memcpy(buf.data(), p.data(), p.size());
    sender.commit(p.size());
  }
  sender.flush();
}

// Drains until `want` packets arrived or the socket stays quiet for 50 ms
// (loopback delivers within the send call, so that is ample).
void drain_until(CaptureSource& cap, Collect& out, size_t want) {
  while (out.packets.size() < want) {
    pollfd pfd{cap.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) return;
    cap.drain(out);
  }
}

RawSender make_sender(std::vector<const char*> targets) {
  RawSenderOptions o;
  for (const char* t : targets) o.targets.push_back(*IpAddress::parse(t));
  return RawSender(o);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A TCP server listening on `a`; empty when it cannot.
UniqueFd listen_on(const sockaddr_in& a) {
  UniqueFd server(::socket(AF_INET, SOCK_STREAM, 0));
  const int on = 1;
  if (::setsockopt(server.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::bind(server.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(server.get(), 8) != 0)
    return UniqueFd();
  return server;
}

std::vector<uint32_t> seqs(const Collect& c) {
  std::vector<uint32_t> out;
  for (const auto& p : c.packets) {
    TcpPacket t;
    EXPECT_EQ(TcpPacket::parse(p, t), ParseError::kNone);
    out.push_back(t.seq);
  }
  return out;
}

TEST(RawSocketsInNetns, CaptureKeepsOnlyTheReplicatedPorts) {
  REQUIRE_NETNS();
  RawCaptureOptions co;
  co.ports = {8080, 8443};
  RawCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1"});
  send_all(sender, {syn("127.0.0.1", "127.0.0.1", 9090, 11), syn("127.0.0.1", "127.0.0.1", 8080, 1),
                    syn("127.0.0.1", "127.0.0.1", 9091, 12), with_ip_option(syn("127.0.0.1", "127.0.0.1", 8443, 2)),
                    syn("127.0.0.1", "127.0.0.1", 8080, 3, 1000)});
  EXPECT_EQ(sender.stats().packets_sent, 5u);
  Collect got;
  drain_until(cap, got, 3);
  drain_until(cap, got, 4);  // nothing more may come
  EXPECT_EQ(seqs(got), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(cap.stats().packets, 3u);
  EXPECT_EQ(cap.stats().kernel_drops, 0u);  // filtered packets are not drops
  EXPECT_EQ(cap.stats().truncated, 0u);
  EXPECT_GE(cap.receive_buffer_bytes(), 32 << 20);  // SO_RCVBUFFORCE as root
}

TEST(RawSocketsInNetns, CaptureMatchesDestinationAddress) {
  REQUIRE_NETNS();
  RawCaptureOptions co;
  co.ports = {8080};
  co.addresses = {*IpAddress::parse("127.0.0.1")};
  RawCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1", "127.0.0.2"});
  send_all(sender, {syn("127.0.0.1", "127.0.0.2", 8080, 21), syn("127.0.0.1", "127.0.0.1", 8080, 22)});
  Collect got;
  drain_until(cap, got, 2);
  EXPECT_EQ(seqs(got), (std::vector<uint32_t>{22}));
}

// Loopback shows each packet twice to a packet socket (sent, then
// received): the ring keeps the received one only.
TEST(RingCaptureInNetns, KeepsTheReplicatedPortsOnce) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080, 8443};
  RingCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1"});
  send_all(sender, {syn("127.0.0.1", "127.0.0.1", 9090, 11), syn("127.0.0.1", "127.0.0.1", 8080, 1),
                    syn("127.0.0.1", "127.0.0.1", 9091, 12), with_ip_option(syn("127.0.0.1", "127.0.0.1", 8443, 2)),
                    syn("127.0.0.1", "127.0.0.1", 8080, 3, 1000)});
  Collect got;
  drain_until(cap, got, 3);
  drain_until(cap, got, 4);  // nothing more may come
  EXPECT_EQ(seqs(got), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(got.packets.back().size(), 20u + 24u + 1000u);  // IPv4, TCP with MSS, payload
  EXPECT_EQ(cap.stats().packets, 3u);
  EXPECT_EQ(cap.stats().kernel_drops, 0u);
  EXPECT_EQ(cap.stats().truncated, 0u);
  EXPECT_GE(cap.stats().blocks, 1u);
}

TEST(RingCaptureInNetns, MatchesDestinationAddress) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  co.addresses = {*IpAddress::parse("127.0.0.1")};
  RingCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1", "127.0.0.2"});
  send_all(sender, {syn("127.0.0.1", "127.0.0.2", 8080, 21), syn("127.0.0.1", "127.0.0.1", 8080, 22)});
  Collect got;
  drain_until(cap, got, 2);
  EXPECT_EQ(seqs(got), (std::vector<uint32_t>{22}));
}

TEST(RingCaptureInNetns, SeesIpv6WithItsOwnHeader) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  RingCapture cap(co);
  RawSender sender = make_sender({"::1"});
  send_all(sender, {syn("::1", "::1", 9090, 30), syn("::1", "::1", 8080, 31, 100)});
  if (sender.stats().errors(EADDRNOTAVAIL) + sender.stats().errors(ENETUNREACH) > 0)
    GTEST_SKIP() << "no IPv6 on loopback";
  Collect got;
  drain_until(cap, got, 1);
  drain_until(cap, got, 2);
  ASSERT_EQ(seqs(got), (std::vector<uint32_t>{31}));
  EXPECT_EQ(got.packets[0][0] >> 4, 6);
  EXPECT_EQ(got.packets[0].size(), 40u + 20u + 4u + 100u);  // IPv6, TCP with MSS, payload
}

// With the comparison the ring also carries what the host sends from the
// replicated ports, cut to the answer prefix, to the answer handler, and in
// the kernel's order: a request before the answer it caused.
TEST(RingCaptureInNetns, CarriesTheAnswersInOrderWithTheRequests) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  co.answer_snaplen = 256;
  RingCapture cap(co);
  struct Tagged final : PacketHandler {
    Tagged(std::vector<std::string>& l, const char* t) : log(l), tag(t) {}
    void on_packet(std::span<const uint8_t> p) override {
      TcpPacket t;
      if (TcpPacket::parse(p, t, Extent::kHeadersOnly) != ParseError::kNone || t.payload_len == 0) return;
      log.push_back(std::string(tag) + " " + std::to_string(t.payload_len) + " " + std::to_string(p.size()));
    }
    std::vector<std::string>& log;
    const char* tag;
  };
  std::vector<std::string> log;
  Tagged requests(log, "request"), answers(log, "answer");
  cap.deliver_answers_to(answers);

  const sockaddr_in a = loopback(8080);
  UniqueFd server = listen_on(a);
  ASSERT_TRUE(server);
  UniqueFd client(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  UniqueFd conn(::accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn);
  const std::string request(10, 'q'), answer(1000, 'a');
  ASSERT_EQ(::send(client.get(), request.data(), request.size(), 0), 10);
  char buf[64];
  ASSERT_EQ(::recv(conn.get(), buf, sizeof buf, 0), 10);
  ASSERT_EQ(::send(conn.get(), answer.data(), answer.size(), 0), 1000);

  for (int i = 0; i < 20 && log.size() < 2; ++i) {
    pollfd pfd{cap.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 50) > 0) cap.drain(requests);
  }
  // The request whole; the answer cut to 256 bytes, its headers saying 1000.
  EXPECT_EQ(log, (std::vector<std::string>{"request 10 62", "answer 1000 256"}));
  EXPECT_GE(cap.stats().answers, 2u);  // the SYN-ACK and the answer at least, perhaps an ack
  EXPECT_EQ(cap.stats().truncated, 0u);
}

// --workers: rings in one fanout group share the connections by client
// port (FlowShard::worker_of): the source port of a request, the
// destination port of an answer.
TEST(RingCaptureInNetns, AFanoutGroupGivesEachWorkerItsClientPorts) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  co.answer_snaplen = 256;
  co.fanout_members = 3;
  RingCapture first(co);
  ASSERT_NE(first.fanout_group(), 0);
  co.fanout_group = first.fanout_group();
  RingCapture second(co);
  RingCapture third(co);
  EXPECT_EQ(second.fanout_group(), first.fanout_group());
  EXPECT_NE(first.describe().find("fanout group"), std::string::npos) << first.describe();
  RingCapture* rings[3] = {&first, &second, &third};

  RawSender sender = make_sender({"127.0.0.1", "::1"});
  std::vector<std::vector<uint8_t>> packets;
  for (uint16_t port = 40000; port < 40012; ++port) {
    packets.push_back(syn("127.0.0.1", "127.0.0.1", 8080, port, 0, port));
    packets.push_back(with_ip_option(syn("127.0.0.1", "127.0.0.1", 8080, port + 100, 0, port)));
  }
  send_all(sender, packets);
  const bool v6 = sender.stats().errors(EADDRNOTAVAIL) + sender.stats().errors(ENETUNREACH) == 0;
  if (v6) {
    packets.clear();
    for (uint16_t port = 41000; port < 41006; ++port) packets.push_back(syn("::1", "::1", 8080, port, 0, port));
    send_all(sender, packets);
  }
  // Answers: what the host sends from 8080, to each client port.
  const sockaddr_in a = loopback(8080);
  UniqueFd server = listen_on(a);
  ASSERT_TRUE(server);
  const int on = 1;
  std::vector<UniqueFd> kept;
  for (uint16_t port = 42000; port < 42003; ++port) {
    UniqueFd client(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in from = a;
    from.sin_port = htons(port);
    ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
    ASSERT_EQ(::bind(client.get(), reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    UniqueFd conn(::accept(server.get(), nullptr, nullptr));
    ASSERT_TRUE(conn);
    ASSERT_EQ(::send(conn.get(), "answer", 6, 0), 6);
    kept.push_back(std::move(client));
    kept.push_back(std::move(conn));
  }

  struct ByPort final : PacketHandler {
    void on_packet(std::span<const uint8_t> p) override {
      TcpPacket t;
      if (TcpPacket::parse(p, t, Extent::kHeadersOnly) == ParseError::kNone) ports.push_back(answers ? t.dport : t.sport);
    }
    bool answers = false;
    std::vector<uint16_t> ports;
  };
  ByPort requests[3], answers[3];
  for (int i = 0; i < 3; ++i) {
    answers[i].answers = true;
    rings[i]->deliver_answers_to(answers[i]);
  }
  auto syns = [](uint16_t port) { return (port >= 40000 && port < 40012) || (port >= 41000 && port < 41006); };
  const size_t want = 24u + (v6 ? 6u : 0u);  // the SYNs (IPv4 with and without IP options, IPv6) once each
  for (int round = 0; round < 200; ++round) {
    size_t seen = 0, answered = 0;
    for (int i = 0; i < 3; ++i) {
      pollfd pfd{rings[i]->fd(), POLLIN, 0};
      if (::poll(&pfd, 1, 10) > 0) rings[i]->drain(requests[i]);
      for (uint16_t port : requests[i].ports) seen += syns(port);
      answered += answers[i].ports.size();
    }
    if (seen >= want && answered >= 6) break;
  }
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    for (uint16_t port : requests[i].ports) {
      EXPECT_EQ(FlowShard::worker_of(port, 3), i) << "request from client port " << port << " reached worker " << i;
      total += syns(port);
    }
    for (uint16_t port : answers[i].ports)
      EXPECT_EQ(FlowShard::worker_of(port, 3), i) << "answer to client port " << port << " reached worker " << i;
  }
  EXPECT_EQ(total, want);
  size_t answered = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(requests[i].ports.empty()) << "worker " << i << " got nothing";
    for (uint16_t port : answers[i].ports) answered += port >= 42000 && port < 42003;
  }
  EXPECT_GE(answered, 3u);  // each connection's SYN-ACK and answer at least
}

TEST(RingCaptureInNetns, LeavesExcludedInterfacesOut) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  co.excluded_ifindexes = {static_cast<int>(if_nametoindex("lo"))};
  RingCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1"});
  send_all(sender, {syn("127.0.0.1", "127.0.0.1", 8080, 41)});
  Collect got;
  drain_until(cap, got, 1);
  EXPECT_TRUE(got.packets.empty());
}

TEST(RingCaptureInNetns, ASmallRingCountsItsDrops) {
  REQUIRE_NETNS();
  RingCaptureOptions co;
  co.ports = {8080};
  co.block_bytes = static_cast<size_t>(::getpagesize());
  co.block_count = 2;
  RingCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1"});
  std::vector<std::vector<uint8_t>> burst;
  for (uint32_t i = 0; i < 100; ++i) burst.push_back(syn("127.0.0.1", "127.0.0.1", 8080, i, 1000));
  send_all(sender, burst);
  Collect got;
  drain_until(cap, got, 100);
  EXPECT_LT(cap.stats().packets, 100u);
  EXPECT_EQ(cap.stats().packets + cap.stats().kernel_drops, 100u)
      << cap.stats().packets << " delivered, " << cap.stats().kernel_drops << " dropped";
}

TEST(RawSocketsInNetns, QueueOverflowIsCountedAsKernelDrops) {
  REQUIRE_NETNS();
  RawCaptureOptions co;
  co.ports = {8080};
  co.receive_buffer_bytes = 1;  // the kernel's minimum
  RawCapture cap(co);
  RawSender sender = make_sender({"127.0.0.1"});
  std::vector<std::vector<uint8_t>> burst;
  for (uint32_t i = 0; i < 100; ++i) burst.push_back(syn("127.0.0.1", "127.0.0.1", 8080, i, 1000));
  send_all(sender, burst);
  Collect got;
  drain_until(cap, got, 100);
  // The drop total rides on the next packet queued after the drops.
  send_all(sender, {syn("127.0.0.1", "127.0.0.1", 8080, 1000)});
  drain_until(cap, got, got.packets.size() + 1);
  // Every lost SYN is counted. While the queue is full the kernel also
  // counts packets the filter would have rejected (the RSTs the stack sends
  // back to the closed port), so the total may be higher.
  EXPECT_LT(cap.stats().packets, 101u);
  EXPECT_GE(cap.stats().packets + cap.stats().kernel_drops, 101u)
      << cap.stats().packets << " delivered, " << cap.stats().kernel_drops << " dropped";
}

TEST(RawSocketsInNetns, SendErrorsAreCountedNotFatal) {
  REQUIRE_NETNS();
  // Only lo exists in the namespace: 10.99.0.1 has no route.
  RawSender sender = make_sender({"10.99.0.1"});
  EXPECT_NO_THROW(send_all(sender, {syn("127.0.0.1", "10.99.0.1", 80, 1), syn("127.0.0.1", "10.99.0.1", 80, 2),
                                    syn("127.0.0.1", "10.99.0.1", 80, 3)}));
  EXPECT_EQ(sender.stats().packets_sent, 0u);
  EXPECT_EQ(sender.stats().errors(ENETUNREACH), 3u);
}

TEST(RawSocketsInNetns, SendsIpv6) {
  REQUIRE_NETNS();
  UniqueFd rx(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  ASSERT_TRUE(rx);
  RawSender sender = make_sender({"::1"});
  send_all(sender, {syn("::1", "::1", 8080, 77)});
  if (sender.stats().errors(EADDRNOTAVAIL) + sender.stats().errors(ENETUNREACH) > 0)
    GTEST_SKIP() << "no IPv6 on loopback";
  EXPECT_EQ(sender.stats().packets_sent, 1u);
  pollfd pfd{rx.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 500), 1);
  uint8_t buf[200];
  const ssize_t n = ::recv(rx.get(), buf, sizeof buf, 0);  // a raw IPv6 socket hands over the TCP header
  ASSERT_GE(n, 20);
  EXPECT_EQ((buf[2] << 8) | buf[3], 8080);
  EXPECT_EQ((uint32_t{buf[4]} << 24) | (uint32_t{buf[5]} << 16) | (uint32_t{buf[6]} << 8) | buf[7], 77u);
}

TEST(RawSocketsInNetns, MissingCapabilityIsExplained) {
  REQUIRE_NETNS();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Drop every capability, then try to open both sockets.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capset, &hdr, data) != 0) _exit(2);
    int ok = 0;
    try {
      RawCaptureOptions co;
      co.ports = {80};
      RawCapture cap(co);
    } catch (const std::system_error& e) {
      if (std::string(e.what()).find("needs CAP_NET_RAW") != std::string::npos && e.code().value() == EPERM) ok |= 1;
    }
    try {
      RawSender s = make_sender({"127.0.0.1"});
    } catch (const std::system_error& e) {
      if (std::string(e.what()).find("needs CAP_NET_RAW") != std::string::npos) ok |= 2;
    }
    _exit(ok == 3 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tc

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new tc::PrivateNetns);  // gtest owns it
  return RUN_ALL_TESTS();
}

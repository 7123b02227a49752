// NfqueueSocket against a real kernel queue, inside a private network
// namespace created by a forked child (so the test process and its other
// tests keep their namespace). Needs root and iptables; skipped otherwise.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/tcp_packet.h"
#include "common/unique_fd.h"
#include "intercept/nfqueue/nfqueue_socket.h"
#include "intercept/nfqueue/nfqueue_source.h"

namespace tc::intercept {
namespace {

constexpr int kSkip = 77;
constexpr uint16_t kQueue = 7;
constexpr uint16_t kPort = 5555;

// Records every packet and answers with a fixed decision.
class RecordingDecider : public PacketDecider {
 public:
  bool accept(std::span<const uint8_t> packet) override {
    TcpPacket p;
    if (TcpPacket::parse(packet, p, Extent::kHeadersOnly) == ParseError::kNone && p.sport == kPort &&
        p.syn() && p.has_ack())
      ++syn_acks;
    ++seen;
    return accept_all;
  }
  bool accept_all = false;
  int seen = 0;
  int syn_acks = 0;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::strerror(errno));
  std::fflush(stderr);
  _exit(1);
}

bool loopback_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0;
}

bool wait_readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

bool wait_connected(int fd, int ms) {
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, ms) != 1) return false;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

// Runs in the child; exit status 0 means the checks passed.
[[noreturn]] void run_in_private_namespace() {
  if (unshare(CLONE_NEWNET) != 0 || !loopback_up()) _exit(kSkip);
  const std::string rule = "iptables -w -A OUTPUT -p tcp --sport " + std::to_string(kPort) +
                           " -j NFQUEUE --queue-num " + std::to_string(kQueue) + " >/dev/null 2>&1";
  if (std::system(rule.c_str()) != 0) _exit(kSkip);

  NfqueueSocket queue({kQueue, 64});
  NfqueueSource source(queue, kQueue);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPort);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener.get(), 8) != 0)
    fail("listen");
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);

  // The SYN-ACK is queued and dropped: the client must not get connected.
  RecordingDecider decider;
  if (!wait_readable(queue.fd(), 2000)) fail("no packet queued");
  source.drain(decider);
  if (decider.syn_acks < 1) fail("first queued packet was not the SYN-ACK");
  if (wait_connected(client.get(), 300)) fail("connected although the SYN-ACK was dropped");

  // The retransmitted SYN-ACK is accepted: now the handshake completes.
  decider.accept_all = true;
  for (int i = 0; i < 40 && decider.syn_acks < 2; ++i)
    if (wait_readable(queue.fd(), 100)) source.drain(decider);
  if (decider.syn_acks < 2) fail("no retransmitted SYN-ACK");
  if (!wait_connected(client.get(), 2000)) fail("not connected after accept");
  if (source.counters().verdicts_drop < 1 || source.counters().verdicts_accept < 1) fail("counters");
  _exit(0);
}

TEST(NfqueueNetns, DropThenAcceptOnARealQueue) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      run_in_private_namespace();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      _exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kSkip) GTEST_SKIP() << "cannot create a network namespace with an NFQUEUE rule";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's message above";
}

}  // namespace
}  // namespace tc::intercept

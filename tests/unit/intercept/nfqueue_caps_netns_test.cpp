// Which capability intercept must keep once its queue is bound: a verdict
// is a netlink message to nfnetlink, which checks CAP_NET_ADMIN of the
// sender at every message. Shown on a real queue in a private network
// namespace (forked child, root only).
#include <linux/capability.h>
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

#include "common/process/capabilities.h"
#include "common/unique_fd.h"
#include "intercept/nfqueue/nfqueue_socket.h"
#include "intercept/nfqueue/nfqueue_source.h"

namespace tc::intercept {
namespace {

constexpr int kSkip = 77;
constexpr int kConnected = 10;
constexpr int kNotConnected = 11;
constexpr uint16_t kQueue = 9;
constexpr uint16_t kPort = 5556;

class AcceptAll : public PacketDecider {
 public:
  bool accept(std::span<const uint8_t>) override { return true; }
};

bool loopback_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0;
}

// Child: bind the queue, drop to `keep`, then let the SYN-ACK through.
[[noreturn]] void accept_after_drop(bool keep_net_admin) {
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
    _exit(1);

  if (keep_net_admin) drop_capabilities({CAP_NET_ADMIN});
  else drop_capabilities({});
  const unsigned long long expect = keep_net_admin ? 1ull << CAP_NET_ADMIN : 0;
  if (effective_capabilities() != expect) _exit(2);

  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  AcceptAll decider;
  for (int i = 0; i < 15; ++i) {
    pollfd q{queue.fd(), POLLIN, 0};
    if (::poll(&q, 1, 100) == 1) source.drain(decider);
    pollfd c{client.get(), POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&c, 1, 0) == 1 && getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
      _exit(kConnected);
  }
  _exit(kNotConnected);
}

int run_child(bool keep_net_admin) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      accept_after_drop(keep_net_admin);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      _exit(1);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(NfqueueCapabilities, VerdictsNeedCapNetAdminAfterTheDrop) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const int kept = run_child(true);
  if (kept == kSkip) GTEST_SKIP() << "cannot create a network namespace with an NFQUEUE rule";
  EXPECT_EQ(kept, kConnected) << "with CAP_NET_ADMIN kept, the accept verdict goes through";
  EXPECT_EQ(run_child(false), kNotConnected) << "without it nfnetlink refuses the verdict";
}

}  // namespace
}  // namespace tc::intercept

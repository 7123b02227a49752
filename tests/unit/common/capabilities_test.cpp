#include "common/process/capabilities.h"

#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace tc {
namespace {

std::string status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) return line.substr(name.size() + 1);
  return "";
}

bool can_open_raw_socket() {
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

// Runs `fn` in a child (the drop is for good) and returns its exit status.
template <typename Fn>
int in_child(Fn fn) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      _exit(fn());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      _exit(100);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Capabilities, KeepOnlyWhatIsAsked) {
  if (geteuid() != 0 || !can_open_raw_socket()) GTEST_SKIP() << "needs root with CAP_NET_RAW";
  EXPECT_EQ(in_child([] {
              // An open raw socket keeps working without the capability.
              const int raw = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
              if (raw < 0) return 1;
              const std::string line = drop_capabilities({CAP_NET_ADMIN});
              if (line.find("kept cap_net_admin") == std::string::npos) return 2;
              if (effective_capabilities() != 1ull << CAP_NET_ADMIN) return 3;
              if (can_open_raw_socket()) return 4;
              if (status_field("NoNewPrivs").find('1') == std::string::npos) return 5;
              if (status_field("CapInh").find("0000000000000000") == std::string::npos) return 6;
              if (status_field("CapAmb").find("0000000000000000") == std::string::npos) return 7;
              sockaddr_in to{};
              to.sin_family = AF_INET;
              to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
              const uint8_t probe[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};
              if (::sendto(raw, probe, sizeof probe, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) != 20) return 8;
              return 0;
            }),
            0);
}

TEST(Capabilities, DropEverything) {
  if (geteuid() != 0 || !can_open_raw_socket()) GTEST_SKIP() << "needs root with CAP_NET_RAW";
  EXPECT_EQ(in_child([] {
              const std::string line = drop_capabilities({});
              if (line.find("kept none") == std::string::npos) return 1;
              if (effective_capabilities() != 0) return 2;
              if (status_field("CapPrm").find("0000000000000000") == std::string::npos) return 3;
              // Asking for a capability the process no longer has keeps nothing.
              if (drop_capabilities({CAP_NET_RAW}).find("kept none") == std::string::npos) return 4;
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace tc

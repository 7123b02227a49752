#include "common/doctor/host.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "common/unique_fd.h"

extern char** environ;

namespace tc::doctor {

std::optional<std::string> SystemHost::read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

constexpr size_t kMaxCommandOutput = 4 << 20;

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : std::string();
  std::string dirs;
  if (const char* path = std::getenv("PATH")) dirs = path;
  // Admin tools live in sbin, which a non-root PATH often lacks.
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::string_view rest = dirs;
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Spawn actions and attributes, released on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

CommandResult SystemHost::run(const std::vector<std::string>& argv) {
  CommandResult r;
  if (argv.empty()) return r;
  const std::string path = find_program(argv[0]);
  if (path.empty()) {
    r.err = argv[0] + ": command not found";
    return r;
  }
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  SpawnSetup spawn;
  posix_spawn_file_actions_addopen(&spawn.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&spawn.actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&spawn.actions, err_write.get(), 2);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&spawn.attr, &none);
  posix_spawnattr_setflags(&spawn.attr, POSIX_SPAWN_SETSIGMASK);

  // Messages in English, so the parsers can read them.
  std::vector<std::string> env_text;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("LC_") || v.starts_with("LANG=") || v.starts_with("LANGUAGE=")) continue;
    env_text.emplace_back(v);
  }
  env_text.emplace_back("LC_ALL=C");
  std::vector<char*> envp, args;
  for (auto& v : env_text) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_text(argv);
  for (auto& a : arg_text) args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  if (const int rc = posix_spawn(&pid, path.c_str(), &spawn.actions, &spawn.attr, args.data(), envp.data());
      rc != 0) {
    r.err = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  r.started = true;
  out_write.reset();
  err_write.reset();

  const TimePoint deadline = monotonic_now() + timeout_;
  bool timed_out = false;
  while (out_read || err_read) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - monotonic_now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    struct Stream {
      UniqueFd& fd;
      std::string& text;
      short revents;
    } streams[] = {{out_read, r.out, fds[0].revents}, {err_read, r.err, fds[1].revents}};
    for (Stream& s : streams) {
      if (!s.fd || !(s.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      const ssize_t got = ::read(s.fd.get(), buf, sizeof buf);
      if (got > 0) {
        if (s.text.size() < kMaxCommandOutput) s.text.append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        s.fd.reset();
      }
    }
  }
  if (timed_out) kill(pid, SIGKILL);  // our own child, by its id
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    r.err += "\n" + argv[0] + ": no answer within " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout_).count()) + " s";
    r.exit_status = -1;
  } else {
    r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return r;
}

std::vector<Interface> SystemHost::interfaces() {
  std::vector<Interface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::map<std::string, Interface> by_name;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    Interface& i = by_name[a->ifa_name];
    i.name = a->ifa_name;
    i.up = (a->ifa_flags & IFF_UP) != 0;
    i.loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
    if (!a->ifa_addr) continue;
    if (a->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sa{};
      std::memcpy(&sa, a->ifa_addr, sizeof sa);
      std::array<uint8_t, 4> b{};
      std::memcpy(b.data(), &sa.sin_addr, 4);
      i.addresses.push_back(IpAddress::from_v4(b));
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sa{};
      std::memcpy(&sa, a->ifa_addr, sizeof sa);
      std::array<uint8_t, 16> b{};
      std::memcpy(b.data(), &sa.sin6_addr, 16);
      i.addresses.push_back(IpAddress::from_v6(b));
    }
  }
  freeifaddrs(list);
  for (auto& [name, i] : by_name) out.push_back(std::move(i));
  return out;
}

std::optional<Offloads> SystemHost::offloads(const std::string& interface) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd || interface.size() >= IFNAMSIZ) return std::nullopt;
  auto get = [&](uint32_t cmd) -> std::optional<uint32_t> {
    ethtool_value value{};
    value.cmd = cmd;
    ifreq req{};
    std::memcpy(req.ifr_name, interface.c_str(), interface.size());
    req.ifr_data = reinterpret_cast<char*>(&value);
    if (ioctl(fd.get(), SIOCETHTOOL, &req) != 0) return std::nullopt;
    return value.data;
  };
  const auto gro = get(ETHTOOL_GGRO);
  const auto flags = get(ETHTOOL_GFLAGS);
  if (!gro && !flags) return std::nullopt;
  Offloads o;
  o.gro = gro.value_or(0) != 0;
  o.lro = (flags.value_or(0) & ETH_FLAG_LRO) != 0;
  return o;
}

}  // namespace tc::doctor

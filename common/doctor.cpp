#include "common/doctor.h"

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
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "common/unique_fd.h"

extern char** environ;

namespace tc::doctor {

// ---- report ------------------------------------------------------------------

void Report::add(Severity s, std::string check, std::string detail, std::string fix) {
  findings_.push_back({s, std::move(check), std::move(detail), std::move(fix)});
}
void Report::ok(std::string check, std::string detail) { add(Severity::kOk, std::move(check), std::move(detail), {}); }
void Report::info(std::string check, std::string detail, std::string fix) {
  add(Severity::kInfo, std::move(check), std::move(detail), std::move(fix));
}
void Report::warn(std::string check, std::string detail, std::string fix) {
  add(Severity::kWarn, std::move(check), std::move(detail), std::move(fix));
}
void Report::problem(std::string check, std::string detail, std::string fix) {
  add(Severity::kProblem, std::move(check), std::move(detail), std::move(fix));
}

size_t Report::count(Severity s) const {
  return static_cast<size_t>(
      std::count_if(findings_.begin(), findings_.end(), [s](const Finding& f) { return f.severity == s; }));
}

std::string Report::text(std::string_view program) const {
  std::string out;
  for (const Finding& f : findings_) {
    switch (f.severity) {
      case Severity::kOk: out += "[ ok ] "; break;
      case Severity::kInfo: out += "[info] "; break;
      case Severity::kWarn: out += "[warn] "; break;
      case Severity::kProblem: out += "[FAIL] "; break;
    }
    out += f.check + ": " + f.detail + "\n";
    if (!f.fix.empty()) out += "       fix: " + f.fix + "\n";
  }
  const size_t problems = count(Severity::kProblem), warnings = count(Severity::kWarn);
  out += std::string(program) + " --check: ";
  out += problems == 0 ? std::string("ready") : std::to_string(problems) + (problems == 1 ? " problem" : " problems");
  if (warnings > 0) out += ", " + std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
  out += "\n";
  return out;
}

// ---- pure parsers ------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_cap_eff(std::string_view text) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.starts_with("CapEff:")) continue;
    line = trim(line.substr(7));
    uint64_t mask = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), mask, 16);
    if (ec != std::errc() || end != line.data() + line.size() || line.empty()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

std::optional<int> parse_sysctl_int(std::string_view text) {
  text = trim(text);
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

RouteLookup parse_ip_route_get(const CommandResult& result) {
  RouteLookup r;
  if (!result.started) {
    r.error = result.err;
    return r;
  }
  if (result.exit_status != 0) {
    std::string_view e = trim(result.err);
    e = e.substr(0, e.find('\n'));
    if (e.starts_with("RTNETLINK answers: ")) e.remove_prefix(19);
    if (e.starts_with("Error: ")) e.remove_prefix(7);
    r.error = e.empty() ? "ip route get failed with status " + std::to_string(result.exit_status) : std::string(e);
    return r;
  }
  const std::string_view first = std::string_view(result.out).substr(0, result.out.find('\n'));
  const auto w = words(first);
  if (w.empty()) {
    r.error = "ip route get printed nothing";
    return r;
  }
  static constexpr std::string_view kTypes[] = {"unicast", "local",   "broadcast", "multicast", "unreachable",
                                                "blackhole", "prohibit", "throw",     "nat",       "anycast"};
  r.type = "unicast";
  for (std::string_view t : kTypes)
    if (w[0] == t) r.type = std::string(t);
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == "via") r.via = std::string(w[i + 1]);
    else if (w[i] == "dev") r.dev = std::string(w[i + 1]);
    else if (w[i] == "src") r.src = std::string(w[i + 1]);
  }
  r.found = true;
  return r;
}

// ---- the real host -------------------------------------------------------------

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

// ---- shared checks -------------------------------------------------------------

std::optional<int> rp_filter(Host& host, const std::string& interface) {
  const auto all = host.read_file("/proc/sys/net/ipv4/conf/all/rp_filter");
  const auto one = host.read_file("/proc/sys/net/ipv4/conf/" + interface + "/rp_filter");
  const auto a = all ? parse_sysctl_int(*all) : std::nullopt;
  const auto i = one ? parse_sysctl_int(*one) : std::nullopt;
  if (!a || !i) return std::nullopt;
  return effective_rp_filter(*a, *i);
}

void check_capabilities(Host& host, Report& report, const std::vector<NeededCapability>& caps,
                        std::string_view program) {
  const auto status = host.read_file("/proc/self/status");
  const auto mask = status ? parse_cap_eff(*status) : std::nullopt;
  if (!mask) {
    report.warn("privileges", "cannot read CapEff from /proc/self/status", "run the check as the service runs");
    return;
  }
  for (const NeededCapability& c : caps) {
    const std::string check = std::string("privileges ") + c.name;
    if (has_capability(*mask, c.cap)) {
      report.ok(check, std::string("effective (for ") + c.why + ")");
      continue;
    }
    const std::string fix = "run " + std::string(program) + " as root, or grant " + c.name +
                            " (the systemd unit does: AmbientCapabilities=" + c.name + ")";
    if (c.required)
      report.problem(check, std::string("missing: needed for ") + c.why, fix);
    else
      report.info(check, std::string("missing: only needed for ") + c.why, fix);
  }
}

void check_ip_forward(Host& host, Report& report, bool assistant) {
  if (assistant) {
    // IPv6 replies would be forwarded just the same.
    const auto v6 = host.read_file("/proc/sys/net/ipv6/conf/all/forwarding");
    const auto on = v6 ? parse_sysctl_int(*v6) : std::nullopt;
    if (on && *on != 0)
      report.problem("ipv6 forwarding",
                     "1: this assistant host receives the target's IPv6 replies and would route them on to the "
                     "real clients",
                     "sysctl -w net.ipv6.conf.all.forwarding=0, and set it in /etc/sysctl.d/ to keep it");
  }
  const auto text = host.read_file("/proc/sys/net/ipv4/ip_forward");
  const auto value = text ? parse_sysctl_int(*text) : std::nullopt;
  if (!value) {
    report.info("ip_forward", "cannot read /proc/sys/net/ipv4/ip_forward");
    return;
  }
  if (*value == 0) {
    report.ok("ip_forward", "0 (this host forwards nothing)");
    return;
  }
  if (assistant) {
    report.problem("ip_forward",
                   "1: this assistant host receives the target's replies and would route them on to the "
                   "real clients",
                   "sysctl -w net.ipv4.ip_forward=0, and set it in /etc/sysctl.d/ to keep it");
    return;
  }
  report.info("ip_forward",
              "1: harmless here, replies are taken off this host's OUTPUT path; it must be 0 only on an "
              "assistant host that receives the target's replies by routing");
}

std::optional<RouteLookup> check_route(Host& host, Report& report, const IpAddress& addr, const std::string& check,
                                       const std::string& fix) {
  const CommandResult res = host.run({"ip", "route", "get", addr.to_string()});
  if (!res.started) {
    report.info(check, "cannot look the route up: " + res.err, "install iproute2");
    return std::nullopt;
  }
  RouteLookup r = parse_ip_route_get(res);
  if (!r.found) {
    report.problem(check, "no route to " + addr.to_string() + " (" + r.error + ")", fix);
    return std::nullopt;
  }
  if (r.type == "unreachable" || r.type == "blackhole" || r.type == "prohibit" || r.type == "throw") {
    report.problem(check, "the route to " + addr.to_string() + " is of type " + r.type, fix);
    return std::nullopt;
  }
  return r;
}

}  // namespace tc::doctor

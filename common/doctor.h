// The deployment doctor's shared parts: findings and their report, a seam
// over what the checks read from the host (files, commands, interfaces), the
// pure parsers of what they read, and the checks both programs run.
//
// Checks never change the host. Each finding says what is wrong and how to
// fix it; the exit status is 1 when any finding is a problem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"

namespace tc::doctor {

enum class Severity : uint8_t { kOk, kInfo, kWarn, kProblem };

struct Finding {
  Severity severity = Severity::kOk;
  std::string check;   // what was looked at: "privileges", "intercept 10.0.0.2:36524"
  std::string detail;  // what was found
  std::string fix;     // what to do; empty for ok and info
};

class Report {
 public:
  void ok(std::string check, std::string detail);
  void info(std::string check, std::string detail, std::string fix = {});
  void warn(std::string check, std::string detail, std::string fix);
  void problem(std::string check, std::string detail, std::string fix);

  const std::vector<Finding>& findings() const { return findings_; }
  size_t count(Severity s) const;
  // 0: ready, 1: problems found.
  int exit_status() const { return count(Severity::kProblem) > 0 ? 1 : 0; }
  // Every finding, then a summary line naming the program.
  std::string text(std::string_view program) const;

 private:
  void add(Severity s, std::string check, std::string detail, std::string fix);
  std::vector<Finding> findings_;
};

struct CommandResult {
  bool started = false;   // false: the program was not found or could not run
  int exit_status = -1;   // -1: killed (timeout) or abnormal end
  std::string out;        // standard output (capped)
  std::string err;        // standard error (capped), or why it did not start
};

struct Interface {
  std::string name;
  bool up = false;
  bool loopback = false;
  std::vector<IpAddress> addresses;
};

struct Offloads {
  bool gro = false;
  bool lro = false;
};

// What the checks read from the host. Tests give a fake one.
class Host {
 public:
  virtual ~Host() = default;
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  // Runs a program (looked up in PATH, then /usr/sbin and /sbin) with a
  // time limit; never through a shell.
  virtual CommandResult run(const std::vector<std::string>& argv) = 0;
  virtual std::vector<Interface> interfaces() = 0;
  // nullopt when the driver does not say (or the interface is gone).
  virtual std::optional<Offloads> offloads(const std::string& interface) = 0;
};

// The real host: files, posix_spawn with pipes, getifaddrs, ethtool ioctls.
class SystemHost : public Host {
 public:
  explicit SystemHost(Duration command_timeout = 5s) : timeout_(command_timeout) {}
  std::optional<std::string> read_file(const std::string& path) override;
  CommandResult run(const std::vector<std::string>& argv) override;
  std::vector<Interface> interfaces() override;
  std::optional<Offloads> offloads(const std::string& interface) override;

 private:
  Duration timeout_;
};

// ---- pure parsers ------------------------------------------------------------

inline constexpr int kCapNetAdmin = 12;
inline constexpr int kCapNetRaw = 13;

// The CapEff mask of a /proc/PID/status text.
std::optional<uint64_t> parse_cap_eff(std::string_view proc_status);
inline bool has_capability(uint64_t mask, int cap) { return (mask >> cap) & 1u; }

// A /proc/sys value holding one integer ("1\n").
std::optional<int> parse_sysctl_int(std::string_view text);
// The kernel uses the larger of conf/all and conf/IFACE for rp_filter.
inline int effective_rp_filter(int all, int iface) { return all > iface ? all : iface; }

// The answer of `ip route get ADDR`.
struct RouteLookup {
  bool found = false;
  std::string type;   // "unicast", "local", "broadcast", "unreachable", ...
  std::string dev;
  std::string via;    // gateway, empty when on-link
  std::string src;
  std::string error;  // why there is no route ("Network is unreachable")
};
RouteLookup parse_ip_route_get(const CommandResult& result);

// ---- checks both programs run -------------------------------------------------

// rp_filter of an interface as the kernel applies it; nullopt if unreadable.
std::optional<int> rp_filter(Host& host, const std::string& interface);

struct NeededCapability {
  int cap;
  const char* name;  // "CAP_NET_RAW"
  const char* why;   // "raw sockets: capture and send"
  bool required;     // false: missing is only worth a note
};
void check_capabilities(Host& host, Report& report, const std::vector<NeededCapability>& caps,
                        std::string_view program);

// ip_forward: a problem on an assistant host (it would forward the target's
// replies on to the clients), a note elsewhere. On an assistant host IPv6
// forwarding is a problem too.
void check_ip_forward(Host& host, Report& report, bool assistant);

// The route the host would use to reach `addr`, when there is a usable one.
// Otherwise nullopt, and the report says why under `check`: no route or an
// unreachable/blackhole/prohibit one is a problem (with `fix`), a missing
// `ip` command a note. A local route is returned: callers decide.
std::optional<RouteLookup> check_route(Host& host, Report& report, const IpAddress& addr, const std::string& check,
                                       const std::string& fix);

}  // namespace tc::doctor

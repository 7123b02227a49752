#include "common/doctor/checks.h"

#include <algorithm>

namespace tc::doctor {

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

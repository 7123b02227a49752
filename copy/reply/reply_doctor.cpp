#include "copy/reply/reply_doctor.h"

#include <algorithm>

namespace tc {

namespace {

using doctor::Host;
using doctor::Report;

const char* kRouteHint = "on the target: ip route add <the -c addresses> via <this host's address toward the target>";

// -c: given, and none of its addresses local here.
void check_client_addresses(const CopyOptions& o, Host& host, Report& report) {
  const ClientMap& map = o.engine.client_map;
  if (map.empty()) {
    report.problem("client addresses",
                   "no -c: the copies carry the real clients' addresses, so the target's replies go to the real "
                   "clients, or come here to addresses this host may own",
                   "-c with addresses of an unused range, e.g. -c 10.99.0.x; " + std::string(kRouteHint));
    return;
  }
  std::vector<std::string> local;
  for (const doctor::Interface& i : host.interfaces())
    for (const IpAddress& a : i.addresses) {
      const bool listed = std::find(map.addresses().begin(), map.addresses().end(), a) != map.addresses().end();
      // a.b.c.x: any a.b.c.N may be a copy's client address.
      bool in_pattern = false;
      if (map.pattern() && a.is_v4()) {
        const auto p = map.pattern()->v4_bytes(), b = a.v4_bytes();
        in_pattern = std::equal(p.begin(), p.begin() + 3, b.begin());
      }
      if (listed || in_pattern) local.push_back(a.to_string() + " (" + i.name + ")");
    }
  if (local.empty()) {
    report.ok("client addresses", "-c addresses are not local here: the kernel drops the replies once seen");
    return;
  }
  std::string names;
  for (const std::string& l : local) names += (names.empty() ? "" : ", ") + l;
  report.problem("client addresses",
                 "-c includes addresses of this host: " + names +
                     "; its TCP stack would answer the target's replies to them with resets",
                 "-c with addresses no host of yours owns (e.g. -c 10.99.0.x); " + std::string(kRouteHint));
}

// Forwarding, per IP version the targets use: on, the host would send the
// replies on toward the copies' client addresses.
void check_forwarding(const CopyOptions& o, Host& host, Report& report) {
  bool v4 = false, v6 = false;
  for (const Transfer& t : o.engine.transfers.transfers()) (t.target.addr.is_v4() ? v4 : v6) = true;
  const struct {
    bool used;
    const char* sysctl;
    const char* path;
  } families[] = {{v4, "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"},
                  {v6, "net.ipv6.conf.all.forwarding", "/proc/sys/net/ipv6/conf/all/forwarding"}};
  for (const auto& f : families) {
    if (!f.used) continue;
    const std::string check = std::string("forwarding ") + f.sysctl;
    const auto text = host.read_file(f.path);
    const auto value = text ? doctor::parse_sysctl_int(*text) : std::nullopt;
    if (!value)
      report.warn(check, std::string("cannot read ") + f.path, std::string("sysctl ") + f.sysctl + " must be 0");
    else if (*value != 0)
      report.problem(check,
                     "on: this host would forward the target's replies on toward the -c addresses, possibly to "
                     "real clients",
                     std::string("sysctl -w ") + f.sysctl + "=0 (and in /etc/sysctl.d to keep it)");
    else
      report.ok(check, "off: the replies end here");
  }
}

// IPv6 looks a reply's route up before it checks forwarding: with no route
// for a -c address (or an unreachable or prohibit one) the kernel answers
// every reply with an ICMPv6 error toward the target. IPv4 checks
// forwarding first and drops silently.
void check_ipv6_client_routes(const CopyOptions& o, Host& host, Report& report) {
  for (const IpAddress& a : o.engine.client_map.addresses()) {
    if (a.is_v4()) continue;
    const std::string check = "route to client address " + a.to_string();
    const doctor::CommandResult res = host.run({"ip", "route", "get", a.to_string()});
    if (!res.started) {
      report.info(check, "cannot look the route up: " + res.err, "install iproute2");
      continue;
    }
    const doctor::RouteLookup r = doctor::parse_ip_route_get(res);
    const std::string fix = "ip -6 route add blackhole " + a.to_string() + " (or the -c range): replies end silently";
    if (!r.found)
      report.problem(check, "no route: this host would answer each reply with an ICMPv6 \"no route\" to the target",
                     fix);
    else if (r.type == "unreachable" || r.type == "prohibit")
      report.problem(check, "a route of type " + r.type + ": this host would answer each reply with an ICMPv6 error",
                     fix);
    else
      report.ok(check, r.type == "blackhole" ? "blackhole: replies end silently"
                                             : "routed (" + r.type + "), so forwarding off drops the replies silently");
  }
}

// Every --reply-interface exists and is up; every target's replies come
// back on one of them (a symmetric route: the interface toward it).
void check_interfaces(const CopyOptions& o, const std::vector<std::pair<IpAddress, std::string>>& target_devices,
                      Host& host, Report& report) {
  const std::vector<doctor::Interface> all = host.interfaces();
  const std::vector<std::string>& given = o.reply_interfaces;
  for (const std::string& name : given) {
    const std::string check = "reply interface " + name;
    const auto it = std::find_if(all.begin(), all.end(), [&](const doctor::Interface& i) { return i.name == name; });
    if (it == all.end())
      report.problem(check, "no interface " + name + " on this host: tcpcopy refuses to start",
                     "--reply-interface with the interface that faces the target");
    else if (!it->up)
      report.problem(check, name + " is down: no reply arrives on it", "ip link set " + name + " up");
    else
      report.ok(check, "up");
  }
  for (const auto& [addr, dev] : target_devices) {
    const std::string check = "replies of " + addr.to_string();
    if (std::find(given.begin(), given.end(), dev) != given.end())
      report.ok(check, "arrive on " + dev + " (the interface toward the target), which tcpcopy captures on");
    else
      report.problem(check,
                     "this host reaches the target through " + dev +
                         ", which is not among --reply-interface: its replies would not be seen",
                     "--reply-interface " + dev + " (add it to the list if the replies can come on several)");
  }
}

}  // namespace

void check_reply_layout(const CopyOptions& o, const std::vector<std::pair<IpAddress, std::string>>& target_devices,
                        Host& host, Report& report) {
  check_client_addresses(o, host, report);
  check_forwarding(o, host, report);
  check_ipv6_client_routes(o, host, report);
  check_interfaces(o, target_devices, host, report);
}

}  // namespace tc

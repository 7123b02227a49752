#include "intercept/doctor.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "intercept/control/listen_socket.h"
#include "intercept/nfqueue/queue_stats.h"
#include "intercept/rule_scan.h"

namespace tc::intercept {

namespace {

using doctor::CommandResult;
using doctor::Host;
using doctor::Report;

std::string first_line(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
  return std::string(text.substr(0, text.find('\n')));
}

std::string join_ports(const std::vector<uint16_t>& ports) {
  std::string out;
  for (uint16_t p : ports) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

// "iptables filter/X" -> "nft ip filter/X": where iptables-nft's rules
// show up again in nft's listing.
std::string as_seen_by_nft(const std::string& where) {
  if (where.starts_with("iptables ")) return "nft ip " + where.substr(9);
  if (where.starts_with("ip6tables ")) return "nft ip6 " + where.substr(10);
  return {};
}

// The rules of every front end: iptables-save, ip6tables-save, nft. The
// copies of iptables-nft rules in nft's listing are dropped. nullopt when no
// front end could be read (the report says why).
std::optional<std::vector<QueueRule>> read_rules(Host& host, Report& report) {
  std::vector<QueueRule> rules;
  bool any_started = false, any_read = false;
  auto failed = [&report](const std::string& what, const CommandResult& r) {
    report.warn("NFQUEUE rule", what + " failed: " + first_line(r.err + "\n" + r.out), "run the check as root");
  };
  for (const int version : {4, 6}) {
    const std::string tool = version == 4 ? "iptables-save" : "ip6tables-save";
    const CommandResult r = host.run({tool});
    any_started = any_started || r.started;
    if (r.started && r.exit_status == 0) {
      any_read = true;
      for (QueueRule& q : scan_iptables_save(r.out, version)) rules.push_back(std::move(q));
    } else if (r.started) {
      failed(tool, r);
    }
  }
  const size_t from_iptables = rules.size();
  const CommandResult nft = host.run({"nft", "list", "ruleset"});
  any_started = any_started || nft.started;
  if (nft.started && nft.exit_status == 0) {
    any_read = true;
    for (QueueRule& r : scan_nft_ruleset(nft.out)) {
      bool copy = false;
      for (size_t i = 0; i < from_iptables; ++i) {
        const QueueRule& seen = rules[i];
        copy = copy || (as_seen_by_nft(seen.where) == r.where && seen.sports == r.sports &&
                        seen.queue_lo == r.queue_lo && seen.queue_hi == r.queue_hi);
      }
      if (!copy) rules.push_back(std::move(r));
    }
  } else if (nft.started) {
    failed("nft list ruleset", nft);
  }
  if (!any_started)
    report.warn("NFQUEUE rule", "neither iptables-save nor nft is installed: the rule cannot be checked",
                "install iptables or nftables (intercept-rules needs one of them)");
  if (!any_read) return std::nullopt;
  return rules;
}

std::string where_list(const std::vector<const QueueRule*>& rules) {
  std::string out;
  for (const QueueRule* r : rules)
    if (out.find(r->where) == std::string::npos) out += (out.empty() ? "" : ", ") + r->where;
  return out;
}

void check_port(const Options& o, const std::vector<QueueRule>& rules, uint16_t port, bool need4, bool need6,
                const std::string& apply, Report& report) {
  const uint16_t q = o.queue_num;
  const std::string p = std::to_string(port), qs = std::to_string(q);
  const std::string check = "NFQUEUE rule, port " + p;
  std::vector<const QueueRule*> hits;
  const QueueRule* elsewhere = nullptr;
  bool v4 = false, v6 = false;
  for (const QueueRule& r : rules) {
    if (!catches_port(r, port)) continue;
    if (!feeds_queue(r, q)) {
      elsewhere = elsewhere ? elsewhere : &r;
      continue;
    }
    hits.push_back(&r);
    v4 = v4 || r.ipv4;
    v6 = v6 || r.ipv6;
  }
  if (hits.empty()) {
    if (elsewhere)
      report.problem(check,
                     "replies from port " + p + " go to queue " + std::to_string(elsewhere->queue_lo) + " (" +
                         elsewhere->where + "), not to queue " + qs,
                     "start intercept with --queue-num " + std::to_string(elsewhere->queue_lo) + ", or " + apply);
    else
      report.problem(check,
                     "no NFQUEUE rule on the OUTPUT path catches the replies from port " + p +
                         ": they would go out to the real clients",
                     apply);
    return;
  }
  const char* family = v4 && v6 ? "" : v4 ? "IPv4 " : "IPv6 ";
  report.ok(check, std::string(family) + "replies from port " + p + " go to queue " + qs + " (" + where_list(hits) + ")");
  for (const auto& [need, have, name] : {std::tuple{need4, v4, "IPv4"}, std::tuple{need6, v6, "IPv6"}}) {
    if (have) continue;
    const std::string detail = std::string(name) + " replies from port " + p + " are not queued";
    if (need)
      report.problem(check, detail + ": a --check-client address is " + name, apply + " (both IP versions by default)");
    else if (!need4 && !need6)
      report.info(check, detail + "; that matters only if clients reach the target over " + name,
                  apply + " (both IP versions by default)");
  }
}

void check_rules(const Options& o, Host& host, Report& report, const InterceptCheckEnv& env) {
  const uint16_t q = o.queue_num;
  const std::string qs = std::to_string(q);
  const auto read = read_rules(host, report);
  if (!read) return;
  const std::vector<QueueRule>& rules = *read;
  std::vector<const QueueRule*> feeding;
  for (const QueueRule& r : rules)
    if (feeds_queue(r, q)) feeding.push_back(&r);

  const std::string apply = env.rules_script + " apply --port " +
                            (o.check_ports.empty() ? std::string("PORT") : join_ports(o.check_ports)) + " --queue " + qs;
  // The IP versions the replies need: those of the clients named.
  bool need4 = false, need6 = false;
  for (const IpAddress& c : o.check_clients) (c.is_v4() ? need4 : need6) = true;

  if (!o.check_ports.empty()) {
    for (uint16_t port : o.check_ports) check_port(o, rules, port, need4, need6, apply, report);
  } else if (feeding.empty()) {
    std::string others;
    for (const QueueRule& r : rules) others += (others.empty() ? "" : ", ") + std::to_string(r.queue_lo);
    report.problem("NFQUEUE rule",
                   "no NFQUEUE rule on the OUTPUT path feeds queue " + qs +
                       (others.empty() ? std::string(": no reply reaches intercept")
                                       : std::string(" (rules feed queue ") + others + ")"),
                   apply + " (PORT: the port of the service under test)");
  } else {
    for (const QueueRule* r : feeding)
      report.ok("NFQUEUE rule", "queue " + qs + " gets the replies from " + describe_ports(*r) + " (" + r->where + ")");
    report.info("NFQUEUE rule", "give --check-port PORT to check the ports of the service under test");
  }

  for (const QueueRule* r : feeding) {
    if (!r->spares_loopback)
      report.warn("NFQUEUE rule", r->where + " also catches replies over loopback: the target's own local clients hang",
                  "exclude loopback with ! -o lo (intercept-rules does)");
    if (r->bypass)
      report.warn("NFQUEUE rule",
                  r->where + " has the bypass flag: while no intercept is bound the replies go out to the clients",
                  "remove --queue-bypass (nft: the bypass flag); intercept-rules never sets it");
    if (r->queue_hi > r->queue_lo) {
      const std::string range = std::to_string(r->queue_lo) + ":" + std::to_string(r->queue_hi);
      const bool read_all = o.queue_num == r->queue_lo && o.queue_num + o.queue_count - 1 == r->queue_hi;
      if (read_all)
        report.ok("NFQUEUE rule", r->where + " spreads flows over queues " + range + ", which --queue-balance reads");
      else
        report.problem("NFQUEUE rule",
                       r->where + " spreads flows over queues " + range +
                           ": replies in the queues intercept does not read are dropped, never routed",
                       "start intercept with --queue-balance " + range);
    }
  }
}

void check_queue_free(const Options& o, Host& host, Report& report) {
  if (o.queue_count > 1) {
    for (uint16_t i = 0; i < o.queue_count; ++i) {
      Options one = o;
      one.queue_num = static_cast<uint16_t>(o.queue_num + i);
      one.queue_count = 1;
      check_queue_free(one, host, report);
    }
    return;
  }
  const std::string check = "queue " + std::to_string(o.queue_num);
  const auto text = host.read_file(kNfqueueProcPath);
  if (!text) {
    report.info(check, std::string("cannot read ") + kNfqueueProcPath +
                           ": nfnetlink_queue is not loaded yet (the kernel loads it when intercept binds), or "
                           "this check does not run as root");
    return;
  }
  if (const auto e = find_queue(parse_nfqueue_proc(*text), o.queue_num)) {
    report.problem(check,
                   "already bound by another process (netlink port id " + std::to_string(e->portid) +
                       "): is an intercept running?",
                   "stop it (systemctl stop intercept), or use another --queue-num and a rule for that queue");
    return;
  }
  report.ok(check, "free");
}

void check_rp_filter(Host& host, Report& report) {
  std::vector<std::string> strict, checked;
  for (const doctor::Interface& i : host.interfaces()) {
    if (!i.up || i.loopback) continue;
    const auto v = doctor::rp_filter(host, i.name);
    if (!v) continue;
    checked.push_back(i.name);
    if (*v == 1) strict.push_back(i.name);
  }
  if (checked.empty()) {
    report.info("rp_filter", "no interface to check");
    return;
  }
  if (strict.empty()) {
    report.ok("rp_filter", "off or loose on every interface");
    return;
  }
  std::string list;
  for (const auto& n : strict) list += (list.empty() ? "" : ", ") + n;
  if (checked.size() == 1) {
    report.ok("rp_filter", "strict on " + list + ", the only interface: fine while the clients are routed through it");
    return;
  }
  std::string fix = "sysctl -w net.ipv4.conf.all.rp_filter=2";
  for (const auto& n : strict) fix += " net.ipv4.conf." + n + ".rp_filter=2";
  report.warn("rp_filter",
              "strict on " + list +
                  ": packets from tcpcopy carry the real clients' addresses and are dropped when this host's "
                  "route back to those clients leaves through another interface than the one they arrive on",
              fix + " (loose), or route the client addresses back through the interface facing tcpcopy");
}

void check_client_routes(const Options& o, Host& host, Report& report) {
  if (o.check_clients.empty()) {
    report.info("route to clients", "not checked: give --check-client ADDR (an address of a real client)");
    return;
  }
  for (const IpAddress& c : o.check_clients) {
    const std::string check = "route to client " + c.to_string();
    const auto r = doctor::check_route(
        host, report, c, check,
        "the target answers the client addresses: give it a route for them (a default route is enough), "
        "e.g. ip route add default via GATEWAY");
    if (!r) continue;
    if (r->type == "local" || r->dev == "lo") {
      report.problem(check,
                     c.to_string() + " is an address of this host: the replies stay on loopback, which the "
                                     "NFQUEUE rule leaves alone",
                     "replay clients from other addresses");
      continue;
    }
    report.ok(check, "replies leave through " + r->dev + (r->via.empty() ? "" : " via " + r->via) +
                         " (the NFQUEUE rule takes them before they go)");
  }
}

// Assistant mode: every -i interface exists and is up.
void check_capture_interfaces(const Options& o, Host& host, Report& report) {
  const std::vector<doctor::Interface> present = host.interfaces();
  for (const std::string& name : o.interfaces) {
    const std::string check = "interface " + name;
    if (name == "any") {
      report.ok(check, "every interface of this host");
      continue;
    }
    const auto it = std::find_if(present.begin(), present.end(), [&](const doctor::Interface& i) { return i.name == name; });
    if (it == present.end())
      report.problem(check, "no such interface on this host", "give -i the interface the target's replies arrive on");
    else if (!it->up)
      report.problem(check, "down: no reply arrives", "ip link set " + name + " up");
    else
      report.ok(check, "up: the target's replies are captured here");
  }
}

}  // namespace

doctor::Report check_intercept(const Options& o, Host& host, const InterceptCheckEnv& env) {
  Report report;
  const bool assistant = o.mode == Mode::kAssistant;
  if (assistant) {
    // No rule and no queue here: the target routes the replies to this host.
    doctor::check_capabilities(host, report,
                               {{doctor::kCapNetRaw, "CAP_NET_RAW", "capturing the replies with libpcap", true}},
                               "intercept");
    check_capture_interfaces(o, host, report);
  } else {
    doctor::check_capabilities(host, report,
                               {{doctor::kCapNetAdmin, "CAP_NET_ADMIN", "binding the NFQUEUE queue", true}}, "intercept");
    check_rules(o, host, report, env);
    check_queue_free(o, host, report);
  }
  if (env.control_port_error) {
    const std::string check = "control port " + std::to_string(o.port);
    if (const std::string err = env.control_port_error(); err.empty())
      report.ok(check, "free");
    else
      report.problem(check, err,
                     "stop what holds it (ss -ltnp 'sport = :" + std::to_string(o.port) +
                         "'), or choose another -p here and the same port in tcpcopy's -s");
  }
  if (!o.secret_file.empty()) {
    std::string why;
    if (SharedSecret::load(o.secret_file, why))
      report.ok("secret file", o.secret_file + " is private and long enough");
    else
      report.problem("secret file", o.secret_file + ": " + why, "intercept refuses to start with it (status 2)");
  }
  if (o.allow.empty())
    report.info("control access", "tcpcopy connections are accepted from any address",
                "restrict them: --allow ADDR[/PREFIX][,...] (the online servers), and --secret-file");
  doctor::check_ip_forward(host, report, assistant);
  if (assistant) return report;  // the replies end here: rp_filter and routes to clients do not matter
  check_rp_filter(host, report);
  check_client_routes(o, host, report);
  return report;
}

InterceptCheckEnv system_check_env(const Options& options) {
  InterceptCheckEnv env;
  env.rules_script = "/usr/libexec/tcpcopy/intercept-rules";
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {exe.parent_path() / "../libexec/tcpcopy/intercept-rules",
                                  exe.parent_path() / "../../iptables/intercept-rules"}) {
      if (access(candidate.c_str(), X_OK) == 0) {
        env.rules_script = std::filesystem::weakly_canonical(candidate, ec).string();
        break;
      }
    }
  }
  env.control_port_error = [options] {
    try {
      if (options.bind.empty()) {
        UniqueFd fd = open_listen_socket_any(options.port);
      } else {
        for (const IpAddress& a : options.bind) UniqueFd fd = open_listen_socket(a, options.port);
      }
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  return env;
}

}  // namespace tc::intercept

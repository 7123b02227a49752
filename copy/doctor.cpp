#include "copy/doctor.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>

#include "common/framed_stream.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/wire.h"
#include "copy/reply/reply_doctor.h"
#include "copy/send/neighbour_table.h"

namespace tc {

namespace {

using doctor::Host;
using doctor::Report;

InterceptProbe fail(InterceptProbe::Outcome o, int err, TimePoint start) {
  InterceptProbe p;
  p.outcome = o;
  if (err != 0) p.detail = std::strerror(err);
  p.elapsed = monotonic_now() - start;
  return p;
}

InterceptProbe::Outcome outcome_of(int err) {
  switch (err) {
    case ECONNREFUSED: return InterceptProbe::Outcome::kRefused;
    case ETIMEDOUT: return InterceptProbe::Outcome::kTimeout;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL: return InterceptProbe::Outcome::kUnreachable;
    default: return InterceptProbe::Outcome::kError;
  }
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool wait_for(int fd, short events, TimePoint deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - monotonic_now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

std::string ms(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

InterceptProbe probe_intercept(const Endpoint& ep, Duration timeout) {
  using O = InterceptProbe::Outcome;
  const TimePoint start = monotonic_now();
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(ep, ss);
  UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(O::kError, errno, start);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return fail(outcome_of(errno), errno, start);
  if (!wait_for(fd.get(), POLLOUT, start + timeout)) return fail(O::kTimeout, 0, start);
  int err = 0;
  socklen_t err_len = sizeof err;
  if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
  if (err != 0) return fail(outcome_of(err), err, start);

  // The hello a tcpcopy sends, with an id of its own, then the answer.
  FramedStream stream(std::move(fd), 64);
  stream.writer().hello(std::random_device{}());
  const FramedStream::WriteResult sent = stream.flush();
  if (sent.kind != FramedStream::WriteResult::Kind::kDone) return fail(O::kError, sent.err, start);
  const TimePoint answer_deadline = monotonic_now() + timeout;
  std::optional<O> answer;
  while (true) {
    if (!wait_for(stream.fd(), POLLIN, answer_deadline)) return fail(O::kTimeout, 0, start);
    const FramedStream::ReadResult r = stream.read([&answer](const wire::Frame& frame) {
      if (frame.type == static_cast<uint8_t>(wire::MessageType::kHelloAck)) answer = O::kOk;
      if (frame.type == static_cast<uint8_t>(wire::MessageType::kChallenge)) answer = O::kChallenged;
      return !answer;
    });
    using Kind = FramedStream::ReadResult::Kind;
    switch (r.kind) {
      case Kind::kAgain:
        continue;
      case Kind::kStopped: {
        InterceptProbe ok;
        ok.outcome = *answer;
        ok.elapsed = monotonic_now() - start;
        return ok;
      }
      case Kind::kEof:
        return fail(O::kClosed, 0, start);
      case Kind::kError:
        return fail(r.err == ECONNRESET ? O::kClosed : O::kError, r.err, start);
      case Kind::kBadFrame: {
        if (r.wire_error != wire::WireError::kBadVersion) return fail(O::kNotIntercept, 0, start);
        InterceptProbe other = fail(O::kOtherVersion, 0, start);
        other.version = r.peer_version;
        return other;
      }
    }
  }
}

namespace {

void check_intercepts(const CopyOptions& o, Report& report, const InterceptProber& probe) {
  using O = InterceptProbe::Outcome;
  for (const Endpoint& ep : o.intercepts) {
    const std::string check = "intercept " + ep.to_string();
    const std::string host = ep.addr.to_string(), port = std::to_string(ep.port);
    const InterceptProbe p = probe(ep);
    switch (p.outcome) {
      case O::kOk:
        if (o.secret_file.empty())
          report.ok(check, "answered the hello in " + ms(p.elapsed));
        else
          report.problem(check, "answered the hello without asking for the shared secret",
                         "give intercept the same --secret-file (tcpcopy refuses an intercept without one)");
        break;
      case O::kChallenged:
        if (o.secret_file.empty())
          report.problem(check, "asks for a shared secret", "give tcpcopy intercept's --secret-file");
        else
          report.ok(check, "answered the hello with a challenge in " + ms(p.elapsed) +
                               " (shared secret; whether it is the same one shows once tcpcopy runs)");
        break;
      case O::kRefused:
        report.problem(check, "connection refused: nothing listens on port " + port + " there",
                       "start intercept on " + host + " (systemctl start intercept), or give its control port: -s " +
                           host + ":PORT");
        break;
      case O::kTimeout:
        report.problem(check, "no answer within " + ms(p.elapsed),
                       "check that " + host + " is the host running intercept and that TCP port " + port +
                           " is let through on the way");
        break;
      case O::kUnreachable:
        report.problem(check, "unreachable: " + p.detail, "check the address and this host's route to " + host);
        break;
      case O::kNotIntercept:
        report.problem(check, "something answers on port " + port + ", but not intercept's control protocol",
                       "point -s at intercept's control port (default 36524)");
        break;
      case O::kOtherVersion:
        report.problem(check,
                       "speaks control protocol version " + std::to_string(p.version) + ", this tcpcopy version " +
                           std::to_string(wire::kVersion),
                       "upgrade tcpcopy and intercept to the same release");
        break;
      case O::kClosed:
        report.problem(check, "closed the connection instead of answering the hello",
                       "see intercept's log: is this host's address in its --allow list? Run the same version of "
                       "tcpcopy and intercept");
        break;
      case O::kError:
        report.problem(check, p.detail, "");
        break;
    }
  }
}

constexpr int kArphrdEther = 1;  // /sys/class/net/IF/type of an Ethernet interface

// The route to each target, looked up once: -o's next hops use it too.
struct TargetRoute {
  IpAddress addr;
  std::optional<doctor::RouteLookup> route;  // nullopt: none (reported)
};

std::optional<int> interface_mtu(Host& host, const std::string& dev) {
  const auto text = host.read_file("/sys/class/net/" + dev + "/mtu");
  return text ? doctor::parse_sysctl_int(*text) : std::nullopt;
}

// The default send (no -o): a transmit ring on an Ethernet interface, raw
// sockets on one without Ethernet framing (loopback, tunnels), said here.
void note_send_path(const CopyOptions& o, Host& host, Report& report, const IpAddress& addr, const std::string& dev) {
  if (!o.link.output_interface.empty()) return;
  const auto text = host.read_file("/sys/class/net/" + dev + "/type");
  const auto type = text ? doctor::parse_sysctl_int(*text) : std::nullopt;
  if (!type) return;
  const std::string check = "send path to target " + addr.to_string();
  if (*type == kArphrdEther) {
    report.ok(check, "transmit ring on " + dev + " once the next hop's MAC is known (raw sockets until then)");
  } else {
    report.info(check, dev + " has no Ethernet framing: copies to " + addr.to_string() +
                           " go through raw sockets (counted in send_fallback{no_ethernet})");
  }
}

std::vector<TargetRoute> check_targets(const CopyOptions& o, Host& host, Report& report) {
  std::vector<TargetRoute> routes;
  for (const Transfer& t : o.engine.transfers.transfers()) {
    const IpAddress& addr = t.target.addr;
    if (std::any_of(routes.begin(), routes.end(), [&](const TargetRoute& r) { return r.addr == addr; })) continue;
    const std::string check = "route to target " + addr.to_string();
    const auto r = doctor::check_route(host, report, addr, check,
                                       "give this host a route to the target: ip route add " + addr.to_string() +
                                           " via GATEWAY");
    routes.push_back({addr, r});
    if (!r) continue;
    if (r->type == "local" || r->dev == "lo") {
      report.info(check, addr.to_string() + " is an address of this host itself");
      note_send_path(o, host, report, addr, "lo");
      continue;
    }
    std::string where = "packets leave through " + r->dev + (r->via.empty() ? "" : " via " + r->via);
    const auto mtu = interface_mtu(host, r->dev);
    if (mtu && *mtu < o.engine.mtu) {
      report.problem(check,
                     where + ", whose MTU " + std::to_string(*mtu) + " is below -M " + std::to_string(o.engine.mtu) +
                         ": larger packets fail to send (EMSGSIZE)",
                     "-M " + std::to_string(*mtu));
    } else {
      report.ok(check, where + (mtu ? ", MTU " + std::to_string(*mtu) : std::string()));
    }
    note_send_path(o, host, report, addr, r->dev);
    if (doctor::rp_filter(host, r->dev) == 1)
      report.info("rp_filter " + r->dev,
                  "strict here, which does not stop tcpcopy's packets (they leave this host); on the target the "
                  "same setting drops them unless its route back to the clients uses the interface they arrive on",
                  "run intercept --check --check-client ADDR on the target");
  }
  return routes;
}

// -o: the interface is there, up and wide enough, and every target has a
// next hop on it, as the sender will look it up at start.
void check_output_interface(const CopyOptions& o, const std::vector<TargetRoute>& routes, Host& host,
                            Report& report) {
  const std::string& dev = o.link.output_interface;
  const std::string check = "send interface " + dev;
  const std::vector<doctor::Interface> all = host.interfaces();
  const auto it = std::find_if(all.begin(), all.end(), [&](const doctor::Interface& i) { return i.name == dev; });
  if (it == all.end()) {
    std::string names;
    for (const doctor::Interface& i : all)
      if (!i.loopback) names += (names.empty() ? "" : ", ") + i.name;
    report.problem(check, "no interface " + dev + " on this host", "-o with one of: " + names);
    return;
  }
  if (!it->up) {
    report.problem(check, dev + " is down: frames sent on it are dropped", "ip link set " + dev + " up");
  } else {
    const auto mtu = interface_mtu(host, dev);
    if (mtu && *mtu < o.engine.mtu)
      report.problem(check,
                     "MTU " + std::to_string(*mtu) + ", below -M " + std::to_string(o.engine.mtu) +
                         ": tcpcopy refuses to start",
                     "-M " + std::to_string(*mtu));
    else
      report.ok(check, "up" + (mtu ? ", MTU " + std::to_string(*mtu) : std::string()));
  }
  const std::string arp = host.read_file(kArpTablePath).value_or("");
  for (const auto& [addr, route] : routes) {
    const std::string hop_check = "next hop of " + addr.to_string() + " on " + dev;
    if (o.link.dst_mac) {
      report.ok(hop_check, "--dst-mac " + o.link.dst_mac->to_string());
      continue;
    }
    if (addr.is_v4()) {
      if (const auto mac = find_neighbour(arp, addr, dev)) {
        report.ok(hop_check, mac->to_string() + ", from " + kArpTablePath);
        continue;
      }
    }
    // Behind a router the frames go to the router's MAC, which only
    // --dst-mac can say.
    std::optional<MacAddress> gateway_mac;
    if (route && !route->via.empty())
      if (const auto gw = IpAddress::parse(route->via)) gateway_mac = find_neighbour(arp, *gw, dev);
    if (gateway_mac)
      report.problem(hop_check, "reached via the router " + route->via + ": frames must go to its MAC",
                     "--dst-mac " + gateway_mac->to_string());
    else if (!addr.is_v4())
      report.problem(hop_check, "an IPv6 target: its next hop is not looked up", "--dst-mac (the next hop's MAC)");
    else
      report.problem(hop_check,
                     std::string("no complete entry on ") + dev + " in " + kArpTablePath + ": tcpcopy refuses to start",
                     "reach it once (ping -c 1 " + addr.to_string() + ") or give --dst-mac (the next hop's MAC)");
  }
}

// The capture interfaces: those holding the online addresses when every
// transfer names one, else every interface that is up.
std::vector<doctor::Interface> capture_interfaces(const CopyOptions& o, Host& host) {
  std::vector<IpAddress> online;
  bool all_named = true;
  for (const Transfer& t : o.engine.transfers.transfers()) {
    if (t.online_addr) online.push_back(*t.online_addr);
    else all_named = false;
  }
  std::vector<doctor::Interface> chosen;
  for (const doctor::Interface& i : host.interfaces()) {
    if (!i.up || i.loopback) continue;
    if (all_named && std::none_of(i.addresses.begin(), i.addresses.end(), [&](const IpAddress& a) {
          return std::find(online.begin(), online.end(), a) != online.end();
        }))
      continue;
    chosen.push_back(i);
  }
  return chosen;
}

// A path toward a target narrower than the interface the clients' packets
// arrive on: full-sized client packets do not fit it whole. tcpcopy cuts
// TCP payload to -M, but an IPv4 packet already fragmented on its way in
// is not replayed (packets_malformed{fragment}), and a router on the path
// that is narrower still fragments or drops the copies.
void check_path_mtu(const CopyOptions& o, const std::vector<TargetRoute>& routes, Host& host, Report& report) {
  std::string widest;
  int widest_mtu = 0;
  for (const doctor::Interface& i : capture_interfaces(o, host)) {
    const auto mtu = interface_mtu(host, i.name);
    if (mtu && *mtu > widest_mtu) widest_mtu = *mtu, widest = i.name;
  }
  for (const auto& [addr, route] : routes) {
    if (!route || route->type == "local" || route->dev == "lo") continue;
    const auto path = interface_mtu(host, route->dev);
    if (!path || *path >= widest_mtu) continue;
    report.info("path MTU to target " + addr.to_string(),
                "packets of up to " + std::to_string(widest_mtu) + " bytes arrive on " + widest + ", but the path " +
                    "toward the target leaves through " + route->dev + " with MTU " + std::to_string(*path) +
                    ": fragments are likely, and IPv4 fragments are skipped, not replayed (counted as " +
                    "packets_malformed{fragment}); copies are cut to -M " + std::to_string(o.engine.mtu) + " bytes",
                "-M " + std::to_string(std::min(*path, static_cast<int>(o.engine.mtu))) +
                    " and clients' packets that fit the path (MSS clamping on the online side)");
  }
}

void check_offloads(const CopyOptions& o, Host& host, Report& report) {
  for (const doctor::Interface& i : capture_interfaces(o, host)) {
    const auto off = host.offloads(i.name);
    if (!off) continue;
    const std::string check = "offloads " + i.name;
    if (!off->gro && !off->lro) {
      report.ok(check, "GRO and LRO off: captured packets are as on the wire");
      continue;
    }
    const std::string on = off->gro && off->lro ? "GRO and LRO" : off->gro ? "GRO" : "LRO";
    report.info(check,
                on + " on: captured packets can be larger than the MTU; tcpcopy cuts them into packets of at "
                     "most -M " + std::to_string(o.engine.mtu) + " bytes",
                "to capture what is on the wire: ethtool -K " + i.name + " gro off lro off");
  }
}

// --workers: the kernel shares the packet ring among them from Linux 4.3
// (PACKET_FANOUT_CBPF); other captures make each worker read every packet.
void check_workers(const CopyOptions& o, Host& host, Report& report) {
  if (o.workers <= 1) return;
  const std::string check = "workers";
  const std::string n = std::to_string(o.workers);
  const size_t connections = o.workers * o.connections * o.intercepts.size();
  if (!o.link.capture_interfaces.empty()) {
    report.info(check,
                n + " workers with -i: each reads every packet libpcap captures and keeps its own share (counted in "
                    "capture_other_workers), " + n + " times the capture's cost",
                "leave -i out: the packet ring shares the connections among the workers in the kernel");
    return;
  }
  unsigned major = 0, minor = 0;
  const auto release = host.read_file("/proc/sys/kernel/osrelease");
  if (release && std::sscanf(release->c_str(), "%u.%u", &major, &minor) == 2 && (major < 4 || (major == 4 && minor < 3))) {
    report.warn(check,
                "Linux " + release->substr(0, release->find_first_of("\n-")) +
                    " cannot share the packet ring among workers (PACKET_FANOUT_CBPF came in 4.3): each worker "
                    "will read every packet through raw sockets and keep its own share",
                "run one worker, or a kernel of 4.3 or later");
    return;
  }
  std::string detail = n + " session engines; the packet ring hands each its share of the client connections in the "
                           "kernel (by a hash of the client port)";
  if (connections > 0) detail += "; " + std::to_string(connections) + " control connections to intercept in all";
  report.ok(check, detail);
}

}  // namespace

doctor::Report check_copy(const CopyOptions& o, Host& host, const InterceptProber& probe) {
  Report report;
  doctor::check_capabilities(
      host, report,
      {{doctor::kCapNetRaw, "CAP_NET_RAW", "raw sockets: capture and send", true},
       {doctor::kCapNetAdmin, "CAP_NET_ADMIN", "a capture buffer beyond net.core.rmem_max", false}},
      "tcpcopy");
  if (!o.secret_file.empty()) {
    std::string why;
    if (SharedSecret::load(o.secret_file, why))
      report.ok("secret file", o.secret_file + " is private and long enough");
    else
      report.problem("secret file", o.secret_file + ": " + why, "tcpcopy refuses to start with it (status 2)");
  }
  check_intercepts(o, report, probe);
  const std::vector<TargetRoute> routes = check_targets(o, host, report);
  if (!o.reply_interfaces.empty()) {
    std::vector<std::pair<IpAddress, std::string>> devices;
    for (const TargetRoute& r : routes)
      if (r.route) devices.emplace_back(r.addr, r.route->dev);
    check_reply_layout(o, devices, host, report);
  } else if (!o.engine.client_map.empty()) {
    report.info("client addresses",
                "the target sees the addresses of -c, not the real clients: it needs a route back for them, and "
                "intercept's passlist and route checks concern them",
                "on the target: intercept --check --check-client ADDRESS (one of -c)");
  }
  if (!o.link.output_interface.empty()) check_output_interface(o, routes, host, report);
  check_path_mtu(o, routes, host, report);
  check_offloads(o, host, report);
  check_workers(o, host, report);
  return report;
}

}  // namespace tc

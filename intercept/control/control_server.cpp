#include "intercept/control/control_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "intercept/control/listen_socket.h"

namespace tc::intercept {

namespace {

Endpoint endpoint_of(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), &sin->sin_addr, 4);
    e.addr = IpAddress::from_v4(b);
    e.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &sin6->sin6_addr, 16);
    // An IPv4 client of a dual-stack socket arrives IPv4-mapped, which is
    // exactly how IpAddress stores IPv4: both sockets see the same client.
    e.addr = IpAddress::from_v6(b);
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

}  // namespace

ControlServer::ControlServer(const Config& config, EventLoop& loop, RouteTable& routes, Logger& log)
    : loop_(loop),
      routes_(routes),
      log_(log),
      max_output_bytes_(config.max_output_bytes),
      allow_(config.allow),
      secret_(config.secret),
      hello_timeout_(config.hello_timeout),
      max_pending_(config.max_pending),
      max_connections_(config.max_connections) {
  if (config.bind.empty()) listeners_.push_back(open_listen_socket_any(config.port));
  for (const IpAddress& addr : config.bind) listeners_.push_back(open_listen_socket(addr, config.port));
  for (const UniqueFd& l : listeners_) {
    const int fd = l.get();
    loop_.add(fd, EPOLLIN, [this, fd](uint32_t) { on_accept(fd); });
  }
}

ControlServer::~ControlServer() {
  for (const UniqueFd& l : listeners_) loop_.remove(l.get());
  for (auto& [id, e] : conns_) {
    loop_.remove(e.conn->fd());
    ++counters_.closed[static_cast<size_t>(CloseReason::kShutdown)];
  }
}

std::vector<uint16_t> ControlServer::listening_ports() const {
  std::vector<uint16_t> ports;
  for (const UniqueFd& l : listeners_)
    if (auto p = local_port(l.get())) ports.push_back(*p);
  return ports;
}

void ControlServer::on_accept(int listen_fd) {
  while (true) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    UniqueFd fd(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EMFILE and friends: the connection stays in the backlog; count it
      // and let the next readiness event try again.
      ++counters_.accept_errors;
      TC_LOG(log_, kWarn, "control: accept failed: %s", std::strerror(errno));
      return;
    }
    // Refused connections are closed before a byte is read from them.
    const Endpoint peer = endpoint_of(ss);
    if (!allow_.empty() && !any_contains(allow_, peer.addr)) {
      refuse(peer, RefuseReason::kNotAllowed);
      continue;
    }
    if (conns_.size() >= max_connections_) {
      refuse(peer, RefuseReason::kTooMany);
      continue;
    }
    if (pending_ >= max_pending_) {
      refuse(peer, RefuseReason::kTooManyPending);
      continue;
    }
    // Reply headers are small and latency matters to the replaying side.
    const int one = 1;
    // Tuning only: without it the connection still works.
    (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const ConnId id = next_id_++;
    const int raw = fd.get();
    auto conn = std::make_unique<ControlConnection>(id, std::move(fd), peer, max_output_bytes_,
                                                    secret_ ? &*secret_ : nullptr, monotonic_now());
    try {
      loop_.add(raw, EPOLLIN, [this, id](uint32_t events) { on_event(id, events); });
    } catch (const std::system_error& e) {
      // The connection is dropped (closed here); the loop keeps serving.
      ++counters_.accept_errors;
      TC_LOG(log_, kWarn, "control: cannot watch the connection from %s: %s", peer.to_string().c_str(), e.what());
      continue;
    }
    conns_.emplace(id, Entry{std::move(conn), false});
    ++pending_;
    ++counters_.accepted;
    TC_LOG(log_, kDebug, "control: connection #%llu from %s", static_cast<unsigned long long>(id),
           peer.to_string().c_str());
  }
}

void ControlServer::on_event(ConnId id, uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Entry& e = it->second;
  ControlConnection& c = *e.conn;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    const bool had_hello = c.said_hello();
    if (auto reason = c.on_readable(routes_, *this, monotonic_now(), counters_)) {
      close(id, *reason);
      return;
    }
    if (!had_hello && c.said_hello()) {
      --pending_;
      TC_LOG(log_, kInfo, "control: #%llu %s is tcpcopy instance %08x%s, payload prefix %u",
             static_cast<unsigned long long>(id), c.peer().to_string().c_str(), c.instance_id(),
             secret_ ? " (authenticated)" : "", static_cast<unsigned>(c.payload_prefix()));
    }
  }
  // Hello-Ack and replies released from parking are sent without waiting
  // for the next queue batch.
  if (c.has_output() || (events & EPOLLOUT)) {
    if (auto reason = write_out(e)) close(id, *reason);
  }
}

bool ControlServer::deliver(ConnId conn, const RoutedReply& reply) {
  auto it = conns_.find(conn);
  return it != conns_.end() && it->second.conn->add_reply(reply);
}

void ControlServer::tick(TimePoint now) {
  for (auto& [id, e] : conns_)
    if (!e.conn->said_hello() && now - e.conn->accepted_at() >= hello_timeout_)
      to_close_.emplace_back(id, CloseReason::kHelloTimeout);
  for (const auto& [id, reason] : to_close_) close(id, reason);
  to_close_.clear();
}

void ControlServer::refuse(const Endpoint& peer, RefuseReason why) {
  ++counters_.refused[static_cast<size_t>(why)];
  // A peer that keeps trying must not flood the log.
  const TimePoint now = monotonic_now();
  const LogLevel level = now - last_refusal_log_ >= std::chrono::seconds(1) ? LogLevel::kWarn : LogLevel::kDebug;
  if (level == LogLevel::kWarn) last_refusal_log_ = now;
  if (log_.enabled(level))
    log_.log(level, "control: refused connection from %s: %s", peer.to_string().c_str(), to_string(why));
}

void ControlServer::flush() {
  for (auto& [id, e] : conns_) {
    if (!e.conn->has_output() || e.epollout) continue;  // EPOLLOUT will write the rest
    if (auto reason = write_out(e)) to_close_.emplace_back(id, *reason);
  }
  for (const auto& [id, reason] : to_close_) close(id, reason);
  to_close_.clear();
}

std::optional<CloseReason> ControlServer::write_out(Entry& e) {
  if (auto reason = e.conn->flush()) return reason;
  const bool want = e.conn->has_output();
  if (want != e.epollout) {
    // Events that cannot be changed would stall the connection.
    if (!loop_.modify(e.conn->fd(), want ? (EPOLLIN | EPOLLOUT) : EPOLLIN)) return CloseReason::kWriteError;
    e.epollout = want;
  }
  return std::nullopt;
}

void ControlServer::close(ConnId id, CloseReason reason) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  ControlConnection& c = *it->second.conn;
  ++counters_.closed[static_cast<size_t>(reason)];
  const bool protocol_error = reason != CloseReason::kPeerClosed && reason != CloseReason::kShutdown;
  // Peers that never completed the handshake are strangers: one warning a
  // second at most, however many of them there are.
  bool warn = protocol_error;
  if (warn && !c.said_hello()) {
    const TimePoint now = monotonic_now();
    warn = now - last_refusal_log_ >= std::chrono::seconds(1);
    if (warn) last_refusal_log_ = now;
  }
  if (reason == CloseReason::kBadVersion) {
    const LogLevel level = warn ? LogLevel::kWarn : LogLevel::kDebug;
    if (log_.enabled(level))
      log_.log(level,
               "control: closing #%llu: control protocol version %u from %s, this intercept speaks version %u: "
               "upgrade both sides to the same release",
               static_cast<unsigned long long>(id), static_cast<unsigned>(c.peer_version()),
               c.peer().to_string().c_str(), static_cast<unsigned>(wire::kVersion));
  } else if (warn)
    TC_LOG(log_, kWarn, "control: closing #%llu %s: %s", static_cast<unsigned long long>(id),
           c.peer().to_string().c_str(), to_string(reason));
  else if (protocol_error)
    TC_LOG(log_, kDebug, "control: closing #%llu %s: %s", static_cast<unsigned long long>(id),
           c.peer().to_string().c_str(), to_string(reason));
  else
    TC_LOG(log_, kInfo, "control: #%llu %s closed (%s)", static_cast<unsigned long long>(id),
           c.peer().to_string().c_str(), to_string(reason));
  if (!c.said_hello()) --pending_;
  loop_.remove(c.fd());
  routes_.connection_down(id);
  conns_.erase(it);
}

void ControlServer::report(CounterSink& sink) const {
  counters_.report(sink);
  sink.gauge("control_connections", "", conns_.size());
}

}  // namespace tc::intercept

#include "intercept/control/control_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
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
      max_pending_per_source_(config.max_pending_per_source),
      max_connections_(config.max_connections) {
  if (config.bind.empty()) listeners_.push_back(open_listen_socket_any(config.port));
  std::string first_error;
  for (const IpAddress& addr : config.bind) {
    try {
      listeners_.push_back(open_listen_socket(addr, config.port));
    } catch (const std::runtime_error& e) {
      if (!config.bind_best_effort) throw;
      if (first_error.empty()) first_error = e.what();
      TC_LOG(log_, kInfo, "control: %s; the other addresses serve", e.what());
    }
  }
  if (listeners_.empty() && !first_error.empty()) throw std::runtime_error(first_error);
  for (const UniqueFd& l : listeners_) {
    const int fd = l.get();
    listening_.push_back(loop_.add(fd, EPOLLIN, [this, fd](uint32_t) { on_accept(fd); }));
  }
}

ControlServer::~ControlServer() {
  counters_.closed[static_cast<size_t>(CloseReason::kShutdown)] += conns_.size();
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
      refuse(std::move(fd), peer, RefuseReason::kNotAllowed);
      continue;
    }
    const SourceKey source = source_key(peer.addr);
    if (!pending_.empty() &&
        (pending_.size() >= max_pending_ || pending_from(source) >= max_pending_per_source_ ||
         conns_.size() >= max_connections_))
      make_room(peer, source);
    if (conns_.size() >= max_connections_) {
      refuse(std::move(fd), peer, RefuseReason::kTooMany);
      continue;
    }
    if (pending_.size() >= max_pending_) {  // only with max_pending 0
      refuse(std::move(fd), peer, RefuseReason::kTooManyPending);
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
    EventLoop::Registration registration;
    try {
      registration = loop_.add(raw, EPOLLIN, [this, id](uint32_t events) { on_event(id, events); });
    } catch (const std::system_error& e) {
      // The connection is dropped (closed here); the loop keeps serving.
      ++counters_.accept_errors;
      TC_LOG(log_, kWarn, "control: cannot watch the connection from %s: %s", peer.to_string().c_str(), e.what());
      continue;
    }
    conns_.emplace(id, Entry{std::move(conn), std::move(registration), source, false});
    pending_.push_back(id);
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
      std::erase(pending_, id);
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
  for (const ConnId id : pending_) {
    const ControlConnection& c = *conns_.at(id).conn;
    if (now - c.accepted_at() >= hello_timeout_) to_close_.emplace_back(id, CloseReason::kHelloTimeout);
  }
  for (const auto& [id, reason] : to_close_) {
    if (reason == CloseReason::kHelloTimeout) {
      if (auto it = conns_.find(id); it != conns_.end())
        it->second.conn->turn_away(wire::TurnAwayReason::kHelloTimeout,
                                   "the handshake did not complete within " +
                                       std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(hello_timeout_).count()) +
                                       " ms");
    }
    close(id, reason);
  }
  to_close_.clear();
  if (now >= next_release_) {
    release_memory(now);
    next_release_ = now + std::chrono::seconds(1);
  }
}

// Idle connections give their buffers back; after closes or releases of a
// MiB or more, malloc_trim hands the free pages to the system (the
// allocator keeps them otherwise, and RSS would stay at its peak).
void ControlServer::release_memory(TimePoint /*now*/) {
  size_t freed = freed_since_trim_;
  for (auto& [id, e] : conns_) {
    if (e.conn->take_activity() || e.conn->has_output()) continue;
    const size_t before = e.conn->buffer_bytes();
    e.conn->release_buffers();
    freed += before - e.conn->buffer_bytes();
  }
  freed_since_trim_ = 0;
  if (freed < (size_t{1} << 20)) {
    freed_since_trim_ = freed;
    return;
  }
#ifdef __GLIBC__
  ::malloc_trim(0);
  ++counters_.memory_trims;
#endif
}

ControlServer::SourceKey ControlServer::source_key(const IpAddress& addr) {
  SourceKey k = addr.bytes16();
  if (!addr.is_v4()) std::fill(k.begin() + 8, k.end(), uint8_t{0});  // the /64
  return k;
}

size_t ControlServer::pending_from(const SourceKey& source) const {
  size_t n = 0;
  for (const ConnId id : pending_) n += conns_.at(id).source == source ? 1 : 0;
  return n;
}

void ControlServer::make_room(const Endpoint& peer, const SourceKey& source) {
  // Its own source first: a source at its limit pays for its new
  // connection with its oldest one (a silent one if it has any).
  ConnId victim = 0;
  CloseReason why = CloseReason::kEvictedSameSource;
  size_t source_count = 0;
  if (pending_from(source) >= max_pending_per_source_) {
    for (const ConnId id : pending_) {
      const Entry& e = conns_.at(id);
      if (e.source != source) continue;
      if (victim == 0 || (!e.conn->heard_from() && conns_.at(victim).conn->heard_from())) victim = id;
    }
    source_count = pending_from(source);
  } else {
    // Otherwise the source holding the most connections in the handshake
    // gives its oldest, silent ones first: a flood from few sources makes
    // room for everyone else, a real tcpcopy among them.
    why = CloseReason::kEvictedBusiest;
    bool victim_silent = false;
    for (const ConnId id : pending_) {  // oldest first: ties keep the oldest
      const Entry& e = conns_.at(id);
      const size_t n = pending_from(e.source);
      const bool silent = !e.conn->heard_from();
      if (victim == 0 || n > source_count || (n == source_count && silent && !victim_silent)) {
        victim = id;
        source_count = n;
        victim_silent = silent;
      }
    }
  }
  if (victim == 0) return;
  ControlConnection& c = *conns_.at(victim).conn;
  const TimePoint now = monotonic_now();
  const LogLevel level = now - last_evict_log_ >= std::chrono::seconds(1) ? LogLevel::kWarn : LogLevel::kDebug;
  if (level == LogLevel::kWarn) last_evict_log_ = now;
  if (log_.enabled(level))
    log_.log(level,
             "control: too many connections in the handshake (%zu, at most %zu, %zu per source): closing #%llu %s "
             "(%s, %zu from its source) to admit %s",
             pending_.size(), max_pending_, max_pending_per_source_, static_cast<unsigned long long>(victim),
             c.peer().to_string().c_str(), c.heard_from() ? "mid-handshake" : "silent", source_count,
             peer.to_string().c_str());
  c.turn_away(wire::TurnAwayReason::kHandshakeFull,
              "too many connections in intercept's handshake; this one was closed to make room for a newer one");
  close(victim, why);
}

void ControlServer::refuse(UniqueFd fd, const Endpoint& peer, RefuseReason why) {
  ++counters_.refused[static_cast<size_t>(why)];
  // Best effort, a few bytes into an empty socket buffer: the peer can log
  // why instead of seeing only a reset.
  wire::FrameWriter w(256);
  const bool allowed = why != RefuseReason::kNotAllowed;
  if (w.turned_away(allowed ? wire::TurnAwayReason::kTooMany : wire::TurnAwayReason::kNotAllowed,
                    allowed ? "intercept serves its maximum of control connections"
                            : "this address is not on intercept's --allow list")) {
    const auto out = w.pending();
    (void)::send(fd.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  drain_input(fd.get());
  fd.reset();
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
    if (!e.registration.modify(want ? (EPOLLIN | EPOLLOUT) : EPOLLIN)) return CloseReason::kWriteError;
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
  if (!c.said_hello()) std::erase(pending_, id);
  freed_since_trim_ += c.buffer_bytes() + sizeof(ControlConnection);
  it->second.registration.reset();
  routes_.connection_down(id);
  conns_.erase(it);
}

void ControlServer::report(CounterSink& sink) const {
  counters_.report(sink);
  ControlReadings r;
  r.connections = conns_.size();
  r.buffer_bytes = buffer_bytes();
  r.report(sink);
}

size_t ControlServer::buffer_bytes() const {
  size_t bytes = 0;
  for (const auto& [id, e] : conns_) bytes += e.conn->buffer_bytes();
  return bytes;
}

}  // namespace tc::intercept

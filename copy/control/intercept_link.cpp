#include "copy/control/intercept_link.h"

#include "common/socket_address.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tc {

namespace {

// Dead intercepts must be noticed even on an idle link: keepalive probes
// after 10 s of silence, and unacknowledged data (including a window that
// stays closed) fails the connection after 30 s.
constexpr int kKeepIdleSeconds = 10;
constexpr int kKeepIntervalSeconds = 5;
constexpr int kKeepCount = 3;
constexpr unsigned int kUserTimeoutMs = 30000;
constexpr size_t kMaxConnectionsPerIntercept = 64;
constexpr Duration kMaxWait = 1s;
constexpr Duration kPingInterval = 1s;  // round trip samples per up connection

LinkFailure failure_from_errno(int err) {
  switch (err) {
    case ECONNREFUSED: return LinkFailure::kRefused;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE: return LinkFailure::kReset;
    case ETIMEDOUT: return LinkFailure::kTimeout;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EADDRNOTAVAIL: return LinkFailure::kUnreachable;
    default: return LinkFailure::kOther;
  }
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

void set_int(int fd, int level, int name, int value) {
  // Tuning only: a kernel without the option still gets a working link.
  (void)setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

TC_REASON_TO_STRING(LinkFailure, TC_LINK_FAILURES)


InterceptLink::InterceptLink(EventLoop& loop, Logger& log, std::vector<Endpoint> intercepts, ReplyHandler& handler,
                             InterceptLinkOptions options)
    : loop_(loop), log_(log), handler_(handler), options_(options) {
  if (intercepts.empty()) throw std::invalid_argument("intercept link: no intercept address");
  options_.connections_per_intercept =
      std::clamp<size_t>(options_.connections_per_intercept, 1, kMaxConnectionsPerIntercept);
  options_.writer_bytes = std::max<size_t>(options_.writer_bytes, wire::kHeaderSize + wire::kMaxPayload);
  options_.backoff_min = std::max<Duration>(options_.backoff_min, 1ms);
  options_.backoff_max = std::max(options_.backoff_max, options_.backoff_min);
  options_.reply_prefix = std::min(options_.reply_prefix, static_cast<uint16_t>(wire::kMaxReplyPrefix));

  if (getrandom(&instance_id_, sizeof instance_id_, 0) != static_cast<ssize_t>(sizeof instance_id_))
    throw std::system_error(errno, std::generic_category(), "intercept link: random instance id");

  const size_t writer_max = writer_capacity();
  intercepts_.reserve(intercepts.size());
  for (const Endpoint& ep : intercepts) {
    Intercept in;
    in.endpoint = ep;
    in.conns.reserve(options_.connections_per_intercept);
    for (size_t i = 0; i < options_.connections_per_intercept; ++i) {
      in.conns.emplace_back(writer_max);
      in.conns.back().backoff = options_.backoff_min;
    }
    intercepts_.push_back(std::move(in));
  }
  chosen_.reserve(intercepts_.size());
}

InterceptLink::~InterceptLink() = default;

size_t InterceptLink::intercepts_up() const {
  return static_cast<size_t>(
      std::count_if(intercepts_.begin(), intercepts_.end(), [](const Intercept& in) { return in.up > 0; }));
}

size_t InterceptLink::connections_up() const {
  size_t n = 0;
  for (const Intercept& in : intercepts_) n += in.up;
  return n;
}

std::string InterceptLink::describe(size_t ii, size_t ci) const {
  return intercepts_[ii].endpoint.to_string() + " connection " + std::to_string(ci + 1) + "/" +
         std::to_string(intercepts_[ii].conns.size());
}

// ---- registration -------------------------------------------------------

// The connection a key always uses while it is up: hash modulo the
// configured count, so keys keep their connection when another one drops;
// the next up connection stands in for a down one.
InterceptLink::Connection* InterceptLink::pick(Intercept& in, size_t hash) {
  const size_t n = in.conns.size();
  for (size_t k = 0, i = hash % n; k < n; ++k, i = (i + 1) % n)
    if (in.conns[i].state == State::kUp) return &in.conns[i];
  return nullptr;
}

// has_room() bounds the pending bytes at writer_bytes; the writer itself
// may hold up to half its capacity of already-written bytes before it
// compacts, so it gets twice that, and add_key never fails after the check.
size_t InterceptLink::writer_capacity() const { return 2 * options_.writer_bytes + 4096; }

bool InterceptLink::has_room(const Connection& c) const {
  return c.stream.writer().pending_bytes() + wire::kHeaderSize + 2 + wire::kKeySize <= options_.writer_bytes;
}

bool InterceptLink::register_session(const SessionKey& key) {
  const size_t hash = SessionKeyHash{}(key);
  chosen_.clear();
  for (Intercept& in : intercepts_) {
    if (in.up == 0 || (replay_only_ && replay_only_ != &in)) continue;
    chosen_.push_back(pick(in, hash));
  }
  if (chosen_.empty()) return false;
  // All or nothing, so a shed session is not left half-registered.
  for (const Connection* c : chosen_) {
    if (!has_room(*c)) {
      ++stats_.registrations_shed;
      return false;
    }
  }
  bool ok = true;
  for (Connection* c : chosen_) ok = c->stream.writer().add_key(wire::MessageType::kRegister, key) && ok;
  if (!ok) {
    ++stats_.registrations_shed;
    return false;
  }
  ++stats_.registrations;
  return true;
}

void InterceptLink::unregister_session(const SessionKey& key) {
  const size_t hash = SessionKeyHash{}(key);
  bool any = false;
  for (Intercept& in : intercepts_) {
    if (in.up == 0) continue;
    Connection* c = pick(in, hash);
    if (has_room(*c) && c->stream.writer().add_key(wire::MessageType::kUnregister, key))
      any = true;
    else
      ++stats_.unregistrations_shed;
  }
  if (any) ++stats_.unregistrations;
}

// ---- timers -------------------------------------------------------------

Duration InterceptLink::next_timeout(TimePoint now) const {
  Duration wait = kMaxWait;
  for (const Intercept& in : intercepts_) {
    for (const Connection& c : in.conns) {
      if (c.state == State::kUp) continue;
      if (!c.deadline) return Duration{0};
      wait = std::min(wait, std::max(Duration{0}, *c.deadline - now));
    }
  }
  return wait;
}

void InterceptLink::tick(TimePoint now) {
  for (size_t ii = 0; ii < intercepts_.size(); ++ii) {
    for (size_t ci = 0; ci < intercepts_[ii].conns.size(); ++ci) {
      Connection& c = intercepts_[ii].conns[ci];
      switch (c.state) {
        case State::kIdle:
          if (!c.deadline) c.deadline = now + c.retry_delay;
          if (now >= *c.deadline) start_connect(ii, ci, now);
          break;
        case State::kConnecting:
          if (c.deadline && now >= *c.deadline)
            close(ii, ci, LinkFailure::kConnectTimeout, "no answer to the connection request");
          break;
        case State::kHelloSent:
          if (!c.deadline)
            c.deadline = now + options_.hello_timeout;
          else if (now >= *c.deadline)
            close(ii, ci, LinkFailure::kHelloTimeout, "connected, but no hello acknowledgement");
          break;
        case State::kUp:
          if (now >= c.next_ping) {
            // Stamped with the clock; the kPong brings it back. A full
            // writer skips this one.
            const auto stamp = static_cast<uint64_t>(now.count());
            (void)c.stream.writer().ping(wire::MessageType::kPing, stamp);
            c.next_ping = now + kPingInterval;
          }
          break;
      }
      if (c.state == State::kIdle && !c.deadline) c.deadline = now + c.retry_delay;
    }
  }
}

// ---- connection life cycle ----------------------------------------------

void InterceptLink::start_connect(size_t ii, size_t ci, TimePoint now) {
  Connection& c = intercepts_[ii].conns[ci];
  const Endpoint& ep = intercepts_[ii].endpoint;
  UniqueFd fd(::socket(ep.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    const int err = errno;
    close(ii, ci, failure_from_errno(err), "socket: " + errno_text(err));
    return;
  }
  // Buffers before connect(), so the window scale is negotiated for them.
  set_int(fd.get(), SOL_SOCKET, SO_SNDBUF, options_.socket_buffer_bytes);
  set_int(fd.get(), SOL_SOCKET, SO_RCVBUF, options_.socket_buffer_bytes);
  set_int(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
  set_int(fd.get(), SOL_SOCKET, SO_KEEPALIVE, 1);
  set_int(fd.get(), IPPROTO_TCP, TCP_KEEPIDLE, kKeepIdleSeconds);
  set_int(fd.get(), IPPROTO_TCP, TCP_KEEPINTVL, kKeepIntervalSeconds);
  set_int(fd.get(), IPPROTO_TCP, TCP_KEEPCNT, kKeepCount);
  set_int(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(kUserTimeoutMs));

  c.proved = false;

  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(ep, ss);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    close(ii, ci, failure_from_errno(err), errno_text(err));
    return;
  }
  // Even an immediate success goes through EPOLLOUT: one path for both.
  try {
    c.registration = loop_.add(fd.get(), EPOLLOUT, [this, ii, ci](uint32_t events) { on_event(ii, ci, events); });
  } catch (const std::system_error& e) {
    close(ii, ci, LinkFailure::kOther, e.what());
    return;
  }
  // A fresh stream: nothing from the previous connection may leak into it.
  c.stream.open(std::move(fd));
  c.state = State::kConnecting;
  c.want_write = true;
  c.deadline = now + options_.connect_timeout;
}

void InterceptLink::on_event(size_t ii, size_t ci, uint32_t events) {
  Connection& c = intercepts_[ii].conns[ci];
  if (!c.stream.is_open()) return;
  if (c.state == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.stream.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      close(ii, ci, failure_from_errno(err), errno_text(err));
      return;
    }
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(ii, ci);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    on_readable(ii, ci);
    if (!c.stream.is_open()) return;  // closed while reading
  }
  if (events & EPOLLOUT) write_pending(ii, ci);
}

void InterceptLink::on_connected(size_t ii, size_t ci) {
  Connection& c = intercepts_[ii].conns[ci];
  c.state = State::kHelloSent;
  c.deadline.reset();  // the next tick starts the hello timeout
  c.want_write = true;  // EPOLLOUT is armed until the modify below succeeds
  if (!set_events(ii, ci, false)) return;
  c.stream.writer().hello(instance_id_, options_.reply_prefix);
  write_pending(ii, ci);
}

void InterceptLink::on_readable(size_t ii, size_t ci) {
  Connection& c = intercepts_[ii].conns[ci];
  const FramedStream::ReadResult r =
      c.stream.read([this, ii, ci](const wire::Frame& frame) { return on_frame(ii, ci, frame); });
  using Kind = FramedStream::ReadResult::Kind;
  switch (r.kind) {
    case Kind::kAgain:
    case Kind::kStopped:
      return;
    case Kind::kEof:
      if (c.proved && c.state == State::kHelloSent)
        close(ii, ci, LinkFailure::kAuthFailed,
              "the intercept closed the connection on our proof: is --secret-file the same on both sides?");
      else if (c.state == State::kHelloSent)
        close(ii, ci, LinkFailure::kEof,
              "closed by the intercept before answering the hello: is its --allow list right, and does it run "
              "the same release (control protocol version " + std::to_string(wire::kVersion) + ")?");
      else
        close(ii, ci, LinkFailure::kEof, "closed by the intercept");
      return;
    case Kind::kError:
      if (c.state == State::kHelloSent && failure_from_errno(r.err) == LinkFailure::kReset)
        close(ii, ci, LinkFailure::kReset,
              errno_text(r.err) +
                  "; likely the intercept refusing connections: its --allow list lacks this host, or it is at its "
                  "limit of connections (see its log and control_refused, control_closed{evicted_*})");
      else
        close(ii, ci, failure_from_errno(r.err), errno_text(r.err));
      return;
    case Kind::kBadFrame:
      if (r.wire_error == wire::WireError::kBadVersion) {
        close(ii, ci, LinkFailure::kBadVersion,
              "control protocol version " + std::to_string(r.peer_version) + " from " +
                  intercepts_[ii].endpoint.to_string() + ", this tcpcopy speaks version " +
                  std::to_string(wire::kVersion) + ": upgrade both sides to the same release");
        return;
      }
      ++stats_.bad_frames;
      close(ii, ci, LinkFailure::kBadFrame, std::string("bad frame: ") + wire::to_string(r.wire_error));
      return;
  }
}

bool InterceptLink::on_frame(size_t ii, size_t ci, const wire::Frame& frame) {
  Intercept& in = intercepts_[ii];
  Connection& c = in.conns[ci];
  switch (static_cast<wire::MessageType>(frame.type)) {
    case wire::MessageType::kChallenge:
      return on_challenge(ii, ci, frame);
    case wire::MessageType::kTurnedAway: {
      const auto why = wire::read_turned_away(frame.payload);
      close(ii, ci, LinkFailure::kTurnedAway,
            "the intercept turned this connection away: " + (why ? why->text : std::string("(no reason given)")));
      return false;
    }
    case wire::MessageType::kHelloAck: {
      if (c.state != State::kHelloSent) return true;  // a repeated ack changes nothing
      if (!hello_ack_ok(ii, ci, frame)) return false;
      c.state = State::kUp;
      c.deadline.reset();
      c.backoff = options_.backoff_min;
      c.quiet = false;
      ++in.up;
      ++stats_.connects;
      TC_LOG(log_, kInfo, "intercept %s: up", describe(ii, ci).c_str());
      // Re-registration goes to this intercept only.
      struct ReplayScope {
        Intercept*& slot;
        ~ReplayScope() { slot = nullptr; }
      } scope{replay_only_};
      replay_only_ = &in;
      handler_.on_link_up();
      return true;
    }
    case wire::MessageType::kPong: {
      const auto stamp = wire::read_ping(frame.payload);
      const int64_t now = monotonic_now().count();
      if (stamp && static_cast<int64_t>(*stamp) <= now)
        stats_.rtt.observe(std::chrono::duration<double>(Duration(now - static_cast<int64_t>(*stamp))).count());
      return true;
    }
    case wire::MessageType::kReplies: {
      const wire::WireError err = wire::read_replies(frame.payload, [this](std::span<const uint8_t> header) {
        ++stats_.replies_received;
        handler_.on_reply(header);
      });
      if (err != wire::WireError::kNone) {
        ++stats_.bad_frames;
        close(ii, ci, LinkFailure::kBadFrame, "malformed replies frame");
        return false;
      }
      return true;
    }
    default:
      // Unknown types are skipped for forward compatibility; frames meant
      // for the other direction are skipped the same way.
      ++stats_.unknown_frames;
      return true;
  }
}

bool InterceptLink::on_challenge(size_t ii, size_t ci, const wire::Frame& frame) {
  Connection& c = intercepts_[ii].conns[ci];
  if (!options_.secret) {
    close(ii, ci, LinkFailure::kAuthFailed, "the intercept asks for a shared secret: give tcpcopy --secret-file");
    return false;
  }
  const auto nonce = wire::read_challenge(frame.payload);
  if (c.state != State::kHelloSent || c.proved || !nonce) {
    ++stats_.bad_frames;
    close(ii, ci, LinkFailure::kBadFrame, "unexpected or malformed challenge");
    return false;
  }
  c.server_nonce = *nonce;
  const auto proof = random_nonce(c.client_nonce)
                         ? options_.secret->client_proof(c.server_nonce, c.client_nonce, instance_id_)
                         : std::nullopt;
  if (!proof) {
    close(ii, ci, LinkFailure::kAuthFailed, "cannot compute a proof (random source or HMAC failed)");
    return false;
  }
  c.stream.writer().auth(c.client_nonce, *proof);
  c.proved = true;
  return write_pending(ii, ci);
}

// With a secret, the intercept must prove it holds the same one; without,
// any acknowledgement will do (an intercept with a secret never sends one).
bool InterceptLink::hello_ack_ok(size_t ii, size_t ci, const wire::Frame& frame) {
  Connection& c = intercepts_[ii].conns[ci];
  if (!options_.secret) return true;
  const auto ack = wire::read_hello_ack(frame.payload);
  if (!c.proved || !ack || !ack->proof) {
    close(ii, ci, LinkFailure::kAuthFailed,
          "the intercept does not authenticate (no --secret-file there?); refusing it");
    return false;
  }
  const auto expected = options_.secret->server_proof(c.server_nonce, c.client_nonce, instance_id_);
  if (!expected || !proofs_equal(*expected, *ack->proof)) {
    close(ii, ci, LinkFailure::kAuthFailed, "the intercept's proof is wrong: it holds another secret");
    return false;
  }
  return true;
}

bool InterceptLink::write_pending(size_t ii, size_t ci) {
  Connection& c = intercepts_[ii].conns[ci];
  const FramedStream::WriteResult w = c.stream.flush();
  switch (w.kind) {
    case FramedStream::WriteResult::Kind::kDone: return set_events(ii, ci, false);
    case FramedStream::WriteResult::Kind::kBlocked: return set_events(ii, ci, true);
    case FramedStream::WriteResult::Kind::kError: break;
  }
  close(ii, ci, failure_from_errno(w.err), errno_text(w.err));
  return false;
}

// A connection whose events cannot be changed would stall: it is closed
// (and retried) like one that failed.
bool InterceptLink::set_events(size_t ii, size_t ci, bool want_write) {
  Connection& c = intercepts_[ii].conns[ci];
  if (c.want_write == want_write) return true;
  if (!c.registration.modify(want_write ? EPOLLIN | EPOLLOUT : EPOLLIN)) {
    const int err = errno;
    close(ii, ci, LinkFailure::kOther, "epoll_ctl: " + errno_text(err));
    return false;
  }
  c.want_write = want_write;
  return true;
}

void InterceptLink::flush() {
  for (size_t ii = 0; ii < intercepts_.size(); ++ii) {
    for (size_t ci = 0; ci < intercepts_[ii].conns.size(); ++ci) {
      const Connection& c = intercepts_[ii].conns[ci];
      if ((c.state == State::kHelloSent || c.state == State::kUp) && c.stream.has_output()) write_pending(ii, ci);
    }
  }
}

void InterceptLink::close(size_t ii, size_t ci, LinkFailure why, const std::string& detail) {
  Intercept& in = intercepts_[ii];
  Connection& c = in.conns[ci];
  const bool was_up = c.state == State::kUp;
  const char* what = was_up ? "connection lost" : c.state == State::kHelloSent ? "hello failed" : "cannot connect";
  if (c.stream.is_open()) {
    c.registration.reset();
    c.stream.close();
  }
  c.state = State::kIdle;
  c.want_write = false;
  c.deadline.reset();  // the next tick schedules the retry
  c.retry_delay = c.backoff;
  c.backoff = std::min(c.backoff * 2, options_.backoff_max);
  if (was_up) {
    --in.up;
    ++stats_.disconnects[static_cast<size_t>(why)];
  } else {
    ++stats_.connect_failures[static_cast<size_t>(why)];
  }
  // One line per outage; the retries that follow stay at debug level.
  const LogLevel level = c.quiet ? LogLevel::kDebug : LogLevel::kWarn;
  if (log_.enabled(level)) {
    log_.log(level, "intercept %s: %s: %s (%s); retrying with backoff up to %lld ms", describe(ii, ci).c_str(), what,
             to_string(why), detail.c_str(),
             static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.backoff_max).count()));
  }
  c.quiet = true;
}

void InterceptLink::report(CounterSink& sink) const { stats_.report(sink); }

}  // namespace tc

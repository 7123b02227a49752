#include "intercept/control/control_connection.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <utility>

namespace tc::intercept {

namespace {

// Before the handshake is through, a frame is at most a kAuth (64 bytes).
constexpr size_t kHandshakeMaxPayload = 2 * wire::kAuthBytes;

CloseReason close_reason(wire::WireError e) {
  switch (e) {
    case wire::WireError::kBadMagic: return CloseReason::kBadMagic;
    case wire::WireError::kBadVersion: return CloseReason::kBadVersion;
    case wire::WireError::kTooLong: return CloseReason::kFrameTooLong;
    default: return CloseReason::kBadPayload;
  }
}

}  // namespace

void drain_input(int fd) {
  // Bounded: a peer that keeps sending still gets closed.
  std::array<uint8_t, 1024> sink{};
  for (int i = 0; i < 8; ++i) {
    const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n <= 0 && !(n < 0 && errno == EINTR)) return;
  }
}

ControlConnection::ControlConnection(ConnId id, UniqueFd fd, Endpoint peer, size_t max_output_bytes,
                                     const SharedSecret* secret, TimePoint accepted_at)
    : id_(id), stream_(std::move(fd), max_output_bytes), peer_(peer), secret_(secret), accepted_at_(accepted_at) {
  stream_.set_max_payload(kHandshakeMaxPayload);
}

std::optional<CloseReason> ControlConnection::on_readable(RouteTable& routes, ReplySink& sink, TimePoint now,
                                                          ControlCounters& counters) {
  heard_from_ = true;
  active_ = true;
  std::optional<CloseReason> reason;
  const FramedStream::ReadResult r = stream_.read([&](const wire::Frame& frame) {
    reason = handle(frame, routes, sink, now, counters);
    return !reason;
  });
  using Kind = FramedStream::ReadResult::Kind;
  switch (r.kind) {
    case Kind::kAgain: return std::nullopt;
    case Kind::kStopped: return reason;
    case Kind::kEof: return CloseReason::kPeerClosed;
    case Kind::kError: return CloseReason::kReadError;
    case Kind::kBadFrame:
      if (r.wire_error == wire::WireError::kBadVersion) refuse_version(r.peer_version);
      return close_reason(r.wire_error);
  }
  return std::nullopt;
}

// A peer of another release gets a frame of this version before the
// connection closes: its own decoder then fails on the version and says
// so, instead of seeing only a closed connection. Best effort: the socket
// takes the few bytes at once or not at all.
void ControlConnection::refuse_version(uint8_t version) {
  peer_version_ = version;
  if (stream_.writer().hello_ack()) (void)stream_.flush();
}

void ControlConnection::turn_away(wire::TurnAwayReason reason, std::string_view text) {
  if (stream_.writer().turned_away(reason, text)) (void)stream_.flush();
  drain_input(fd());
}

std::optional<CloseReason> ControlConnection::handle(const wire::Frame& frame, RouteTable& routes, ReplySink& sink,
                                                     TimePoint now, ControlCounters& counters) {
  using wire::MessageType;
  const auto type = static_cast<MessageType>(frame.type);
  if (state_ != State::kUp) {
    if (type == MessageType::kHello) return on_hello(frame, routes, counters);
    if (type == MessageType::kAuth) return on_auth(frame, routes, counters);
    // Nothing else is read from a peer that has not completed the handshake.
    return state_ == State::kAwaitHello ? CloseReason::kNoHello : CloseReason::kAuthFailed;
  }
  switch (type) {
    case MessageType::kHello:
      return CloseReason::kDuplicateHello;
    case MessageType::kRegister:
    case MessageType::kUnregister: {
      const bool reg = type == MessageType::kRegister;
      const auto err = wire::read_keys(frame.payload, [&](const SessionKey& key) {
        if (reg) routes.register_key(id_, key, now, sink);
        else routes.unregister_key(id_, key);
      });
      if (err != wire::WireError::kNone) return CloseReason::kBadPayload;
      return std::nullopt;
    }
    case MessageType::kPing: {
      const auto stamp = wire::read_ping(frame.payload);
      if (!stamp) return CloseReason::kBadPayload;
      // The writer being full drops the answer: a round trip unmeasured.
      if (stream_.writer().ping(MessageType::kPong, *stamp)) active_ = true;
      return std::nullopt;
    }
    case MessageType::kHelloAck:
    case MessageType::kReplies:
    case MessageType::kPong:
    case MessageType::kChallenge:
    case MessageType::kAuth:
    case MessageType::kTurnedAway:
      ++counters.frames_unexpected;
      return std::nullopt;
  }
  ++counters.frames_unknown;
  return std::nullopt;
}

std::optional<CloseReason> ControlConnection::on_hello(const wire::Frame& frame, RouteTable& routes,
                                                       ControlCounters& counters) {
  if (state_ != State::kAwaitHello) return CloseReason::kDuplicateHello;
  auto hello = wire::read_hello(frame.payload);
  if (!hello) return CloseReason::kBadPayload;
  instance_id_ = hello->instance_id;
  payload_prefix_ = hello->payload_prefix;
  if (secret_ == nullptr) {
    stream_.writer().hello_ack();
    come_up(routes, counters);
    return std::nullopt;
  }
  if (!random_nonce(challenge_)) return CloseReason::kAuthFailed;
  stream_.writer().challenge(challenge_);
  state_ = State::kAwaitAuth;
  return std::nullopt;
}

std::optional<CloseReason> ControlConnection::on_auth(const wire::Frame& frame, RouteTable& routes,
                                                      ControlCounters& counters) {
  if (state_ != State::kAwaitAuth) return CloseReason::kAuthFailed;  // unasked, or no secret here
  auto auth = wire::read_auth(frame.payload);
  if (!auth) return CloseReason::kBadPayload;
  const auto expected = secret_->client_proof(challenge_, auth->nonce, instance_id_);
  if (!expected || !proofs_equal(*expected, auth->proof)) return CloseReason::kAuthFailed;
  const auto proof = secret_->server_proof(challenge_, auth->nonce, instance_id_);
  if (!proof) return CloseReason::kAuthFailed;
  stream_.writer().hello_ack(*proof);
  ++counters.authenticated;
  come_up(routes, counters);
  return std::nullopt;
}

void ControlConnection::come_up(RouteTable& routes, ControlCounters& counters) {
  state_ = State::kUp;
  stream_.set_max_payload(wire::kMaxPayload);
  ++counters.hellos;
  routes.connection_up(id_, peer_.addr, instance_id_);
}

std::optional<CloseReason> ControlConnection::flush() {
  // Blocked output waits for EPOLLOUT (the server arms it).
  if (stream_.flush().kind == FramedStream::WriteResult::Kind::kError) return CloseReason::kWriteError;
  return std::nullopt;
}

}  // namespace tc::intercept

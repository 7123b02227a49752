#include "intercept/control/control_connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace tc::intercept {

namespace {

// Reads per readiness event, so one busy tcpcopy cannot starve the queue.
constexpr int kReadsPerEvent = 16;
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

ControlConnection::ControlConnection(ConnId id, UniqueFd fd, Endpoint peer, size_t max_output_bytes,
                                     const SharedSecret* secret, TimePoint accepted_at)
    : id_(id), fd_(std::move(fd)), peer_(peer), writer_(max_output_bytes), secret_(secret), accepted_at_(accepted_at) {
  decoder_.set_max_payload(kHandshakeMaxPayload);
}

std::optional<CloseReason> ControlConnection::on_readable(RouteTable& routes, ReplySink& sink, TimePoint now,
                                                          ControlCounters& counters) {
  for (int i = 0; i < kReadsPerEvent; ++i) {
    auto space = decoder_.write_space();
    if (space.empty()) {
      // Only a corrupt stream leaves no room: frames are drained after every read.
      if (decoder_.error() != wire::WireError::kNone) return close_reason(decoder_.error());
      return std::nullopt;
    }
    const ssize_t n = ::recv(fd_.get(), space.data(), space.size(), MSG_DONTWAIT);
    if (n == 0) return CloseReason::kPeerClosed;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      return CloseReason::kReadError;
    }
    decoder_.commit(static_cast<size_t>(n));
    while (auto frame = decoder_.next()) {
      if (auto reason = handle(*frame, routes, sink, now, counters)) return reason;
    }
    if (decoder_.error() != wire::WireError::kNone) return close_reason(decoder_.error());
    if (static_cast<size_t>(n) < space.size()) return std::nullopt;  // drained
  }
  return std::nullopt;
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
    case MessageType::kHelloAck:
    case MessageType::kReplies:
    case MessageType::kChallenge:
    case MessageType::kAuth:
      ++counters.frames_unexpected;
      return std::nullopt;
  }
  ++counters.frames_unknown;
  return std::nullopt;
}

std::optional<CloseReason> ControlConnection::on_hello(const wire::Frame& frame, RouteTable& routes,
                                                       ControlCounters& counters) {
  if (state_ != State::kAwaitHello) return CloseReason::kDuplicateHello;
  auto id = wire::read_hello(frame.payload);
  if (!id) return CloseReason::kBadPayload;
  instance_id_ = *id;
  if (secret_ == nullptr) {
    writer_.hello_ack();
    come_up(routes, counters);
    return std::nullopt;
  }
  if (!random_nonce(challenge_)) return CloseReason::kAuthFailed;
  writer_.challenge(challenge_);
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
  writer_.hello_ack(*proof);
  ++counters.authenticated;
  come_up(routes, counters);
  return std::nullopt;
}

void ControlConnection::come_up(RouteTable& routes, ControlCounters& counters) {
  state_ = State::kUp;
  decoder_.set_max_payload(wire::kMaxPayload);
  ++counters.hellos;
  routes.connection_up(id_, peer_.addr, instance_id_);
}

std::optional<CloseReason> ControlConnection::flush() {
  while (!writer_.empty()) {
    const auto out = writer_.pending();
    const ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      return CloseReason::kWriteError;
    }
    writer_.consume(static_cast<size_t>(n));
  }
  return std::nullopt;
}

}  // namespace tc::intercept

// One control connection from a tcpcopy: frames in (Hello, with a secret
// the Auth answer to a Challenge, then Register/Unregister), Hello-Ack and
// replies out, each cut to the payload prefix its Hello asked for. Output is bounded; when it is full, replies are shed
// rather than blocking the queue loop. Until the handshake is through, only
// small handshake frames are accepted and nothing reaches the route table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "common/auth.h"
#include "common/clock.h"
#include "common/framed_stream.h"
#include "common/ip_address.h"
#include "common/unique_fd.h"
#include "common/wire.h"
#include "intercept/control/control_counters.h"
#include "intercept/routing/reply_sink.h"
#include "intercept/routing/route_table.h"

namespace tc::intercept {

// Reads and drops what `fd` holds (a few KiB at most) before it is closed.
void drain_input(int fd);

class ControlConnection {
 public:
  // `secret` (may be null: no authentication) must outlive the connection.
  ControlConnection(ConnId id, UniqueFd fd, Endpoint peer, size_t max_output_bytes, const SharedSecret* secret,
                    TimePoint accepted_at);

  ConnId id() const { return id_; }
  int fd() const { return stream_.fd(); }
  const Endpoint& peer() const { return peer_; }
  // Through the handshake: said hello and, with a secret, proved it.
  bool said_hello() const { return state_ == State::kUp; }
  uint32_t instance_id() const { return instance_id_; }
  // Payload bytes per reply the peer's Hello asked for.
  uint16_t payload_prefix() const { return payload_prefix_; }
  // After kBadVersion: the protocol version the peer speaks.
  uint8_t peer_version() const { return peer_version_; }
  TimePoint accepted_at() const { return accepted_at_; }
  // The peer has sent something (or closed): in the handshake, a silent
  // peer is the first to make room for a newer one.
  bool heard_from() const { return heard_from_; }

  // Reads or replies since the last call; clears the mark.
  bool take_activity() { return std::exchange(active_, false); }
  // Gives back the buffers of an idle connection (see FramedStream).
  void release_buffers() { stream_.release_buffers(); }
  size_t buffer_bytes() const { return stream_.buffer_bytes(); }
  // Tells the peer why it is closed (a kTurnedAway frame, best effort) and
  // reads what it already sent, so the close that follows is a FIN the
  // peer reads after the frame, not a reset that may discard it.
  void turn_away(wire::TurnAwayReason reason, std::string_view text);

  // Reads what is waiting and acts on every complete frame. Returns why the
  // connection must close, or nullopt to keep it.
  std::optional<CloseReason> on_readable(RouteTable& routes, ReplySink& sink, TimePoint now,
                                         ControlCounters& counters);

  // Queues the reply's header and up to payload_prefix() of its payload.
  // False when the output buffer is full (nothing is queued).
  bool add_reply(const RoutedReply& reply) {
    active_ = true;
    return stream_.writer().add_reply(reply.with_prefix(payload_prefix_));
  }
  bool has_output() const { return stream_.has_output(); }
  // Writes as much pending output as the socket takes.
  std::optional<CloseReason> flush();

 private:
  enum class State : uint8_t { kAwaitHello, kAwaitAuth, kUp };

  std::optional<CloseReason> handle(const wire::Frame& frame, RouteTable& routes, ReplySink& sink,
                                    TimePoint now, ControlCounters& counters);
  std::optional<CloseReason> on_hello(const wire::Frame& frame, RouteTable& routes, ControlCounters& counters);
  std::optional<CloseReason> on_auth(const wire::Frame& frame, RouteTable& routes, ControlCounters& counters);
  void come_up(RouteTable& routes, ControlCounters& counters);
  void refuse_version(uint8_t version);

  ConnId id_;
  FramedStream stream_;
  Endpoint peer_;
  const SharedSecret* secret_;
  TimePoint accepted_at_;
  State state_ = State::kAwaitHello;
  uint32_t instance_id_ = 0;
  uint16_t payload_prefix_ = 0;
  uint8_t peer_version_ = 0;
  bool heard_from_ = false;
  bool active_ = false;
  Nonce challenge_{};
};

}  // namespace tc::intercept

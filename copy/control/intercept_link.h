// The control channel client: tcpcopy's connections to its intercepts.
// Sessions are registered here before their SYN is sent, and the reply
// headers intercept captures come back here. tcpcopy keeps running while an
// intercept is away: the link reconnects with backoff and tells its owner
// to register the live sessions again.
//
// Order within a loop turn: call flush() here BEFORE flushing packet sends,
// so an intercept learns a session before the target can answer its SYN.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth.h"
#include "common/clock.h"
#include "common/counters.h"
#include "common/event_loop.h"
#include "common/framed_stream.h"
#include "common/ip_address.h"
#include "common/log.h"
#include "common/session_key.h"
#include "common/unique_fd.h"
#include "common/wire.h"
#include "copy/control/intercept_link_counters.h"
#include "copy/engine/ports.h"

namespace tc {

class ReplyHandler {
 public:
  virtual ~ReplyHandler() = default;
  // One reply's IP + TCP header, then as many of its first payload bytes
  // as InterceptLinkOptions::reply_prefix asked for and the reply had (the
  // IP header still gives the whole length); valid only during the call.
  virtual void on_reply(std::span<const uint8_t> header) = 0;
  // A connection to an intercept completed its hello. The intercept may
  // have lost the sessions sent before (it restarted, or they were still
  // queued on a connection that broke), so the owner registers its live
  // sessions again; during this call register_session() writes to that
  // intercept only. Registering a known session again is harmless.
  virtual void on_link_up() = 0;
};

struct InterceptLinkOptions {
  size_t connections_per_intercept = 2;   // -C
  size_t writer_bytes = 4 << 20;          // unsent control bytes per connection before shedding
  int socket_buffer_bytes = 4 << 20;
  Duration backoff_min = 100ms;           // first reconnect delay, doubled per failure
  Duration backoff_max = 5s;
  Duration connect_timeout = 3s;
  Duration hello_timeout = 3s;            // connected, but no kHelloAck yet
  // Set: answer the intercept's challenge and accept only an intercept
  // that proves the same secret (see common/auth.h).
  std::optional<SharedSecret> secret;
  // Payload bytes of each reply to ask intercept for after its headers
  // (kHello's payload prefix); 0: headers only. At most
  // wire::kMaxReplyPrefix.
  uint16_t reply_prefix = 0;
};

class InterceptLink final : public SessionRegistrar {
 public:
  // Connects on the first tick(). Throws std::invalid_argument (no
  // intercepts) or std::system_error (no random instance id).
  InterceptLink(EventLoop& loop, Logger& log, std::vector<Endpoint> intercepts, ReplyHandler& handler,
                InterceptLinkOptions options = {});
  ~InterceptLink() override;
  InterceptLink(const InterceptLink&) = delete;
  InterceptLink& operator=(const InterceptLink&) = delete;

  // Queues kRegister to every intercept with an up connection, on the
  // connection the key hashes to. False when no intercept is up, or when a
  // connection's writer is full (counted as shed; nothing is queued then).
  bool register_session(const SessionKey& key) override;
  void unregister_session(const SessionKey& key) override;

  // Writes what is queued on every connection; what the socket does not
  // take waits for EPOLLOUT. Never blocks.
  void flush();

  // Time until tick() has work (reconnects, timeouts): at most 1 s, zero
  // when due. `now` is the monotonic time, as for tick().
  Duration next_timeout(TimePoint now) const;
  void tick(TimePoint now);

  uint32_t instance_id() const { return instance_id_; }
  size_t intercepts_up() const;
  size_t connections_up() const;
  const InterceptLinkStats& stats() const { return stats_; }
  void report(CounterSink& sink) const;

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHelloSent, kUp };

  struct Connection {
    explicit Connection(size_t writer_max) : stream(writer_max) {}
    State state = State::kIdle;
    FramedStream stream;  // open from connect to close
    EventLoop::Registration registration;  // its fd in the loop; ends before the stream closes
    // Idle: when to connect; connecting/hello: when to give up. nullopt:
    // set on the next tick (events carry no time).
    std::optional<TimePoint> deadline;
    Duration retry_delay{0};
    Duration backoff{0};
    bool want_write = false;  // EPOLLOUT is armed
    bool quiet = false;       // this outage was logged already
    bool proved = false;      // our kAuth is sent; the kHelloAck must carry a proof
    TimePoint next_ping{};    // up: when to measure the round trip again
    Nonce server_nonce{};
    Nonce client_nonce{};
  };

  struct Intercept {
    Endpoint endpoint;
    std::vector<Connection> conns;
    size_t up = 0;
  };

  void start_connect(size_t ii, size_t ci, TimePoint now);
  void on_event(size_t ii, size_t ci, uint32_t events);
  void on_connected(size_t ii, size_t ci);
  void on_readable(size_t ii, size_t ci);
  // False when the frame ended the connection.
  bool on_frame(size_t ii, size_t ci, const wire::Frame& frame);
  bool on_challenge(size_t ii, size_t ci, const wire::Frame& frame);
  bool hello_ack_ok(size_t ii, size_t ci, const wire::Frame& frame);
  bool write_pending(size_t ii, size_t ci);
  void close(size_t ii, size_t ci, LinkFailure why, const std::string& detail);
  // False when the connection was closed.
  bool set_events(size_t ii, size_t ci, bool want_write);
  Connection* pick(Intercept& in, size_t hash);
  bool has_room(const Connection& c) const;
  size_t writer_capacity() const;
  std::string describe(size_t ii, size_t ci) const;

  EventLoop& loop_;
  Logger& log_;
  ReplyHandler& handler_;
  InterceptLinkOptions options_;
  uint32_t instance_id_ = 0;
  std::vector<Intercept> intercepts_;
  std::vector<Connection*> chosen_;    // scratch for register/unregister, sized once
  Intercept* replay_only_ = nullptr;   // set during on_link_up
  InterceptLinkStats stats_;
};

}  // namespace tc

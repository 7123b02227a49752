// The control channel: listening sockets and the connections of every
// tcpcopy, driven by the event loop. It is also the ReplySink the route
// table forwards replies into; they are written out in flush(), after each
// batch of queue messages, so many replies share few frames and writes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/address_prefix.h"
#include "common/auth.h"
#include "common/event_loop.h"
#include "common/ip_address.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "intercept/control/control_connection.h"
#include "intercept/control/control_counters.h"
#include "intercept/routing/reply_sink.h"
#include "intercept/routing/route_table.h"

namespace tc::intercept {

class ControlServer : public ReplySink {
 public:
  struct Config {
    std::vector<IpAddress> bind;  // empty: any address
    // Binding may fail on some of `bind` (::1 where IPv6 is off) as long as
    // one listener opens.
    bool bind_best_effort = false;
    uint16_t port = 36524;        // 0: an ephemeral port (tests)
    size_t max_output_bytes = 8u << 20;
    std::vector<AddressPrefix> allow;     // empty: any peer address
    std::optional<SharedSecret> secret;   // set: peers must prove they hold it
    Duration hello_timeout = std::chrono::seconds(5);  // accept to end of handshake
    // Connections still in the handshake, in all and per source (an IPv4
    // address, an IPv6 /64). When either is full a new connection is still
    // admitted: the oldest of its own source, or the oldest of the source
    // holding the most (silent ones first) makes room, so peers that
    // connect and say nothing cannot lock a tcpcopy out.
    size_t max_pending = 64;
    // A tcpcopy with --workers opens workers x -C connections at once
    // from one address (16 x 2 by default at most).
    size_t max_pending_per_source = 32;
    size_t max_connections = 1024;
  };
  // Memory a connection holds at most: its input buffer (two frames) and
  // its output bound.
  static size_t max_connection_bytes(const Config& c) { return wire::kDecoderMaxBytes + c.max_output_bytes; }
  // Opens the listening sockets; throws std::runtime_error when one fails.
  ControlServer(const Config& config, EventLoop& loop, RouteTable& routes, Logger& log);
  ~ControlServer() override;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  bool deliver(ConnId conn, const RoutedReply& reply) override;
  // Closes connections whose handshake has run out of time; about once a
  // second frees the buffers of idle connections and, after a burst of
  // closes, hands the freed memory back to the system.
  void tick(TimePoint now);
  // Writes queued output of every connection; arms EPOLLOUT where the
  // socket is full.
  void flush();

  // Ports actually bound, one per listening socket.
  std::vector<uint16_t> listening_ports() const;
  size_t connection_count() const { return conns_.size(); }
  // Bytes the connections' buffers hold allocated.
  size_t buffer_bytes() const;
  const ControlCounters& counters() const { return counters_; }
  void report(CounterSink& sink) const;

 private:
  void on_accept(int listen_fd);
  void on_event(ConnId id, uint32_t events);
  // Writes `c`'s output and keeps EPOLLOUT armed exactly while some is left.
  // Pending connections are counted per source: an IPv4 address or an
  // IPv6 /64 (one host may hold a whole /64).
  using SourceKey = std::array<uint8_t, 16>;
  static SourceKey source_key(const IpAddress& addr);
  struct Entry {
    std::unique_ptr<ControlConnection> conn;
    EventLoop::Registration registration;  // declared after conn: ends before its fd closes
    SourceKey source{};
    bool epollout = false;  // armed while output waits for socket space
  };
  size_t pending_from(const SourceKey& source) const;
  // Closes a connection in the handshake so a new one from `peer` fits.
  void make_room(const Endpoint& peer, const SourceKey& source);
  void release_memory(TimePoint now);
  std::optional<CloseReason> write_out(Entry& e);
  void close(ConnId id, CloseReason reason);
  void refuse(UniqueFd fd, const Endpoint& peer, RefuseReason why);

  EventLoop& loop_;
  RouteTable& routes_;
  Logger& log_;
  size_t max_output_bytes_;
  std::vector<AddressPrefix> allow_;
  std::optional<SharedSecret> secret_;
  Duration hello_timeout_;
  size_t max_pending_;
  size_t max_pending_per_source_;
  size_t max_connections_;
  std::vector<ConnId> pending_;    // not through the handshake, oldest first
  TimePoint last_refusal_log_{};   // refusals are logged at most once a second
  TimePoint last_evict_log_{};     // so are evictions
  TimePoint next_release_{};       // the next sweep for idle buffers
  size_t freed_since_trim_ = 0;    // buffer bytes of closed connections
  std::vector<UniqueFd> listeners_;
  std::vector<EventLoop::Registration> listening_;  // one per listener, ended before them
  std::unordered_map<ConnId, Entry> conns_;
  std::vector<std::pair<ConnId, CloseReason>> to_close_;
  ConnId next_id_ = 1;
  ControlCounters counters_;
};

}  // namespace tc::intercept

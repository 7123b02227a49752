// The control channel: listening sockets and the connections of every
// tcpcopy, driven by the event loop. It is also the ReplySink the route
// table forwards replies into; they are written out in flush(), after each
// batch of queue messages, so many replies share few frames and writes.
#pragma once

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
    uint16_t port = 36524;        // 0: an ephemeral port (tests)
    size_t max_output_bytes = 8u << 20;
    std::vector<AddressPrefix> allow;     // empty: any peer address
    std::optional<SharedSecret> secret;   // set: peers must prove they hold it
    Duration hello_timeout = std::chrono::seconds(5);  // accept to end of handshake
    size_t max_pending = 64;              // connections still in the handshake
    size_t max_connections = 1024;
  };
  // Opens the listening sockets; throws std::runtime_error when one fails.
  ControlServer(const Config& config, EventLoop& loop, RouteTable& routes, Logger& log);
  ~ControlServer() override;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  bool deliver(ConnId conn, const RoutedReply& reply) override;
  // Closes connections whose handshake has run out of time.
  void tick(TimePoint now);
  // Writes queued output of every connection; arms EPOLLOUT where the
  // socket is full.
  void flush();

  // Ports actually bound, one per listening socket.
  std::vector<uint16_t> listening_ports() const;
  size_t connection_count() const { return conns_.size(); }
  const ControlCounters& counters() const { return counters_; }
  void report(CounterSink& sink) const;

 private:
  void on_accept(int listen_fd);
  void on_event(ConnId id, uint32_t events);
  // Writes `c`'s output and keeps EPOLLOUT armed exactly while some is left.
  struct Entry {
    std::unique_ptr<ControlConnection> conn;
    bool epollout = false;  // armed while output waits for socket space
  };
  std::optional<CloseReason> write_out(Entry& e);
  void close(ConnId id, CloseReason reason);
  void refuse(const Endpoint& peer, RefuseReason why);

  EventLoop& loop_;
  RouteTable& routes_;
  Logger& log_;
  size_t max_output_bytes_;
  std::vector<AddressPrefix> allow_;
  std::optional<SharedSecret> secret_;
  Duration hello_timeout_;
  size_t max_pending_;
  size_t max_connections_;
  size_t pending_ = 0;             // connections not through the handshake
  TimePoint last_refusal_log_{};   // refusals are logged at most once a second
  std::vector<UniqueFd> listeners_;
  std::unordered_map<ConnId, Entry> conns_;
  std::vector<std::pair<ConnId, CloseReason>> to_close_;
  ConnId next_id_ = 1;
  ControlCounters counters_;
};

}  // namespace tc::intercept

// Which tcpcopy gets the replies (headers and payload prefix) of which
// session.
//
// A client is one tcpcopy process: all control connections from the same
// peer address with the same Hello instance id. A route maps a session key
// to the connection that registered it; replies go there while it is up,
// else on any other live connection of the same client. When a client's
// last connection closes its routes go with it. Routes also expire after a
// period without traffic; they are kept in least-recently-used order, so
// expiry only looks at the oldest entries instead of scanning the table.
//
// Replies with no route yet are parked (see ParkedReplies) and forwarded as
// soon as their registration arrives.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/counters.h"
#include "common/session_key.h"
#include "intercept/routing/parked_replies.h"
#include "intercept/routing/reply_sink.h"

namespace tc::intercept {

// Declared once; see common/counters.h.
#define TC_ROUTE_COUNTERS(COUNTER, GAUGE, REASONS)                                                     \
  COUNTER(registrations, "registrations", "", "Sessions registered by tcpcopy")                        \
  COUNTER(unregistrations, "unregistrations", "", "Sessions unregistered by tcpcopy")                  \
  COUNTER(routes_expired, "routes_expired", "", "Routes that timed out")                               \
  COUNTER(routes_dropped, "routes_dropped", "client_gone", "Routes dropped: their client's last connection closed") \
  COUNTER(routes_evicted, "routes_evicted", "", "Routes evicted because the table was full (max_routes)") \
  COUNTER(replies_forwarded, "replies_forwarded", "", "Reply headers sent to tcpcopy")                 \
  COUNTER(replies_shed, "replies_shed", "", "Reply headers dropped: the connection's output buffer was full") \
  COUNTER(unrouted, "unrouted", "", "Replies with no route when they arrived")                         \
  COUNTER(replies_parked, "replies_parked", "", "Replies parked until their session is registered")     \
  COUNTER(parked_forwarded, "parked_forwarded", "", "Parked replies forwarded once their route came")

struct RouteCounters {
  TC_COUNTER_FIELDS(TC_ROUTE_COUNTERS)

  void report(CounterSink& sink) const;
};

// Read from the park and the tables when reported.
#define TC_ROUTE_TABLE_READINGS(COUNTER, GAUGE, REASONS)                                               \
  COUNTER(parked_expired, "parked_expired", "", "Parked replies forgotten: their session was not registered in time") \
  COUNTER(parked_overflow, "parked_overflow", "", "Parked replies dropped to make room for newer ones")  \
  GAUGE(routes_active, "routes_active", "", "Sessions routed now")                                     \
  GAUGE(parked_active, "parked_active", "", "Replies parked now")                                      \
  GAUGE(clients_active, "clients_active", "", "tcpcopy instances connected now")

struct RouteTableReadings {
  TC_COUNTER_FIELDS(TC_ROUTE_TABLE_READINGS)

  void report(CounterSink& sink) const;
};

class RouteTable {
 public:
  struct Config {
    size_t hash_size = 65536;
    Duration route_timeout = std::chrono::seconds(120);
    size_t park_capacity = 4096;
    Duration park_ttl = std::chrono::seconds(2);
    // Routes kept at most; a registration beyond evicts the least recently
    // used route, so a tcpcopy that never unregisters cannot grow the table.
    size_t max_routes = 1u << 20;
  };
  explicit RouteTable(const Config& config);

  // A control connection said hello.
  void connection_up(ConnId conn, const IpAddress& peer, uint32_t instance_id);
  // A control connection closed (unknown ids are ignored).
  void connection_down(ConnId conn);

  // Routes `key` to `conn`'s client and forwards, in order, any replies
  // parked for it.
  void register_key(ConnId conn, const SessionKey& key, TimePoint now, ReplySink& sink);
  // Removes the route if it belongs to `conn`'s client.
  void unregister_key(ConnId conn, const SessionKey& key);

  // Forwards a reply to the client that owns its session, or parks it.
  void on_reply(const SessionKey& key, const RoutedReply& reply, TimePoint now, ReplySink& sink);

  // Forgets idle routes and stale parked replies.
  void expire(TimePoint now);

  size_t route_count() const { return routes_.size(); }
  size_t parked_count() const { return parked_.size(); }
  size_t client_count() const { return clients_.size(); }
  void report(CounterSink& sink) const;
  const RouteCounters& counters() const { return counters_; }
  uint64_t parked_expired() const { return parked_.expired(); }
  uint64_t parked_overflow() const { return parked_.overflow(); }

 private:
  struct Client {
    std::vector<ConnId> conns;  // live, in the order they said hello
  };
  struct Route {
    SessionKey key;
    Client* client;
    ConnId conn;
    TimePoint last_used;
  };
  using Lru = std::list<Route>;  // least recently used first

  // The connection to send on, preferring the one that registered.
  static ConnId pick_connection(Route& route);
  void touch(Lru::iterator it, TimePoint now);
  void erase(Lru::iterator it);

  Duration route_timeout_;
  size_t max_routes_;
  Lru lru_;
  std::unordered_map<SessionKey, Lru::iterator, SessionKeyHash> routes_;
  // std::map: Client addresses stay valid while others come and go.
  std::map<std::pair<IpAddress, uint32_t>, Client> clients_;
  std::unordered_map<ConnId, std::pair<IpAddress, uint32_t>> conn_clients_;
  ParkedReplies parked_;
  RouteCounters counters_;
};

}  // namespace tc::intercept

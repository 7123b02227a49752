#include "intercept/routing/route_table.h"

#include <algorithm>

namespace tc::intercept {

void RouteCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_ROUTE_COUNTERS, sink); }

void RouteTableReadings::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_ROUTE_TABLE_READINGS, sink); }

RouteTable::RouteTable(const Config& config)
    : route_timeout_(config.route_timeout),
      max_routes_(std::max<size_t>(config.max_routes, 1)),
      parked_(config.park_capacity, config.park_ttl) {
  routes_.reserve(config.hash_size);
}

void RouteTable::connection_up(ConnId conn, const IpAddress& peer, uint32_t instance_id) {
  if (conn_clients_.contains(conn)) return;
  const auto id = std::make_pair(peer, instance_id);
  clients_[id].conns.push_back(conn);
  conn_clients_.emplace(conn, id);
}

void RouteTable::connection_down(ConnId conn) {
  auto cc = conn_clients_.find(conn);
  if (cc == conn_clients_.end()) return;
  auto client_it = clients_.find(cc->second);
  conn_clients_.erase(cc);
  if (client_it == clients_.end()) return;
  Client& client = client_it->second;
  std::erase(client.conns, conn);
  if (!client.conns.empty()) return;  // routes stay; pick_connection moves them over
  // A rare event (a tcpcopy went away), so a pass over the table is fine.
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->client == &client) {
      erase(it);
      ++counters_.routes_dropped;
    }
    it = next;
  }
  clients_.erase(client_it);
}

void RouteTable::register_key(ConnId conn, const SessionKey& key, TimePoint now, ReplySink& sink) {
  auto cc = conn_clients_.find(conn);
  if (cc == conn_clients_.end()) return;
  Client* client = &clients_.at(cc->second);
  ++counters_.registrations;
  if (routes_.size() >= max_routes_ && !routes_.contains(key)) {
    erase(lru_.begin());
    ++counters_.routes_evicted;
  }
  auto [at, inserted] = routes_.try_emplace(key);
  if (inserted) {
    lru_.push_back(Route{key, client, conn, now});
    at->second = std::prev(lru_.end());
  } else {
    // A key registered again (port reuse, another tcpcopy): the latest wins.
    at->second->client = client;
    at->second->conn = conn;
    touch(at->second, now);
  }
  parked_.release(key, [&](const RoutedReply& reply) {
    if (sink.deliver(conn, reply)) ++counters_.parked_forwarded;
    else ++counters_.replies_shed;
  });
}

void RouteTable::unregister_key(ConnId conn, const SessionKey& key) {
  auto cc = conn_clients_.find(conn);
  auto it = routes_.find(key);
  if (cc == conn_clients_.end() || it == routes_.end()) return;
  if (it->second->client != &clients_.at(cc->second)) return;  // another tcpcopy's session now
  ++counters_.unregistrations;
  erase(it->second);
}

void RouteTable::on_reply(const SessionKey& key, const RoutedReply& reply, TimePoint now, ReplySink& sink) {
  auto it = routes_.find(key);
  if (it == routes_.end()) {
    ++counters_.unrouted;
    if (parked_.park(key, reply, now)) ++counters_.replies_parked;
    return;
  }
  touch(it->second, now);
  if (sink.deliver(pick_connection(*it->second), reply)) ++counters_.replies_forwarded;
  else ++counters_.replies_shed;
}

void RouteTable::expire(TimePoint now) {
  while (!lru_.empty() && now - lru_.front().last_used >= route_timeout_) {
    erase(lru_.begin());
    ++counters_.routes_expired;
  }
  parked_.expire(now);
}

void RouteTable::report(CounterSink& sink) const {
  counters_.report(sink);
  RouteTableReadings r;
  r.parked_expired = parked_.expired();
  r.parked_overflow = parked_.overflow();
  r.routes_active = routes_.size();
  r.parked_active = parked_.size();
  r.clients_active = clients_.size();
  r.report(sink);
}

ConnId RouteTable::pick_connection(Route& route) {
  const auto& conns = route.client->conns;
  // A client has at least one connection while it has routes.
  if (std::find(conns.begin(), conns.end(), route.conn) == conns.end()) route.conn = conns.front();
  return route.conn;
}

void RouteTable::touch(Lru::iterator it, TimePoint now) {
  it->last_used = now;
  lru_.splice(lru_.end(), lru_, it);
}

void RouteTable::erase(Lru::iterator it) {
  routes_.erase(it->key);
  lru_.erase(it);
}

}  // namespace tc::intercept

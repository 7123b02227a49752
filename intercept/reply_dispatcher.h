// The per-packet decision: parse the reply's headers, let pass-listed
// clients' replies through, and hand every other reply's headers and
// payload prefix to the route table before it is dropped. Malformed packets are counted by reason and
// dropped. No allocation, no exceptions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/counters.h"
#include "common/ip_address.h"
#include "common/tcp_packet.h"
#include "intercept/nfqueue/nfqueue_source.h"
#include "intercept/routing/reply_sink.h"
#include "intercept/routing/route_table.h"

namespace tc::intercept {

struct DispatchCounters {
  TC_COUNTER_FIELDS(TC_REPLY_DECIDER_COUNTERS)

  void report(CounterSink& sink) const;
};

class ReplyDispatcher : public PacketDecider {
 public:
  ReplyDispatcher(std::vector<IpAddress> passlist, RouteTable& routes, ReplySink& sink);

  // The time used for the packets until the next call; set once per batch
  // so the clock is not read for every packet.
  void set_now(TimePoint now) { now_ = now; }

  bool accept(std::span<const uint8_t> packet) override;
  // A reply a queue thread already parsed and found not pass-listed.
  void route(const SessionKey& key, const RoutedReply& reply) { routes_.on_reply(key, reply, now_, sink_); }

  void report(CounterSink& sink) const { counters_.report(sink); }
  uint64_t parse_errors(ParseError e) const { return counters_.parse_errors[static_cast<size_t>(e)]; }
  uint64_t passed() const { return counters_.passlisted; }

 private:
  bool pass_listed(const IpAddress& client) const;

  std::vector<IpAddress> passlist_;
  RouteTable& routes_;
  ReplySink& sink_;
  TimePoint now_{};
  TcpPacket packet_;
  DispatchCounters counters_;
};

}  // namespace tc::intercept

#include "intercept/reply_dispatcher.h"

#include <algorithm>
#include <utility>

namespace tc::intercept {

ReplyDispatcher::ReplyDispatcher(std::vector<IpAddress> passlist, RouteTable& routes, ReplySink& sink)
    : passlist_(std::move(passlist)), routes_(routes), sink_(sink) {}

bool ReplyDispatcher::accept(std::span<const uint8_t> packet) {
  const ParseError err = TcpPacket::parse(packet, packet_, Extent::kHeadersOnly);
  if (err != ParseError::kNone) {
    ++counters_.parse_errors[static_cast<size_t>(err)];
    return false;
  }
  if (pass_listed(packet_.dst)) {
    ++counters_.passlisted;
    return true;
  }
  // The reply travels target -> client; the session key is as the target sees it.
  const SessionKey key{packet_.dst, packet_.src, packet_.dport, packet_.sport};
  routes_.on_reply(key, RoutedReply::of(packet_), now_, sink_);
  return false;
}

bool ReplyDispatcher::pass_listed(const IpAddress& client) const {
  // A handful of addresses at most: a linear scan beats hashing.
  return std::find(passlist_.begin(), passlist_.end(), client) != passlist_.end();
}

void DispatchCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_REPLY_DECIDER_COUNTERS, sink); }

}  // namespace tc::intercept

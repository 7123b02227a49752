#include "copy/send/route_sender.h"

#include <linux/neighbour.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "copy/send/raw_sender.h"

namespace tc {

namespace {

constexpr size_t kNone = ~size_t{0};
constexpr std::chrono::milliseconds kSettle{1000};

// Sums what the senders report under the same name and reason: the raw
// sender and every ring count sent packets alike.
class SummingSink final : public CounterSink {
 public:
  void counter(std::string_view name, std::string_view reason, uint64_t value) override {
    for (auto& [n, r, v] : rows_)
      if (n == name && r == reason) {
        v += value;
        return;
      }
    rows_.emplace_back(std::string(name), std::string(reason), value);
  }
  void help(std::string_view name, std::string_view text) override {
    for (const auto& [n, t] : help_)
      if (n == name) return;
    help_.emplace_back(std::string(name), std::string(text));
  }
  void replay(CounterSink& sink) const {
    for (const auto& [n, t] : help_) sink.help(n, t);
    for (const auto& [n, r, v] : rows_) sink.counter(n, r, v);
  }

 private:
  std::vector<std::pair<std::string, std::string>> help_;
  std::vector<std::tuple<std::string, std::string, uint64_t>> rows_;
};

RawSenderOptions raw_options(const RouteSenderOptions& o) {
  RawSenderOptions r;
  r.targets = o.targets;
  r.slot_size = o.slot_size;
  r.batch = o.batch;
  return r;
}

size_t clamp_slot(size_t slot) { return std::clamp<size_t>(slot, 576, 65535); }

}  // namespace

const char* to_string(FallbackReason r) {
  switch (r) {
    case FallbackReason::kNoRoute: return "no_route";
    case FallbackReason::kNoEthernet: return "no_ethernet";
    case FallbackReason::kNoNeighbour: return "no_neighbour";
    case FallbackReason::kNoRing: return "no_ring";
    case FallbackReason::kStaleNeighbour: return "stale_neighbour";
    case FallbackReason::kCount: break;
  }
  return "unknown";
}

RouteSender::RouteSender(const RouteSenderOptions& options, Logger& log)
    : log_(log),
      options_(options),
      slot_size_(clamp_slot(options.slot_size)),
      raw_(std::make_unique<RawSender>(raw_options(options))),
      make_ring_([options](const FollowedLink& l) {
        LinkSenderOptions s;
        s.interface = l.name;
        s.targets = options.targets;
        s.follow = true;
        s.slot_size = options.slot_size;
        s.batch = options.batch;
        s.ring_frames = options.ring_frames;
        return std::make_unique<LinkSender>(s);
      }),
      netlink_(std::make_unique<RtnetlinkSocket>()),
      follower_(options.targets, netlink_->portid()),
      paths_(options.targets.size()),
      shown_(options.targets.size()){
  follower_.start();
  netlink_->settle(follower_, kSettle);
  apply();
}

RouteSender::RouteSender(const RouteSenderOptions& options, Logger& log, std::unique_ptr<PacketSender> raw,
                         RingFactory rings)
    : log_(log),
      options_(options),
      slot_size_(clamp_slot(options.slot_size)),
      raw_(std::move(raw)),
      make_ring_(std::move(rings)),
      follower_(options.targets),
      paths_(options.targets.size()),
      shown_(options.targets.size()) {}

int RouteSender::event_fd() const { return netlink_ ? netlink_->fd() : -1; }

void RouteSender::on_readable() {
  if (!netlink_) return;
  netlink_->exchange(follower_);
  apply();
}

RouteSender::Ring& RouteSender::ring_for(const FollowedLink& link) {
  auto it = std::find_if(rings_.begin(), rings_.end(), [&](const Ring& r) { return r.ifindex == link.ifindex; });
  if (it == rings_.end()) {
    rings_.emplace_back().ifindex = link.ifindex;
    it = rings_.end() - 1;
  }
  Ring& r = *it;
  // A renamed, resized or re-addressed interface gets a new chance.
  if (!r.sender && (r.failure.empty() || r.name != link.name)) {
    r.name = link.name;
    try {
      r.sender = make_ring_(link);
      if (before_send_) r.sender->set_before_send(before_send_);
      r.failure.clear();
    } catch (const std::exception& e) {
      r.failure = e.what();
      TC_LOG(log_, kWarn, "send: no transmit ring on %s, its targets go through raw sockets: %s", link.name.c_str(),
             e.what());
    }
  }
  if (r.sender && link.mac) r.sender->set_source_mac(*link.mac);
  return r;
}

void RouteSender::apply() {
  if (follower_.generation() == applied_) return;
  applied_ = follower_.generation();
  const std::vector<FollowedTarget>& ts = follower_.targets();
  for (size_t i = 0; i < ts.size(); ++i) {
    const FollowedTarget& t = ts[i];
    Path p;
    const FollowedLink* l = t.route_known ? follower_.link(t.ifindex) : nullptr;
    if (l == nullptr || !l->known) {
      p.why = FallbackReason::kNoRoute;
    } else if (!l->ethernet()) {
      p.why = FallbackReason::kNoEthernet;
    } else if (Ring& r = ring_for(*l); !r.sender) {
      p.why = FallbackReason::kNoRing;
    } else {
      p.ring = r.sender.get();
      p.mac = t.mac.has_value();
      p.why = FallbackReason::kNoNeighbour;
      // Frames from the ring do not tell the kernel the entry is in use: a
      // copy through it makes the kernel confirm a stale entry, without
      // the privilege NTF_USE needs once capabilities are dropped.
      p.stale = p.mac && t.neighbour_state == NUD_STALE;
      p.confirm = p.stale && (!paths_[i].stale || paths_[i].confirm);
    }
    // Only the target's own ring may send to it, and only to its MAC.
    for (Ring& r : rings_)
      if (r.sender) r.sender->set_next_hop(t.target, r.sender.get() == p.ring ? t.mac : std::nullopt);
    paths_[i] = p;
    if (std::string text = path_text(i); text != shown_[i]) {
      if (!shown_[i].empty()) TC_LOG(log_, kInfo, "send: %s", text.c_str());
      shown_[i] = std::move(text);
    }
  }
}

std::string RouteSender::path_text(size_t i) const {
  const FollowedTarget& t = follower_.targets()[i];
  const Path& p = paths_[i];
  const FollowedLink* l = t.route_known ? follower_.link(t.ifindex) : nullptr;
  const std::string dev = l ? l->name : std::string();
  std::string s = t.target.to_string() + " ";
  const std::string hop = t.gateway ? " via " + t.gateway->to_string() : std::string();
  if (p.ring && p.mac) return s + "transmit ring on " + dev + hop + " to " + t.mac->to_string();
  if (p.ring) return s + "raw sockets until the MAC of " + t.next_hop().to_string() + " on " + dev + " is known";
  switch (p.why) {
    case FallbackReason::kNoEthernet: return s + "raw sockets (" + dev + " has no Ethernet framing)";
    case FallbackReason::kNoRing: {
      const auto it = std::find_if(rings_.begin(), rings_.end(), [&](const Ring& r) { return r.ifindex == t.ifindex; });
      return s + "raw sockets (no transmit ring on " + dev + (it != rings_.end() ? ": " + it->failure : "") + ")";
    }
    default:
      return s + "raw sockets (" + (t.route_error.empty() ? "route not known yet" : "no route: " + t.route_error) + ")";
  }
}

std::string RouteSender::describe() const {
  std::string s = "route per target over rtnetlink";
  for (size_t i = 0; i < paths_.size(); ++i) s += "; " + path_text(i);
  return s;
}

const LinkSender* RouteSender::ring_of(const IpAddress& target) const {
  const std::vector<FollowedTarget>& ts = follower_.targets();
  for (size_t i = 0; i < ts.size(); ++i)
    if (ts[i].target == target) return paths_[i].mac ? paths_[i].ring : nullptr;
  return nullptr;
}

size_t RouteSender::target_index(const IpAddress& dst) const {
  const std::vector<FollowedTarget>& ts = follower_.targets();
  for (size_t i = 0; i < ts.size(); ++i)
    if (ts[i].target == dst) return i;
  return kNone;
}

std::span<uint8_t> RouteSender::acquire(const IpAddress& dst) {
  // The packet is built where it leaves: the target's ring when its next
  // hop is known and need not be confirmed, else the raw sockets (which
  // refuse and count a destination that is no target).
  const size_t i = target_index(dst);
  PacketSender* out = raw_.get();
  if (i != kNone && paths_[i].ring && paths_[i].mac && !paths_[i].confirm) out = paths_[i].ring;
  const std::span<uint8_t> slot = out->acquire(dst);
  pending_ = slot.empty() ? Pending{} : Pending{out, i};
  return slot.first(std::min(slot.size(), slot_size_));
}

void RouteSender::commit(size_t len) {
  const Pending p = std::exchange(pending_, Pending{});
  if (p.out == nullptr) return;
  if (len > 0 && p.target != kNone && p.out == raw_.get()) {
    Path& path = paths_[p.target];
    if (path.ring && path.mac) {
      path.confirm = false;
      ++fallback_[static_cast<size_t>(FallbackReason::kStaleNeighbour)];
    } else {
      ++fallback_[static_cast<size_t>(path.why)];
    }
  }
  p.out->commit(len);
}

size_t RouteSender::flush() {
  size_t sent = raw_->flush();
  for (Ring& r : rings_)
    if (r.sender) sent += r.sender->flush();
  return sent;
}

void RouteSender::set_before_send(std::function<void()> hook) {
  before_send_ = std::move(hook);
  raw_->set_before_send(before_send_);
  for (Ring& r : rings_)
    if (r.sender) r.sender->set_before_send(before_send_);
}

void RouteSender::report(CounterSink& sink) const {
  SummingSink sum;
  raw_->report(sum);
  for (const Ring& r : rings_)
    if (r.sender) r.sender->report(sum);
  // A ring reports its own counters even before its first send: the same
  // set whether or not a ring is in use.
  if (std::none_of(rings_.begin(), rings_.end(), [](const Ring& r) { return r.sender != nullptr; })) {
    sum.help("send_ring_full", kRingFullHelp);
    sum.counter("send_ring_full", "", 0);
  }
  sum.replay(sink);
  sink.help("send_fallback",
            "Copies of the default send that went through raw sockets instead of a transmit ring, by reason");
  for (size_t r = 0; r < fallback_.size(); ++r)
    sink.counter("send_fallback", to_string(static_cast<FallbackReason>(r)), fallback_[r]);
  sink.help("send_route_resyncs",
            "Times the kernel's route and neighbour notifications overflowed tcpcopy's socket and every target's "
            "route and next hop were asked again");
  sink.counter("send_route_resyncs", "", netlink_ ? netlink_->resyncs() : 0);
  sink.help("send_route_query_errors", "Route and neighbour queries the kernel's rtnetlink socket refused to take");
  sink.counter("send_route_query_errors", "", netlink_ ? netlink_->send_errors() : 0);
}

}  // namespace tc

// A hashed timing wheel over integer ids (0..capacity-1), one timer per id.
// schedule/cancel are O(1); advance() visits only the slots that time passed
// over. Ids are the owner's slot indices, so the wheel allocates nothing
// after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"

namespace tc {

class TimerWheel {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  TimerWheel(uint32_t capacity, Duration tick, uint32_t slots, TimePoint start)
      : tick_(tick.count()), slots_(slots), cursor_(start.count() / tick_), heads_(slots, kNone),
        nodes_(capacity) {}

  uint32_t capacity() const { return static_cast<uint32_t>(nodes_.size()); }
  bool scheduled(uint32_t id) const { return nodes_[id].slot != kNone; }
  TimePoint deadline(uint32_t id) const { return TimePoint(nodes_[id].deadline); }

  // (Re)arms the timer of `id`; a deadline in the past fires on the next advance.
  void schedule(uint32_t id, TimePoint when) {
    cancel(id);
    Node& n = nodes_[id];
    n.deadline = when.count();
    int64_t t = when.count() / tick_;
    // Past-due timers land in the next slot, so a handler that re-arms in
    // the past cannot keep advance() in the same slot forever.
    if (t <= cursor_) t = cursor_ + 1;
    n.slot = static_cast<uint32_t>(t % slots_);
    n.prev = kNone;
    n.next = heads_[n.slot];
    if (n.next != kNone) nodes_[n.next].prev = id;
    heads_[n.slot] = id;
  }

  void cancel(uint32_t id) {
    Node& n = nodes_[id];
    if (n.slot == kNone) return;
    if (n.prev != kNone) nodes_[n.prev].next = n.next;
    else heads_[n.slot] = n.next;
    if (n.next != kNone) nodes_[n.next].prev = n.prev;
    n.slot = n.prev = n.next = kNone;
  }

  // Fires (cancels, then calls fn(id)) every timer due at or before `now`.
  // fn may schedule or cancel any timer.
  template <typename Fn>
  void advance(TimePoint now, Fn&& fn) {
    const int64_t target = now.count() / tick_;
    // After a long gap one full turn visits every slot once.
    int64_t from = cursor_;
    if (target - from >= static_cast<int64_t>(slots_)) from = target - slots_ + 1;
    for (int64_t t = from; t <= target; ++t) {
      cursor_ = t;
      const uint32_t slot = static_cast<uint32_t>(t % slots_);
      uint32_t id = heads_[slot];
      while (id != kNone) {
        if (nodes_[id].deadline <= now.count()) {
          cancel(id);
          fn(id);
          id = heads_[slot];  // fn may have changed this slot's list
        } else {
          id = nodes_[id].next;
        }
      }
    }
    if (target > cursor_) cursor_ = target;
  }

  // The earliest deadline among armed timers is not tracked (it would cost
  // a scan); callers wake every tick while timers are armed instead.
  Duration tick() const { return Duration(tick_); }

 private:
  struct Node {
    int64_t deadline = 0;
    uint32_t slot = kNone;
    uint32_t prev = kNone;
    uint32_t next = kNone;
  };
  int64_t tick_;
  uint32_t slots_;
  int64_t cursor_;
  std::vector<uint32_t> heads_;
  std::vector<Node> nodes_;
};

}  // namespace tc

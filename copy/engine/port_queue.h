// Copies queued for a client port (the client reused it online while the
// earlier copy on it still ran). The copy that holds the port heads a chain
// of the copies waiting for it, in arrival order; when the holder goes, the
// first waiter takes the port and the rest wait behind it. Chains are
// threaded through the sessions' slots (ListLink), so nothing is allocated.
#pragma once

#include <cstdint>

#include "common/intrusive_list.h"

namespace tc {

template <typename LinksOf>
class PortQueue {
 public:
  static constexpr uint32_t kNil = ListLink::kNil;
  static constexpr uint32_t kMaxQueued = 16;  // a longer queue moves the new copy instead

  explicit PortQueue(LinksOf links) : links_(links) {}

  // The last copy of the queue headed by `holder`; kNil when it is full.
  uint32_t tail(uint32_t holder) const {
    uint32_t tail = holder;
    for (uint32_t n = 0; links_(tail).next != kNil; ++n) {
      if (n + 1 >= kMaxQueued) return kNil;
      tail = links_(tail).next;
    }
    return tail;
  }
  // `slot` waits behind `tail` (from tail()).
  void join(uint32_t tail, uint32_t slot) { chain_link_after(links_, tail, slot); }
  bool waiting(uint32_t slot) const { return links_(slot).prev != kNil; }
  bool has_waiters(uint32_t slot) const { return links_(slot).next != kNil; }
  // `slot` leaves its queue: a waiter just goes, the ones behind it move
  // up; a holder hands the port on. Returns the copy that now holds the
  // port (kNil when none, or when `slot` was a waiter).
  uint32_t leave(uint32_t slot) {
    const uint32_t heir = waiting(slot) ? kNil : links_(slot).next;
    chain_unlink(links_, slot);
    return heir;
  }

 private:
  LinksOf links_;
};

}  // namespace tc

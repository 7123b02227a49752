// Reply headers that arrived before their session was registered. tcpcopy
// registers a session over TCP while its SYN goes out by raw socket, so the
// SYN-ACK can win the race; it waits here briefly instead of being lost.
//
// Fixed capacity, allocated up front. Slots are kept in arrival order (for
// TTL expiry and eviction of the oldest) and chained per key (so a
// registration finds its headers without a scan). Every operation is O(1)
// per header touched.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/session_key.h"
#include "common/wire.h"
#include "intercept/routing/reply_sink.h"

namespace tc::intercept {

class ParkedReplies {
 public:
  ParkedReplies(size_t capacity, Duration ttl);

  // Copies `reply` in. When full, the oldest parked reply makes room and is
  // counted as overflow. False (nothing stored) when the reply is larger
  // than a slot or the capacity is 0.
  bool park(const SessionKey& key, const RoutedReply& reply, TimePoint now);

  // Calls fn(const RoutedReply&) for every reply parked under `key`,
  // oldest first, and forgets them. Returns how many there were.
  template <typename Fn>
  size_t release(const SessionKey& key, Fn&& fn);

  // Forgets headers parked longer than the TTL (counted as expired).
  void expire(TimePoint now);

  size_t size() const { return live_; }
  uint64_t expired() const { return expired_; }
  uint64_t overflow() const { return overflow_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Slot {
    SessionKey key;
    TimePoint parked_at{};
    uint32_t older = kNone;     // arrival order, doubly linked
    uint32_t newer = kNone;
    uint32_t next_same_key = kNone;
    uint16_t length = 0;
    uint16_t header_len = 0;
    std::array<uint8_t, wire::kMaxReplyEntry> bytes{};
  };
  struct Chain {
    uint32_t first = kNone;
    uint32_t last = kNone;
  };

  // Removes the oldest slot, which is also the first of its key's chain.
  void drop_oldest();
  void unlink_age(uint32_t index);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<SessionKey, Chain, SessionKeyHash> chains_;
  uint32_t oldest_ = kNone;
  uint32_t newest_ = kNone;
  size_t live_ = 0;
  Duration ttl_;
  uint64_t expired_ = 0;
  uint64_t overflow_ = 0;
};

template <typename Fn>
size_t ParkedReplies::release(const SessionKey& key, Fn&& fn) {
  if (live_ == 0) return 0;
  auto it = chains_.find(key);
  if (it == chains_.end()) return 0;
  size_t n = 0;
  for (uint32_t i = it->second.first; i != kNone;) {
    Slot& s = slots_[i];
    fn(RoutedReply{std::span<const uint8_t>(s.bytes.data(), s.length), s.header_len});
    const uint32_t next = s.next_same_key;
    unlink_age(i);
    free_.push_back(i);
    --live_;
    ++n;
    i = next;
  }
  chains_.erase(it);
  return n;
}

}  // namespace tc::intercept

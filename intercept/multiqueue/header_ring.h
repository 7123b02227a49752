// A single-producer, single-consumer ring of replies: a queue thread puts
// the headers and payload prefix of the replies it dropped, with the
// session key it parsed from them, and the main thread takes them and
// routes them by that key. Fixed slots, allocated once; a full ring refuses
// (the caller counts the reply as shed).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "common/session_key.h"
#include "common/wire.h"
#include "intercept/routing/reply_sink.h"

namespace tc::intercept {

class HeaderRing {
 public:
  // What NFQUEUE copies of each reply (kCopyRange): headers and the
  // longest payload prefix a tcpcopy may ask for.
  static constexpr size_t kMaxBytes = wire::kMaxReplyEntry;

  // `slots` is rounded up to a power of two.
  explicit HeaderRing(size_t slots) : mask_(round_up(slots) - 1), slots_(std::make_unique<Slot[]>(mask_ + 1)) {}

  // Producer. False when the ring is full or the reply too long.
  bool push(const SessionKey& key, const RoutedReply& reply) {
    if (reply.bytes.size() > kMaxBytes || reply.header_len > reply.bytes.size()) return false;
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    Slot& s = slots_[tail & mask_];
    s.key = key;
    s.len = static_cast<uint16_t>(reply.bytes.size());
    s.header_len = static_cast<uint16_t>(reply.header_len);
    std::memcpy(s.data.data(), reply.bytes.data(), reply.bytes.size());
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer: calls fn(key, const RoutedReply&) for every reply waiting,
  // at most `limit`.
  // Returns how many.
  template <typename Fn>
  size_t drain(Fn&& fn, size_t limit = SIZE_MAX) {
    size_t head = head_.load(std::memory_order_relaxed);
    const size_t tail = tail_.load(std::memory_order_acquire);
    size_t n = 0;
    while (head != tail && n < limit) {
      const Slot& s = slots_[head & mask_];
      fn(s.key, RoutedReply{std::span<const uint8_t>(s.data.data(), s.len), s.header_len});
      ++head;
      ++n;
      head_.store(head, std::memory_order_release);
    }
    return n;
  }

  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    SessionKey key;
    uint16_t len = 0;
    uint16_t header_len = 0;
    std::array<uint8_t, kMaxBytes> data{};
  };
  static size_t round_up(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};  // next to take (consumer)
  alignas(64) std::atomic<size_t> tail_{0};  // next to fill (producer)
  size_t head_cache_ = 0;                    // producer's last view of head_
};

}  // namespace tc::intercept

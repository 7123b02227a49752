// A single-producer, single-consumer ring of reply headers: a queue thread
// puts the headers of the replies it dropped, with the session key it parsed
// from them, and the main thread takes them and routes them by that key. Fixed slots, allocated once; a full ring refuses (the caller
// counts the header as shed).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "common/session_key.h"

namespace tc::intercept {

class HeaderRing {
 public:
  // NFQUEUE copies 128 bytes of each reply: IP and TCP headers fit.
  static constexpr size_t kMaxHeader = 128;

  // `slots` is rounded up to a power of two.
  explicit HeaderRing(size_t slots) : mask_(round_up(slots) - 1), slots_(std::make_unique<Slot[]>(mask_ + 1)) {}

  // Producer. False when the ring is full or the header too long.
  bool push(const SessionKey& key, std::span<const uint8_t> header) {
    if (header.size() > kMaxHeader) return false;
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    Slot& s = slots_[tail & mask_];
    s.key = key;
    s.len = static_cast<uint16_t>(header.size());
    std::memcpy(s.data.data(), header.data(), header.size());
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer: calls fn(key, header) for every header waiting, at most
  // `limit`.
  // Returns how many.
  template <typename Fn>
  size_t drain(Fn&& fn, size_t limit = SIZE_MAX) {
    size_t head = head_.load(std::memory_order_relaxed);
    const size_t tail = tail_.load(std::memory_order_acquire);
    size_t n = 0;
    while (head != tail && n < limit) {
      const Slot& s = slots_[head & mask_];
      fn(s.key, std::span<const uint8_t>(s.data.data(), s.len));
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
    std::array<uint8_t, kMaxHeader> data{};
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

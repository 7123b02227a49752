// Fixed-size buffers for captured client payload, kept until the target
// acknowledges it (retransmission needs the bytes). Buffers are recycled
// through a free list and grown in blocks up to a byte cap, so the steady
// state allocates nothing and memory is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tc {

struct Segment {
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr size_t kCapacity = 2048 - 20;
  static constexpr uint8_t kRequestStart = 1;  // first bytes of a request
  static constexpr uint8_t kHold = 2;          // sent only once the target has answered
  static constexpr uint8_t kBeyondEnd = 4;     // past a gap in the captured data

  uint32_t seq = 0;
  uint32_t expect = 0;  // kHold: the online server's total output before this request
  uint32_t next = kNil;
  uint16_t len = 0;
  uint8_t flags = 0;
  uint8_t data[kCapacity];
};

class SegmentPool {
 public:
  explicit SegmentPool(size_t max_bytes)
      : max_segments_(max_bytes / sizeof(Segment) > 0 ? max_bytes / sizeof(Segment) : 1) {}

  // Returns a segment id, or Segment::kNil when the cap is reached.
  uint32_t alloc() {
    if (free_head_ != Segment::kNil) {
      const uint32_t id = free_head_;
      free_head_ = at(id).next;
      at(id).next = Segment::kNil;
      ++in_use_;
      return id;
    }
    if (allocated_ >= max_segments_) return Segment::kNil;
    if (allocated_ % kBlock == 0) blocks_.push_back(std::make_unique<Segment[]>(kBlock));
    const uint32_t id = static_cast<uint32_t>(allocated_++);
    at(id).next = Segment::kNil;
    ++in_use_;
    return id;
  }
  void release(uint32_t id) {
    at(id).next = free_head_;
    free_head_ = id;
    --in_use_;
  }
  Segment& at(uint32_t id) { return blocks_[id / kBlock][id % kBlock]; }
  const Segment& at(uint32_t id) const { return blocks_[id / kBlock][id % kBlock]; }

  size_t in_use() const { return in_use_; }
  size_t bytes_reserved() const { return allocated_ * sizeof(Segment); }
  size_t max_segments() const { return max_segments_; }

 private:
  static constexpr size_t kBlock = 512;
  size_t max_segments_;
  size_t allocated_ = 0;
  size_t in_use_ = 0;
  uint32_t free_head_ = Segment::kNil;
  std::vector<std::unique_ptr<Segment[]>> blocks_;
};

}  // namespace tc

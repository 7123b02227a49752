// Fixed-size buffers for captured client payload, kept until the target
// acknowledges it (retransmission needs the bytes). Buffers are recycled
// through a free list and grown in blocks up to a byte cap, so the steady
// state allocates nothing and memory is bounded. A segment's bookkeeping
// (sequence, length, flags, list link) lives apart from its bytes, packed
// together: walking a session's list touches a few cache lines instead of
// one buffer per segment.
//
// A segment costs 512 bytes: most requests of request/response protocols
// (an HTTP GET, a Redis command) fit in one, and a full-sized packet takes
// three, using 1,536 bytes for its 1,448. With 2 KiB buffers a 100-byte
// request cost 2 KiB: a copy trailing production by 250,000 requests
// filled the default 512 MiB cap, four times sooner than now.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tc {

struct Segment {
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr size_t kCapacity = 512 - 16;  // payload bytes; 16: sizeof(Segment)
  static constexpr uint8_t kRequestStart = 1;  // first bytes of a request
  static constexpr uint8_t kHold = 2;          // sent only once the target has answered
  static constexpr uint8_t kBeyondEnd = 4;     // past a gap in the captured data

  uint32_t seq = 0;
  uint32_t expect = 0;  // kHold: the online server's total output before this request
  uint32_t next = kNil;
  uint16_t len = 0;
  uint8_t flags = 0;
};
static_assert(sizeof(Segment) == 16, "a segment's bookkeeping and bytes make 512");

class SegmentPool {
 public:
  // What one segment costs, bookkeeping and bytes: the unit of the cap.
  static constexpr size_t kFootprint = sizeof(Segment) + Segment::kCapacity;

  explicit SegmentPool(size_t max_bytes)
      : max_segments_(max_bytes / kFootprint > 0 ? max_bytes / kFootprint : 1) {}

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
    if (allocated_ % kBlock == 0) {
      segments_.push_back(std::make_unique<Segment[]>(kBlock));
      bytes_.push_back(std::make_unique_for_overwrite<uint8_t[]>(kBlock * Segment::kCapacity));
    }
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
  Segment& at(uint32_t id) { return segments_[id / kBlock][id % kBlock]; }
  const Segment& at(uint32_t id) const { return segments_[id / kBlock][id % kBlock]; }
  // The segment's payload buffer, Segment::kCapacity bytes.
  uint8_t* data(uint32_t id) { return bytes_[id / kBlock].get() + (id % kBlock) * Segment::kCapacity; }
  const uint8_t* data(uint32_t id) const { return bytes_[id / kBlock].get() + (id % kBlock) * Segment::kCapacity; }

  size_t in_use() const { return in_use_; }
  size_t bytes_reserved() const { return allocated_ * kFootprint; }
  size_t max_segments() const { return max_segments_; }

 private:
  static constexpr size_t kBlock = 512;
  size_t max_segments_;
  size_t allocated_ = 0;
  size_t in_use_ = 0;
  uint32_t free_head_ = Segment::kNil;
  std::vector<std::unique_ptr<Segment[]>> segments_;
  std::vector<std::unique_ptr<uint8_t[]>> bytes_;
};

}  // namespace tc

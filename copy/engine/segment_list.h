// A session's captured client payload, as segments of the SegmentPool in
// sequence order, kept until the target acknowledges it. Captured packets
// may come out of order or overlap: only bytes not yet buffered are kept,
// and `data_end` marks the end of the bytes contiguous from the start.
// The list lives in the session; its segments in the engine's pool.
#pragma once

#include <cstdint>
#include <span>

#include "common/tcp_packet.h"
#include "copy/engine/segment_pool.h"

namespace tc {

struct SegmentList {
  uint32_t head = Segment::kNil;
  uint32_t tail = Segment::kNil;
  uint32_t data_end = 0;          // end of the contiguous captured data
  uint16_t reorder_segments = 0;  // buffered segments past a gap (kBeyondEnd)

  bool empty() const { return head == Segment::kNil; }

  // Inserts [seq, seq + payload.size()), keeping only bytes not already
  // buffered (`flags` and `expect` go to the first new segment if it
  // starts at `seq`), then extends data_end over what became contiguous.
  // False when the pool ran out.
  bool insert(SegmentPool& pool, uint32_t seq, std::span<const uint8_t> payload, uint8_t flags, uint32_t expect);
  // The segment holding `seq`; kNil when none does. `from`: a segment at
  // or before `seq` to search from (the head when kNil).
  uint32_t find(const SegmentPool& pool, uint32_t seq, uint32_t from = Segment::kNil) const;
  // End of the contiguous bytes from `g` up to (not into) the next request:
  // a packet never carries the start of a request that must be held or
  // counted. The walk stops once `limit` bytes past `from` are found.
  uint32_t run_end(const SegmentPool& pool, const Segment& g, uint32_t from, uint32_t limit) const;
  // The bytes [seq, seq + len): in place when one segment holds them, else
  // gathered into `scratch`. Empty when they are not all buffered or do
  // not fit. `hint` as find()'s `from`.
  std::span<const uint8_t> bytes(const SegmentPool& pool, uint32_t seq, uint32_t len, uint32_t hint,
                                 std::span<uint8_t> scratch) const;
  // Frees the segments wholly before `una`; returns how many of them
  // started a request.
  uint32_t release_before(SegmentPool& pool, uint32_t una);
  // Requests whose first segment is still buffered.
  uint32_t requests(const SegmentPool& pool) const;
  void clear(SegmentPool& pool);

 private:
  // Puts segment `id` between `prev` (kNil: at the head) and `next`.
  void link_between(SegmentPool& pool, uint32_t prev, uint32_t id, uint32_t next);
  // Moves data_end over the contiguous segments from `from` on.
  void extend_end(SegmentPool& pool, uint32_t from);
};

}  // namespace tc

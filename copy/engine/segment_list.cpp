#include "copy/engine/segment_list.h"

#include <algorithm>
#include <cstring>

namespace tc {

bool SegmentList::insert(SegmentPool& pool, uint32_t seq, std::span<const uint8_t> payload, uint8_t flags,
                         uint32_t expect) {
  uint32_t end = seq + static_cast<uint32_t>(payload.size());
  uint32_t cur = seq;
  if (seq_lt(cur, data_end)) {
    cur = data_end;  // the front was seen before: keep only the new tail
    flags = 0;
  }
  // Fast path: in-order data appended at the tail.
  const bool in_order =
      cur == data_end && (tail == Segment::kNil || pool.at(tail).seq + pool.at(tail).len == data_end);
  uint32_t prev = in_order ? tail : Segment::kNil;
  uint32_t it = in_order ? Segment::kNil : head;
  uint32_t first_new = Segment::kNil;
  while (seq_lt(cur, end)) {
    // Skip segments that end at or before cur; stop at one covering cur.
    while (it != Segment::kNil && seq_le(pool.at(it).seq + pool.at(it).len, cur)) {
      prev = it;
      it = pool.at(it).next;
    }
    if (it != Segment::kNil && seq_le(pool.at(it).seq, cur)) {
      cur = pool.at(it).seq + pool.at(it).len;
      continue;
    }
    uint32_t gap_end = end;
    if (it != Segment::kNil && seq_lt(pool.at(it).seq, gap_end)) gap_end = pool.at(it).seq;
    while (seq_lt(cur, gap_end)) {
      const uint32_t n = std::min<uint32_t>(gap_end - cur, Segment::kCapacity);
      const uint32_t id = pool.alloc();
      if (id == Segment::kNil) return false;
      Segment& g = pool.at(id);
      g.seq = cur;
      g.len = static_cast<uint16_t>(n);
      g.flags = cur == seq ? flags : 0;
      if (seq_gt(cur, data_end)) {
        g.flags |= Segment::kBeyondEnd;
        ++reorder_segments;
      }
      g.expect = expect;
      std::memcpy(pool.data(id), payload.data() + (cur - seq), n);
      link_between(pool, prev, id, it);
      if (first_new == Segment::kNil) first_new = id;
      prev = id;
      cur += n;
    }
  }
  extend_end(pool, in_order ? first_new : head);
  return true;
}

void SegmentList::link_between(SegmentPool& pool, uint32_t prev, uint32_t id, uint32_t next) {
  pool.at(id).next = next;
  if (prev == Segment::kNil) head = id;
  else pool.at(prev).next = id;
  if (next == Segment::kNil) tail = id;
}

void SegmentList::extend_end(SegmentPool& pool, uint32_t from) {
  for (uint32_t id = from; id != Segment::kNil; id = pool.at(id).next) {
    Segment& g = pool.at(id);
    if (seq_gt(g.seq, data_end)) break;
    if (g.flags & Segment::kBeyondEnd) {
      g.flags &= static_cast<uint8_t>(~Segment::kBeyondEnd);
      --reorder_segments;
    }
    if (seq_gt(g.seq + g.len, data_end)) data_end = g.seq + g.len;
  }
}

uint32_t SegmentList::find(const SegmentPool& pool, uint32_t seq, uint32_t from) const {
  if (from == Segment::kNil || seq_lt(seq, pool.at(from).seq)) from = head;
  for (uint32_t id = from; id != Segment::kNil; id = pool.at(id).next) {
    const Segment& g = pool.at(id);
    if (seq_lt(seq, g.seq)) return Segment::kNil;
    if (seq_lt(seq, g.seq + g.len)) return id;
  }
  return Segment::kNil;
}

uint32_t SegmentList::run_end(const SegmentPool& pool, const Segment& g, uint32_t from, uint32_t limit) const {
  uint32_t end = g.seq + g.len;
  for (uint32_t id = g.next; id != Segment::kNil && seq_lt(end, data_end); id = pool.at(id).next) {
    if (end - from >= limit) break;  // enough for one packet
    const Segment& h = pool.at(id);
    if (h.seq != end || (h.flags & (Segment::kHold | Segment::kRequestStart))) break;
    end += h.len;
  }
  return seq_lt(data_end, end) ? data_end : end;
}

std::span<const uint8_t> SegmentList::bytes(const SegmentPool& pool, uint32_t seq, uint32_t len, uint32_t hint,
                                            std::span<uint8_t> scratch) const {
  uint32_t id = find(pool, seq, hint);
  if (id == Segment::kNil || len > scratch.size()) return {};
  const Segment& first = pool.at(id);
  if (seq_le(seq + len, first.seq + first.len)) return {pool.data(id) + (seq - first.seq), len};
  uint32_t at = seq, done = 0;
  while (done < len) {
    if (id == Segment::kNil) return {};
    const Segment& g = pool.at(id);
    if (seq_lt(at, g.seq) || !seq_lt(at, g.seq + g.len)) return {};
    const uint32_t take = std::min<uint32_t>(len - done, g.seq + g.len - at);
    std::memcpy(scratch.data() + done, pool.data(id) + (at - g.seq), take);
    done += take;
    at += take;
    id = g.next;
  }
  return scratch.first(len);
}

uint32_t SegmentList::release_before(SegmentPool& pool, uint32_t una) {
  uint32_t requests = 0;
  while (head != Segment::kNil) {
    const Segment& g = pool.at(head);
    if (!seq_le(g.seq + g.len, una)) break;
    if (g.flags & Segment::kRequestStart) ++requests;
    const uint32_t next = g.next;
    pool.release(head);
    head = next;
  }
  if (head == Segment::kNil) tail = Segment::kNil;
  return requests;
}

uint32_t SegmentList::requests(const SegmentPool& pool) const {
  uint32_t n = 0;
  for (uint32_t id = head; id != Segment::kNil; id = pool.at(id).next)
    if (pool.at(id).flags & Segment::kRequestStart) ++n;
  return n;
}

void SegmentList::clear(SegmentPool& pool) {
  while (head != Segment::kNil) {
    const uint32_t next = pool.at(head).next;
    pool.release(head);
    head = next;
  }
  tail = Segment::kNil;
  reorder_segments = 0;
}

}  // namespace tc

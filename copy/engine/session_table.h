// Sessions stored in a slot array and found by either of two keys through
// one open-addressing index (linear probing, backward-shift deletion):
//   - the wire key: the connection as the target sees it (reply lookup);
//   - the origin key: the connection as captured online (capture lookup).
// They differ when the copy was moved to another client port (the port was
// reused online while the old copy still ran). A session waiting for its
// client port (an earlier copy still holds it) has no wire key placed yet.
// Lookup, insert and erase are O(1) and allocate nothing: both arrays are
// sized from the cap.
#pragma once

#include <cstdint>
#include <vector>

#include "common/session_key.h"

namespace tc {

// Entry has `SessionKey key` (wire), `SessionKey origin`, `uint16_t copy`
// (-n: several copies share one origin), `bool in_use`, `bool has_origin`,
// `bool has_wire`.
template <typename Entry>
class SessionTable {
 public:
  static constexpr uint32_t kNil = UINT32_MAX;

  explicit SessionTable(uint32_t capacity) : capacity_(capacity) {
    size_t n = 16;
    while (n < size_t{capacity} * 4) n <<= 1;  // two keys per entry, load <= 1/2
    index_.assign(n, kNil);
    mask_ = n - 1;
    slots_.reserve(capacity);
    free_next_.reserve(capacity);
  }

  uint32_t capacity() const { return capacity_; }
  uint32_t size() const { return size_; }
  bool full() const { return size_ >= capacity_; }
  Entry& at(uint32_t slot) { return slots_[slot]; }
  const Entry& at(uint32_t slot) const { return slots_[slot]; }
  // Slots ever used (in use or free); iterate with at(i).in_use.
  uint32_t slot_count() const { return static_cast<uint32_t>(slots_.size()); }

  uint32_t find(const SessionKey& wire) const {
    for (size_t i = home(wire);; i = (i + 1) & mask_) {
      const uint32_t e = index_[i];
      if (e == kNil) return kNil;
      if ((e & 1) == kWire && slots_[e >> 1].key == wire) return e >> 1;
    }
  }
  uint32_t find_origin(const SessionKey& origin, uint16_t copy) const {
    for (size_t i = origin_home(origin, copy);; i = (i + 1) & mask_) {
      const uint32_t e = index_[i];
      if (e == kNil) return kNil;
      if ((e & 1) == kOrigin && slots_[e >> 1].copy == copy && slots_[e >> 1].origin == origin) return e >> 1;
    }
  }

  // Inserts an entry (the origin key, and the wire key when placed, must be
  // absent); kNil when full. `place_wire` false: the wire key is kept but
  // not findable until place_wire(slot).
  uint32_t insert(const SessionKey& wire, const SessionKey& origin, uint16_t copy, bool place_wire = true) {
    if (full()) return kNil;
    uint32_t slot;
    if (free_head_ != kNil) {
      slot = free_head_;
      free_head_ = free_next_[slot];
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
      free_next_.push_back(kNil);
    }
    slots_[slot] = Entry{};
    slots_[slot].key = wire;
    slots_[slot].origin = origin;
    slots_[slot].copy = copy;
    slots_[slot].in_use = true;
    slots_[slot].has_origin = true;
    slots_[slot].has_wire = place_wire;
    if (place_wire) place(slot, kWire);
    place(slot, kOrigin);
    ++size_;
    return slot;
  }

  // The origin key now belongs to another session; this one keeps running
  // under its wire key only.
  void drop_origin(uint32_t slot) {
    if (!slots_[slot].has_origin) return;
    unplace(slot, kOrigin);
    slots_[slot].has_origin = false;
  }

  // Makes the wire key of an entry inserted without it findable (it must be
  // absent).
  void place_wire(uint32_t slot) {
    if (slots_[slot].has_wire) return;
    place(slot, kWire);
    slots_[slot].has_wire = true;
  }

  // The session moves to another wire key (a free client port).
  void rekey(uint32_t slot, const SessionKey& wire) {
    if (slots_[slot].has_wire) unplace(slot, kWire);
    slots_[slot].key = wire;
    place(slot, kWire);
    slots_[slot].has_wire = true;
  }

  void erase(uint32_t slot) {
    drop_origin(slot);
    if (slots_[slot].has_wire) unplace(slot, kWire);
    slots_[slot].has_wire = false;
    slots_[slot].in_use = false;
    free_next_[slot] = free_head_;
    free_head_ = slot;
    --size_;
  }

 private:
  static constexpr uint32_t kWire = 0;
  static constexpr uint32_t kOrigin = 1;

  size_t home(const SessionKey& k) const { return hash_(k) & mask_; }
  size_t origin_home(const SessionKey& k, uint16_t copy) const {
    return (hash_(k) * 0x9e3779b97f4a7c15ull + copy + 1) & mask_;
  }
  size_t home_of(uint32_t entry) const {
    const Entry& e = slots_[entry >> 1];
    return (entry & 1) == kWire ? home(e.key) : origin_home(e.origin, e.copy);
  }
  void place(uint32_t slot, uint32_t kind) {
    size_t i = home_of(slot << 1 | kind);
    while (index_[i] != kNil) i = (i + 1) & mask_;
    index_[i] = slot << 1 | kind;
  }
  void unplace(uint32_t slot, uint32_t kind) {
    const uint32_t entry = slot << 1 | kind;
    size_t i = home_of(entry);
    while (index_[i] != entry) i = (i + 1) & mask_;
    // Backward shift: pull later entries of the probe run into the hole.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask_; index_[j] != kNil; j = (j + 1) & mask_) {
      const size_t h = home_of(index_[j]);
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = kNil;
  }

  SessionKeyHash hash_;
  uint32_t capacity_;
  uint32_t size_ = 0;
  size_t mask_ = 0;
  uint32_t free_head_ = kNil;
  std::vector<uint32_t> index_;
  std::vector<Entry> slots_;
  std::vector<uint32_t> free_next_;
};

}  // namespace tc

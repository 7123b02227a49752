// Doubly linked lists threaded through the slots of an array: each slot
// carries a ListLink, and a list names slots by index. Nothing is
// allocated; linking, unlinking and moving a slot are O(1).
//
// `LinksOf` is a callable taking a slot index and returning that slot's
// ListLink&. A chain is a list whose ends are not kept (its members are
// found from any one of them); an IntrusiveList keeps its ends.
#pragma once

#include <cstdint>

namespace tc {

struct ListLink {
  static constexpr uint32_t kNil = UINT32_MAX;
  uint32_t prev = kNil;
  uint32_t next = kNil;
};

// Puts `slot` (unlinked) right after `at` in a chain.
template <typename LinksOf>
void chain_link_after(LinksOf&& links, uint32_t at, uint32_t slot) {
  ListLink& l = links(slot);
  l.prev = at;
  l.next = links(at).next;
  if (l.next != ListLink::kNil) links(l.next).prev = slot;
  links(at).next = slot;
}

// Takes `slot` out of its chain; its neighbours close up.
template <typename LinksOf>
void chain_unlink(LinksOf&& links, uint32_t slot) {
  ListLink& l = links(slot);
  if (l.prev != ListLink::kNil) links(l.prev).next = l.next;
  if (l.next != ListLink::kNil) links(l.next).prev = l.prev;
  l.prev = l.next = ListLink::kNil;
}

template <typename LinksOf>
class IntrusiveList {
 public:
  static constexpr uint32_t kNil = ListLink::kNil;

  explicit IntrusiveList(LinksOf links) : links_(links) {}

  uint32_t front() const { return head_; }
  uint32_t back() const { return tail_; }
  bool empty() const { return head_ == kNil; }
  uint32_t next(uint32_t slot) const { return links_(slot).next; }
  bool contains(uint32_t slot) const { return links_(slot).prev != kNil || head_ == slot; }

  void push_back(uint32_t slot) {
    if (tail_ == kNil) {
      head_ = tail_ = slot;
      return;
    }
    chain_link_after(links_, tail_, slot);
    tail_ = slot;
  }
  // Unlinks `slot` if it is in the list.
  void remove(uint32_t slot) {
    if (!contains(slot)) return;
    if (head_ == slot) head_ = links_(slot).next;
    if (tail_ == slot) tail_ = links_(slot).prev;
    chain_unlink(links_, slot);
  }
  // Makes `slot` the last (linking it if it was not in the list).
  void move_to_back(uint32_t slot) {
    if (tail_ == slot) return;
    remove(slot);
    push_back(slot);
  }

 private:
  LinksOf links_;
  uint32_t head_ = kNil;
  uint32_t tail_ = kNil;
};

}  // namespace tc

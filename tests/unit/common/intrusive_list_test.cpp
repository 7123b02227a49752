#include "common/intrusive_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace tc {
namespace {

struct Links {
  std::vector<ListLink>* v;
  ListLink& operator()(uint32_t i) const { return (*v)[i]; }
};

std::vector<uint32_t> order(const IntrusiveList<Links>& l) {
  std::vector<uint32_t> out;
  for (uint32_t i = l.front(); i != ListLink::kNil; i = l.next(i)) out.push_back(i);
  return out;
}

TEST(IntrusiveList, PushMoveAndRemoveKeepTheOrder) {
  std::vector<ListLink> links(5);
  IntrusiveList<Links> l{Links{&links}};
  EXPECT_TRUE(l.empty());
  for (uint32_t i : {3u, 1u, 4u}) l.push_back(i);
  EXPECT_EQ(order(l), (std::vector<uint32_t>{3, 1, 4}));
  l.move_to_back(3);
  EXPECT_EQ(order(l), (std::vector<uint32_t>{1, 4, 3}));
  l.move_to_back(3);  // already last
  EXPECT_EQ(order(l), (std::vector<uint32_t>{1, 4, 3}));
  l.move_to_back(0);  // not linked yet: appended
  EXPECT_EQ(order(l), (std::vector<uint32_t>{1, 4, 3, 0}));
  l.remove(4);
  EXPECT_EQ(order(l), (std::vector<uint32_t>{1, 3, 0}));
  EXPECT_FALSE(l.contains(4));
  l.remove(4);  // not linked: nothing happens
  l.remove(1);
  l.remove(0);
  EXPECT_EQ(l.front(), 3u);
  EXPECT_EQ(l.back(), 3u);
  l.remove(3);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.back(), ListLink::kNil);
}

TEST(IntrusiveList, ChainMembersSpliceThemselvesOut) {
  std::vector<ListLink> links(4);
  Links of{&links};
  chain_link_after(of, 0, 1);
  chain_link_after(of, 1, 3);
  chain_link_after(of, 1, 2);  // 0 1 2 3
  EXPECT_EQ(links[0].next, 1u);
  EXPECT_EQ(links[1].next, 2u);
  EXPECT_EQ(links[2].next, 3u);
  EXPECT_EQ(links[3].prev, 2u);
  chain_unlink(of, 2);
  EXPECT_EQ(links[1].next, 3u);
  EXPECT_EQ(links[3].prev, 1u);
  EXPECT_EQ(links[2].prev, ListLink::kNil);
  EXPECT_EQ(links[2].next, ListLink::kNil);
  chain_unlink(of, 0);  // the first one
  EXPECT_EQ(links[1].prev, ListLink::kNil);
}

}  // namespace
}  // namespace tc

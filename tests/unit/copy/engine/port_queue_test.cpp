#include "copy/engine/port_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace tc {
namespace {

struct Links {
  std::vector<ListLink>* v;
  ListLink& operator()(uint32_t i) const { return (*v)[i]; }
};

TEST(PortQueue, WaitersQueueInOrderAndTheFirstInheritsThePort) {
  std::vector<ListLink> links(4);
  PortQueue<Links> q{Links{&links}};
  EXPECT_EQ(q.tail(0), 0u);  // the holder alone
  q.join(q.tail(0), 1);
  q.join(q.tail(0), 2);
  EXPECT_EQ(q.tail(0), 2u);
  EXPECT_TRUE(q.waiting(1));
  EXPECT_FALSE(q.waiting(0));
  EXPECT_TRUE(q.has_waiters(0));
  EXPECT_EQ(q.leave(0), 1u);  // the holder goes: 1 holds, 2 waits behind it
  EXPECT_FALSE(q.waiting(1));
  EXPECT_EQ(q.tail(1), 2u);
}

TEST(PortQueue, AWaiterThatLeavesHandsNothingOn) {
  std::vector<ListLink> links(4);
  PortQueue<Links> q{Links{&links}};
  q.join(0, 1);
  q.join(1, 2);
  EXPECT_EQ(q.leave(1), ListLink::kNil);
  EXPECT_EQ(links[0].next, 2u);  // 2 moved up
  EXPECT_EQ(q.tail(0), 2u);
}

TEST(PortQueue, AFullQueueHasNoTail) {
  constexpr uint32_t kMax = PortQueue<Links>::kMaxQueued;
  std::vector<ListLink> links(kMax + 2);
  PortQueue<Links> q{Links{&links}};
  for (uint32_t i = 1; i < kMax; ++i) q.join(q.tail(0), i);
  EXPECT_EQ(q.tail(0), kMax - 1);  // one place left
  q.join(q.tail(0), kMax);
  EXPECT_EQ(q.tail(0), ListLink::kNil);
}

}  // namespace
}  // namespace tc

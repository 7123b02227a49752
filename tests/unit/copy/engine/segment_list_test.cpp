#include "copy/engine/segment_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tc {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class SegmentListTest : public ::testing::Test {
 protected:
  std::string read(uint32_t seq, uint32_t len) {
    auto b = list.bytes(pool, seq, len, Segment::kNil, scratch);
    return std::string(b.begin(), b.end());
  }
  SegmentPool pool{1 << 20};
  SegmentList list{.data_end = 100};
  std::vector<uint8_t> scratch = std::vector<uint8_t>(4096);
};

TEST_F(SegmentListTest, InOrderDataExtendsTheEnd) {
  ASSERT_TRUE(list.insert(pool, 100, bytes_of("hello"), Segment::kRequestStart, 0));
  ASSERT_TRUE(list.insert(pool, 105, bytes_of(" world"), 0, 0));
  EXPECT_EQ(list.data_end, 111u);
  EXPECT_EQ(read(100, 11), "hello world");  // gathered across two segments
  EXPECT_EQ(read(102, 3), "llo");           // in place
  EXPECT_EQ(pool.at(list.head).flags, Segment::kRequestStart);
}

TEST_F(SegmentListTest, AGapHoldsTheEndUntilFilled) {
  ASSERT_TRUE(list.insert(pool, 105, bytes_of("world"), 0, 0));
  EXPECT_EQ(list.data_end, 100u);
  EXPECT_EQ(list.reorder_segments, 1u);
  EXPECT_TRUE(read(100, 5).empty());
  ASSERT_TRUE(list.insert(pool, 100, bytes_of("hello"), 0, 0));
  EXPECT_EQ(list.data_end, 110u);
  EXPECT_EQ(list.reorder_segments, 0u);
  EXPECT_EQ(read(100, 10), "helloworld");
}

TEST_F(SegmentListTest, OverlapKeepsTheBytesFirstSeen) {
  ASSERT_TRUE(list.insert(pool, 100, bytes_of("abcd"), 0, 0));
  ASSERT_TRUE(list.insert(pool, 102, bytes_of("XXef"), 0, 0));
  EXPECT_EQ(read(100, 6), "abcdef");
  EXPECT_EQ(pool.in_use(), 2u);
}

TEST_F(SegmentListTest, LargePayloadIsCutIntoSegmentsAndRunsStopAtARequest) {
  const std::string big(Segment::kCapacity * 2 + 10, 'x');
  ASSERT_TRUE(list.insert(pool, 100, bytes_of(big), 0, 0));
  ASSERT_TRUE(list.insert(pool, 100 + static_cast<uint32_t>(big.size()), bytes_of("next"), Segment::kHold, 0));
  EXPECT_EQ(pool.in_use(), 4u);
  const Segment& first = pool.at(list.head);
  EXPECT_EQ(list.run_end(pool, first, 100, 1 << 16), 100 + big.size());  // not into the held request
  EXPECT_EQ(list.find(pool, 100 + Segment::kCapacity), first.next);
}

TEST_F(SegmentListTest, AckedSegmentsAreReleased) {
  ASSERT_TRUE(list.insert(pool, 100, bytes_of("abcd"), 0, 0));
  ASSERT_TRUE(list.insert(pool, 104, bytes_of("efgh"), 0, 0));
  list.release_before(pool, 106);  // the second is only partly acked
  EXPECT_EQ(pool.in_use(), 1u);
  EXPECT_EQ(read(106, 2), "gh");
  list.clear(pool);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST_F(SegmentListTest, AFullPoolRefusesTheData) {
  SegmentPool small(SegmentPool::kFootprint);
  EXPECT_TRUE(list.insert(small, 100, bytes_of("a"), 0, 0));
  EXPECT_FALSE(list.insert(small, 101, bytes_of("b"), 0, 0));
}

}  // namespace
}  // namespace tc

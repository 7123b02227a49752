#include "intercept/multiqueue/header_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace tc::intercept {
namespace {

const SessionKey kKey{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"), 40000, 80};

std::vector<uint8_t> header(uint32_t n, size_t len) {
  std::vector<uint8_t> h(len);
  for (size_t i = 0; i < len; ++i) h[i] = static_cast<uint8_t>(n + i);
  return h;
}

TEST(HeaderRing, KeepsOrderAndContent) {
  HeaderRing ring(8);
  ASSERT_TRUE(ring.push(kKey, RoutedReply::headers(header(1, 40))));
  ASSERT_TRUE(ring.push(kKey, RoutedReply::headers(header(2, 60))));
  std::vector<std::vector<uint8_t>> got;
  EXPECT_EQ(ring.drain([&](const SessionKey& k, const RoutedReply& reply) {
      const std::span<const uint8_t> h = reply.bytes;
    EXPECT_EQ(k, kKey);
    got.emplace_back(h.begin(), h.end());
  }), 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], header(1, 40));
  EXPECT_EQ(got[1], header(2, 60));
  EXPECT_EQ(ring.drain([](const SessionKey&, const RoutedReply&) {}), 0u);
}

TEST(HeaderRing, FullRingRefusesUntilDrained) {
  HeaderRing ring(5);  // rounded up to 8
  EXPECT_EQ(ring.capacity(), 8u);
  for (uint32_t i = 0; i < 8; ++i) ASSERT_TRUE(ring.push(kKey, RoutedReply::headers(header(i, 20)))) << i;
  EXPECT_FALSE(ring.push(kKey, RoutedReply::headers(header(99, 20))));
  EXPECT_EQ(ring.drain([](const SessionKey&, const RoutedReply&) {}, 3), 3u);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_TRUE(ring.push(kKey, RoutedReply::headers(header(100 + i, 20))));
  EXPECT_FALSE(ring.push(kKey, RoutedReply::headers(header(99, 20))));
  std::vector<uint8_t> firsts;
  ring.drain([&](const SessionKey&, const RoutedReply& r) { firsts.push_back(r.bytes[0]); });
  EXPECT_EQ(firsts, (std::vector<uint8_t>{3, 4, 5, 6, 7, 100, 101, 102})) << "wraps around in order";
}

TEST(HeaderRing, RefusesAReplyLongerThanASlot) {
  HeaderRing ring(4);
  EXPECT_FALSE(ring.push(kKey, RoutedReply::headers(header(1, HeaderRing::kMaxBytes + 1))));
  EXPECT_TRUE(ring.push(kKey, RoutedReply::headers(header(1, HeaderRing::kMaxBytes))));
}

// A producer thread and a consumer thread: every header arrives once, in
// order, intact, however the two interleave.
TEST(HeaderRing, ProducerAndConsumerThreads) {
  constexpr uint32_t kCount = 200000;
  HeaderRing ring(256);
  std::thread producer([&] {
    for (uint32_t i = 0; i < kCount;) {
      std::vector<uint8_t> h(4 + i % 100);
      for (size_t k = 0; k < 4; ++k) h[k] = static_cast<uint8_t>(i >> (8 * k));
      for (size_t k = 4; k < h.size(); ++k) h[k] = static_cast<uint8_t>(i + k);
      if (ring.push(kKey, RoutedReply::headers(h))) ++i;
      else std::this_thread::yield();
    }
  });
  uint32_t next = 0;
  bool intact = true;
  while (next < kCount) {
    ring.drain([&](const SessionKey& key, const RoutedReply& reply) {
      const std::span<const uint8_t> h = reply.bytes;
      if (!(key == kKey)) intact = false;
      uint32_t n = 0;
      for (size_t k = 0; k < 4; ++k) n |= uint32_t{h[k]} << (8 * k);
      if (n != next || h.size() != 4 + n % 100) intact = false;
      for (size_t k = 4; k < h.size(); ++k)
        if (h[k] != static_cast<uint8_t>(n + k)) intact = false;
      ++next;
    });
  }
  producer.join();
  EXPECT_TRUE(intact);
  EXPECT_EQ(next, kCount);
}

}  // namespace
}  // namespace tc::intercept

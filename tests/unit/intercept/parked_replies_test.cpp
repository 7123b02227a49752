#include "intercept/routing/parked_replies.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tc::intercept {
namespace {

using namespace std::chrono_literals;

SessionKey key(uint16_t port) {
  return SessionKey{*IpAddress::parse("10.1.0.1"), *IpAddress::parse("10.2.0.1"), port, 80};
}

TEST(ParkedReplies, ZeroCapacityParksNothing) {
  ParkedReplies p(0, 2s);
  const uint8_t h[20] = {};
  EXPECT_FALSE(p.park(key(1), RoutedReply::headers(h), TimePoint{}));
  EXPECT_EQ(p.size(), 0u);
}

TEST(ParkedReplies, InterleavedKeysKeepPerKeyOrderUnderChurn) {
  // Random park/release/expire against a simple model.
  ParkedReplies p(16, 2s);
  std::mt19937 rng(1);
  std::vector<std::pair<uint16_t, uint8_t>> model;  // (key, tag) in arrival order, ttl ignored
  TimePoint now{};
  uint8_t tag = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint16_t k = static_cast<uint16_t>(rng() % 5);
    if (rng() % 3 != 0) {
      const uint8_t h[1] = {++tag};
      ASSERT_TRUE(p.park(key(k), RoutedReply::headers(h), now));
      model.emplace_back(k, tag);
      if (model.size() > 16) model.erase(model.begin());  // oldest evicted
    } else {
      std::vector<uint8_t> want, got;
      for (auto it = model.begin(); it != model.end();) {
        if (it->first == k) {
          want.push_back(it->second);
          it = model.erase(it);
        } else {
          ++it;
        }
      }
      p.release(key(k), [&](const RoutedReply& r) { got.push_back(r.bytes[0]); });
      ASSERT_EQ(got, want) << "step " << step;
    }
    ASSERT_EQ(p.size(), model.size());
  }
  now += 3s;
  p.expire(now);
  EXPECT_EQ(p.size(), 0u);
}

}  // namespace
}  // namespace tc::intercept

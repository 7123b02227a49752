#include "intercept/routing/route_table.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "fake_reply_sink.h"

namespace tc::intercept {
namespace {

using namespace std::chrono_literals;
using testing::FakeReplySink;

SessionKey key(uint16_t client_port) {
  return SessionKey{*IpAddress::parse("10.1.0.1"), *IpAddress::parse("10.2.0.1"), client_port, 80};
}

std::vector<uint8_t> header(uint8_t tag) { return std::vector<uint8_t>(40, tag); }

const IpAddress kCopyHost = *IpAddress::parse("192.0.2.10");
const IpAddress kOtherCopyHost = *IpAddress::parse("192.0.2.11");

class RouteTableTest : public ::testing::Test {
 protected:
  RouteTable::Config config() {
    RouteTable::Config c;
    c.hash_size = 16;
    c.route_timeout = 120s;
    c.park_capacity = 4;
    c.park_ttl = 2s;
    return c;
  }
  TimePoint t0 = std::chrono::seconds(1000);
  FakeReplySink sink;
};

TEST_F(RouteTableTest, RegisterLookupUnregister) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 0xabc);
  rt.register_key(1, key(1000), t0, sink);
  EXPECT_EQ(rt.route_count(), 1u);

  rt.on_reply(key(1000), RoutedReply::headers(header(1)), t0, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].first, 1u);
  EXPECT_EQ(sink.got[0].second, header(1));
  EXPECT_EQ(rt.counters().replies_forwarded, 1u);

  rt.unregister_key(1, key(1000));
  EXPECT_EQ(rt.route_count(), 0u);
  EXPECT_EQ(rt.counters().unregistrations, 1u);
  rt.on_reply(key(1000), RoutedReply::headers(header(2)), t0, sink);
  EXPECT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(rt.counters().unrouted, 1u);
}

TEST_F(RouteTableTest, RegistrationFromUnknownConnectionIsIgnored) {
  RouteTable rt(config());
  rt.register_key(9, key(1), t0, sink);
  EXPECT_EQ(rt.route_count(), 0u);
  EXPECT_EQ(rt.counters().registrations, 0u);
}

TEST_F(RouteTableTest, ReplyGoesOnTheRegisteringConnection) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kCopyHost, 7);
  rt.register_key(2, key(1), t0, sink);
  rt.register_key(1, key(2), t0, sink);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  rt.on_reply(key(2), RoutedReply::headers(header(2)), t0, sink);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].first, 2u);
  EXPECT_EQ(sink.got[1].first, 1u);
}

TEST_F(RouteTableTest, ClientWithTwoConnectionsSurvivesOneDropping) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.connection_down(1);
  EXPECT_EQ(rt.route_count(), 1u);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].first, 2u);
  EXPECT_EQ(rt.client_count(), 1u);
}

TEST_F(RouteTableTest, SameAddressDifferentInstanceIsAnotherClient) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kCopyHost, 8);
  rt.register_key(1, key(1), t0, sink);
  rt.connection_down(1);
  // Connection 2 belongs to another tcpcopy: the route must not move there.
  EXPECT_EQ(rt.route_count(), 0u);
  EXPECT_EQ(rt.counters().routes_dropped, 1u);
  EXPECT_EQ(rt.client_count(), 1u);
}

TEST_F(RouteTableTest, SameInstanceIdFromAnotherHostIsAnotherClient) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kOtherCopyHost, 7);
  EXPECT_EQ(rt.client_count(), 2u);
}

TEST_F(RouteTableTest, LastConnectionDropRemovesAllItsRoutes) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kCopyHost, 7);
  rt.connection_up(3, kOtherCopyHost, 1);
  rt.register_key(1, key(1), t0, sink);
  rt.register_key(2, key(2), t0, sink);
  rt.register_key(3, key(3), t0, sink);
  rt.connection_down(2);
  EXPECT_EQ(rt.route_count(), 3u);
  rt.connection_down(1);
  EXPECT_EQ(rt.route_count(), 1u);
  EXPECT_EQ(rt.counters().routes_dropped, 2u);
  rt.on_reply(key(3), RoutedReply::headers(header(3)), t0, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].first, 3u);
  rt.connection_down(1);  // twice, or unknown: harmless
  rt.connection_down(42);
}

TEST_F(RouteTableTest, UnregisterFromAnotherClientIsIgnored) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kOtherCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.unregister_key(2, key(1));
  EXPECT_EQ(rt.route_count(), 1u);
  EXPECT_EQ(rt.counters().unregistrations, 0u);
}

TEST_F(RouteTableTest, ReRegistrationMovesTheRoute) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.connection_up(2, kOtherCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.register_key(2, key(1), t0, sink);
  EXPECT_EQ(rt.route_count(), 1u);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].first, 2u);
}

TEST_F(RouteTableTest, RoutesExpireAfterTimeoutWithoutTraffic) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.register_key(1, key(2), t0, sink);
  // Traffic on key 1 keeps it alive.
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0 + 100s, sink);
  rt.expire(t0 + 119s);
  EXPECT_EQ(rt.route_count(), 2u);
  rt.expire(t0 + 120s);
  EXPECT_EQ(rt.route_count(), 1u);
  EXPECT_EQ(rt.counters().routes_expired, 1u);
  rt.expire(t0 + 219s);
  EXPECT_EQ(rt.route_count(), 1u);
  rt.expire(t0 + 220s);
  EXPECT_EQ(rt.route_count(), 0u);
  EXPECT_EQ(rt.counters().routes_expired, 2u);
}

TEST_F(RouteTableTest, FullTableEvictsTheLeastRecentlyUsedRoute) {
  auto c = config();
  c.max_routes = 3;
  RouteTable rt(c);
  rt.connection_up(1, kCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.register_key(1, key(2), t0, sink);
  rt.register_key(1, key(3), t0, sink);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0 + 1s, sink);  // key 2 is now the oldest
  rt.register_key(1, key(3), t0 + 2s, sink);      // known already: nothing goes
  EXPECT_EQ(rt.counters().routes_evicted, 0u);
  rt.register_key(1, key(4), t0 + 2s, sink);
  EXPECT_EQ(rt.route_count(), 3u);
  EXPECT_EQ(rt.counters().routes_evicted, 1u);
  rt.on_reply(key(2), RoutedReply::headers(header(2)), t0 + 3s, sink);
  EXPECT_EQ(rt.counters().unrouted, 1u) << "key 2 was evicted";
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0 + 3s, sink);
  EXPECT_EQ(rt.counters().replies_forwarded, 2u);
}

TEST_F(RouteTableTest, ParkedRepliesAreForwardedInOrderOnRegistration) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  rt.on_reply(key(2), RoutedReply::headers(header(9)), t0, sink);
  rt.on_reply(key(1), RoutedReply::headers(header(2)), t0 + 1ms, sink);
  EXPECT_TRUE(sink.got.empty());
  EXPECT_EQ(rt.counters().replies_parked, 3u);
  EXPECT_EQ(rt.parked_count(), 3u);

  rt.register_key(1, key(1), t0 + 2ms, sink);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].second, header(1));
  EXPECT_EQ(sink.got[1].second, header(2));
  EXPECT_EQ(rt.counters().parked_forwarded, 2u);
  EXPECT_EQ(rt.parked_count(), 1u);

  // Nothing parked twice: a second registration releases nothing.
  rt.register_key(1, key(1), t0 + 3ms, sink);
  EXPECT_EQ(sink.got.size(), 2u);
}

TEST_F(RouteTableTest, ParkedRepliesExpireAfterTtl) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  rt.on_reply(key(1), RoutedReply::headers(header(2)), t0 + 1s, sink);
  rt.expire(t0 + 2s);
  EXPECT_EQ(rt.parked_expired(), 1u);
  EXPECT_EQ(rt.parked_count(), 1u);
  rt.register_key(1, key(1), t0 + 2s, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].second, header(2));
}

TEST_F(RouteTableTest, ParkingOverflowEvictsTheOldestAndCountsIt) {
  RouteTable rt(config());  // capacity 4
  rt.connection_up(1, kCopyHost, 7);
  for (uint8_t i = 1; i <= 6; ++i) rt.on_reply(key(i), RoutedReply::headers(header(i)), t0, sink);
  EXPECT_EQ(rt.parked_overflow(), 2u);
  EXPECT_EQ(rt.parked_count(), 4u);
  rt.register_key(1, key(1), t0, sink);
  EXPECT_TRUE(sink.got.empty());
  rt.register_key(1, key(3), t0, sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].second, header(3));
}

TEST_F(RouteTableTest, ReleasedSlotsAreReusedWithoutOverflow) {
  RouteTable rt(config());  // capacity 4
  rt.connection_up(1, kCopyHost, 7);
  for (uint16_t round = 0; round < 10; ++round) {
    for (uint16_t i = 0; i < 4; ++i) rt.on_reply(key(static_cast<uint16_t>(round * 4 + i)), RoutedReply::headers(header(1)), t0, sink);
    for (uint16_t i = 0; i < 4; ++i) rt.register_key(1, key(static_cast<uint16_t>(round * 4 + i)), t0, sink);
  }
  EXPECT_EQ(rt.parked_overflow(), 0u);
  EXPECT_EQ(rt.counters().parked_forwarded, 40u);
}

TEST_F(RouteTableTest, FullConnectionShedsAndCounts) {
  RouteTable rt(config());
  rt.connection_up(1, kCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  sink.full.insert(1);
  rt.on_reply(key(1), RoutedReply::headers(header(1)), t0, sink);
  EXPECT_EQ(rt.counters().replies_shed, 1u);
  EXPECT_EQ(rt.counters().replies_forwarded, 0u);
}

// The payload prefix travels with the headers, parked or not; each
// connection cuts it to what its tcpcopy asked for.
TEST_F(RouteTableTest, PayloadPrefixTravelsWithTheHeaders) {
  RouteTable rt(config());
  std::vector<uint8_t> bytes = header(3);
  bytes.reserve(bytes.size() + 4);  // appended one by one: GCC 12 at -O2 warns on a range insert here
  for (const char c : std::string_view("HTTP")) bytes.push_back(static_cast<uint8_t>(c));
  const RoutedReply reply{bytes, 40};
  rt.on_reply(key(1), reply, t0, sink);  // parked: no route yet
  rt.connection_up(1, kCopyHost, 7);
  rt.register_key(1, key(1), t0, sink);
  rt.on_reply(key(1), reply, t0, sink);
  ASSERT_EQ(sink.got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sink.got[i].second, bytes);
    EXPECT_EQ(sink.header_lens[i], 40u);
  }
}

TEST_F(RouteTableTest, OversizedHeaderIsNotParked) {
  RouteTable rt(config());
  rt.on_reply(key(1), RoutedReply::headers(std::vector<uint8_t>(wire::kMaxReplyEntry + 1, 0)), t0, sink);
  EXPECT_EQ(rt.counters().unrouted, 1u);
  EXPECT_EQ(rt.counters().replies_parked, 0u);
}

}  // namespace
}  // namespace tc::intercept

#include "intercept/reply_dispatcher.h"

#include <gtest/gtest.h>

#include "common/tcp_packet.h"
#include "common/wire.h"
#include "intercept/nfqueue/nfqueue_messages.h"
#include "fake_reply_sink.h"
#include "nfqueue_test_messages.h"

namespace tc::intercept {
namespace {

using namespace std::chrono_literals;
using testing::FakeReplySink;
using testing::reply_packet;

class ReplyDispatcherTest : public ::testing::Test {
 protected:
  ReplyDispatcherTest() : routes(RouteTable::Config{}), dispatcher({*IpAddress::parse("10.9.9.9")}, routes, sink) {
    routes.connection_up(1, *IpAddress::parse("192.0.2.1"), 5);
    dispatcher.set_now(std::chrono::seconds(10));
  }
  FakeReplySink sink;
  RouteTable routes;
  ReplyDispatcher dispatcher;
};

TEST_F(ReplyDispatcherTest, RoutedReplyIsDroppedAndItsHeaderForwarded) {
  const SessionKey key{*IpAddress::parse("10.1.0.7"), *IpAddress::parse("10.2.0.1"), 40000, 80};
  routes.register_key(1, key, std::chrono::seconds(10), sink);
  const auto pkt = reply_packet("10.1.0.7", 40000, tcpflag::kAck, 100);
  // NFQUEUE hands over only the first 128 bytes here.
  EXPECT_FALSE(dispatcher.accept(std::span(pkt).first(std::min<size_t>(pkt.size(), 128))));
  ASSERT_EQ(sink.got.size(), 1u);
  TcpPacket parsed;
  ASSERT_EQ(TcpPacket::parse(sink.got[0].second, parsed, Extent::kHeadersOnly), ParseError::kNone);
  EXPECT_EQ(parsed.payload_len, 100u);
  EXPECT_EQ(sink.header_lens[0], parsed.headers.size());
  EXPECT_EQ(parsed.payload.size(), 128 - parsed.headers.size());  // what was copied of the payload
  EXPECT_EQ(parsed.dport, 40000);
}

// The payload prefix forwarded is what the copy holds, up to
// wire::kMaxReplyPrefix; the headers come first and say the whole length.
TEST_F(ReplyDispatcherTest, ForwardsAtMostTheLongestPayloadPrefix) {
  const SessionKey key{*IpAddress::parse("10.1.0.7"), *IpAddress::parse("10.2.0.1"), 40000, 80};
  routes.register_key(1, key, std::chrono::seconds(10), sink);
  const auto pkt = reply_packet("10.1.0.7", 40000, tcpflag::kAck, 1000);
  EXPECT_FALSE(dispatcher.accept(std::span(pkt).first(nfq::kCopyRange)));
  EXPECT_FALSE(dispatcher.accept(pkt));  // a whole packet: cut to the prefix all the same
  ASSERT_EQ(sink.got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    TcpPacket parsed;
    ASSERT_EQ(TcpPacket::parse(sink.got[i].second, parsed, Extent::kHeadersOnly), ParseError::kNone);
    EXPECT_EQ(parsed.payload_len, 1000u);
    EXPECT_EQ(sink.header_lens[i], parsed.headers.size());
    EXPECT_EQ(parsed.payload.size(), wire::kMaxReplyPrefix);
  }
}

TEST_F(ReplyDispatcherTest, UnroutedReplyIsDroppedAndParked) {
  const auto pkt = reply_packet("10.1.0.8", 40001, tcpflag::kSyn | tcpflag::kAck);
  EXPECT_FALSE(dispatcher.accept(pkt));
  EXPECT_EQ(routes.parked_count(), 1u);
  const SessionKey key{*IpAddress::parse("10.1.0.8"), *IpAddress::parse("10.2.0.1"), 40001, 80};
  routes.register_key(1, key, std::chrono::seconds(10), sink);
  EXPECT_EQ(sink.got.size(), 1u);
}

TEST_F(ReplyDispatcherTest, PassListedClientIsAccepted) {
  EXPECT_TRUE(dispatcher.accept(reply_packet("10.9.9.9", 22, tcpflag::kAck)));
  EXPECT_EQ(dispatcher.passed(), 1u);
  EXPECT_EQ(routes.parked_count(), 0u);
}

TEST_F(ReplyDispatcherTest, MalformedPacketsAreCountedByReasonAndDropped) {
  EXPECT_FALSE(dispatcher.accept({}));
  EXPECT_EQ(dispatcher.parse_errors(ParseError::kTruncated), 1u);
  auto pkt = reply_packet("10.9.9.9", 22, tcpflag::kAck);
  pkt[0] = 0x75;  // IP version 7
  EXPECT_FALSE(dispatcher.accept(pkt));
  EXPECT_EQ(dispatcher.parse_errors(ParseError::kBadVersion), 1u);
  pkt = reply_packet("10.9.9.9", 22, tcpflag::kAck);
  pkt[9] = 17;  // UDP
  EXPECT_FALSE(dispatcher.accept(pkt));
  EXPECT_EQ(dispatcher.parse_errors(ParseError::kNotTcp), 1u);
  // Every prefix of a valid packet: never a crash, never an accept.
  pkt = reply_packet("10.9.9.9", 22, tcpflag::kAck);
  for (size_t n = 0; n < 40; ++n) EXPECT_FALSE(dispatcher.accept(std::span(pkt).first(n))) << n;
}

}  // namespace
}  // namespace tc::intercept

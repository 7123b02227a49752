// The control server over real loopback sockets, driven by its event loop.
#include "intercept/control/control_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/wire.h"

namespace tc::intercept {
namespace {

using namespace std::chrono_literals;

UniqueFd connect_to(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return UniqueFd();
  timeval tv{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, std::span<const uint8_t> bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

SessionKey key(uint16_t port) {
  return SessionKey{*IpAddress::parse("10.1.0.1"), *IpAddress::parse("10.2.0.1"), port, 80};
}

ControlServer::Config loopback_config() {
  ControlServer::Config c;
  c.bind = {*IpAddress::parse("127.0.0.1")};
  c.port = 0;
  c.max_output_bytes = 1 << 20;
  return c;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() : routes(RouteTable::Config{}), server(loopback_config(), loop, routes, log) {
    log.open("/dev/null");
    port = server.listening_ports().at(0);
  }
  void pump(int rounds = 5) {
    for (int i = 0; i < rounds; ++i) {
      loop.run_once(10ms);
      server.flush();
    }
  }
  // Reads frames from `fd` until `want` frames arrived or the read times out.
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> read_frames(int fd, size_t want) {
    std::vector<std::pair<uint8_t, std::vector<uint8_t>>> frames;
    while (frames.size() < want) {
      pump(1);
      auto space = decoder.write_space();
      const ssize_t n = ::recv(fd, space.data(), space.size(), MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) decoder.commit(static_cast<size_t>(n));
      while (auto f = decoder.next()) frames.emplace_back(f->type, std::vector<uint8_t>(f->payload.begin(), f->payload.end()));
      if (n < 0 && ++idle > 100) break;
    }
    return frames;
  }
  bool closed_by_server(int fd) {
    for (int i = 0; i < 100; ++i) {
      pump(1);
      uint8_t b;
      const ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT);
      if (n == 0) return true;
    }
    return false;
  }

  Logger log;
  EventLoop loop;
  RouteTable routes;
  ControlServer server;
  uint16_t port = 0;
  wire::FrameDecoder decoder;
  int idle = 0;
};

TEST_F(ControlServerTest, HelloRegisterAndReplyRoundTrip) {
  UniqueFd c = connect_to(port);
  ASSERT_TRUE(c);
  wire::FrameWriter w(1 << 16);
  w.hello(0x1234);
  w.add_key(wire::MessageType::kRegister, key(5000));
  send_all(c.get(), w.pending());
  auto frames = read_frames(c.get(), 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(wire::MessageType::kHelloAck));
  EXPECT_EQ(routes.route_count(), 1u);

  const uint8_t header[40] = {0x45};
  routes.on_reply(key(5000), RoutedReply::headers(header), monotonic_now(), server);
  routes.on_reply(key(5000), RoutedReply::headers(header), monotonic_now(), server);
  server.flush();
  frames = read_frames(c.get(), 1);
  ASSERT_EQ(frames.size(), 1u);  // both headers in one frame
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(wire::MessageType::kReplies));
  int n = 0;
  EXPECT_EQ(wire::read_replies(frames[0].second, [&](std::span<const uint8_t> h) {
              EXPECT_EQ(h.size(), 40u);
              ++n;
            }),
            wire::WireError::kNone);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(server.counters().hellos, 1u);
}

// Two tcpcopies, one asking for headers only and one for 4 payload bytes:
// each gets the same kind of reply cut to its own prefix.
TEST_F(ControlServerTest, EachClientGetsThePayloadPrefixItAskedFor) {
  UniqueFd plain = connect_to(port);
  UniqueFd prefixed = connect_to(port);
  wire::FrameWriter wp(1 << 16), wq(1 << 16);
  wp.hello(1);
  wp.add_key(wire::MessageType::kRegister, key(1));
  wq.hello(2, 4);
  wq.add_key(wire::MessageType::kRegister, key(2));
  send_all(plain.get(), wp.pending());
  send_all(prefixed.get(), wq.pending());
  pump();
  ASSERT_EQ(routes.route_count(), 2u);

  std::vector<uint8_t> reply(40, 0);
  reply[0] = 0x45;
  const std::string body = "HTTP/1.1 200 OK";
  reply.insert(reply.end(), body.begin(), body.end());
  const RoutedReply full{reply, 40};
  const RoutedReply short_body{std::span<const uint8_t>(reply).first(42), 40};
  routes.on_reply(key(1), full, monotonic_now(), server);
  routes.on_reply(key(2), full, monotonic_now(), server);
  routes.on_reply(key(2), short_body, monotonic_now(), server);
  server.flush();

  auto entries = [&](int fd) {
    std::vector<std::vector<uint8_t>> got;
    decoder = wire::FrameDecoder();
    for (const auto& f : read_frames(fd, 2)) {
      if (f.first != static_cast<uint8_t>(wire::MessageType::kReplies)) continue;
      wire::read_replies(f.second, [&](std::span<const uint8_t> e) { got.emplace_back(e.begin(), e.end()); });
    }
    return got;
  };
  const auto p = entries(plain.get());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], std::vector<uint8_t>(reply.begin(), reply.begin() + 40));
  const auto q = entries(prefixed.get());
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0], std::vector<uint8_t>(reply.begin(), reply.begin() + 44));
  EXPECT_EQ(std::string(q[0].begin() + 40, q[0].end()), "HTTP");
  EXPECT_EQ(q[1], std::vector<uint8_t>(reply.begin(), reply.begin() + 42)) << "no more than the reply had";
}

TEST_F(ControlServerTest, ParkedReplyIsSentWhenRegistrationArrives) {
  const uint8_t header[40] = {0x45, 1};
  routes.on_reply(key(6000), RoutedReply::headers(header), monotonic_now(), server);
  UniqueFd c = connect_to(port);
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.add_key(wire::MessageType::kRegister, key(6000));
  send_all(c.get(), w.pending());
  auto frames = read_frames(c.get(), 2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].first, static_cast<uint8_t>(wire::MessageType::kReplies));
  EXPECT_EQ(routes.counters().parked_forwarded, 1u);
}

TEST_F(ControlServerTest, UnknownFrameTypeIsSkipped) {
  UniqueFd c = connect_to(port);
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  send_all(c.get(), w.pending());
  const uint8_t unknown[8 + 3] = {0x54, 0x43, wire::kVersion, 99, 0, 0, 0, 3, 1, 2, 3};
  send_all(c.get(), unknown);
  wire::FrameWriter w2(1 << 16);
  w2.add_key(wire::MessageType::kRegister, key(1));
  send_all(c.get(), w2.pending());
  read_frames(c.get(), 1);
  pump();
  EXPECT_EQ(server.counters().frames_unknown, 1u);
  EXPECT_EQ(routes.route_count(), 1u);
}

// A kPing comes back as a kPong with the same stamp; a stamp of the wrong
// size is a bad payload.
TEST_F(ControlServerTest, PingIsAnsweredWithItsStamp) {
  UniqueFd c = connect_to(port);
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.ping(wire::MessageType::kPing, 0xfeedface12345678ull);
  send_all(c.get(), w.pending());
  auto frames = read_frames(c.get(), 2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].first, static_cast<uint8_t>(wire::MessageType::kPong));
  EXPECT_EQ(wire::read_ping(frames[1].second), 0xfeedface12345678ull);
  const uint8_t bad[8 + 3] = {0x54, 0x43, wire::kVersion, static_cast<uint8_t>(wire::MessageType::kPing), 0, 0, 0, 3,
                              1, 2, 3};
  send_all(c.get(), bad);
  EXPECT_TRUE(closed_by_server(c.get()));
  EXPECT_EQ(server.counters().closed[static_cast<size_t>(CloseReason::kBadPayload)], 1u);
}

TEST_F(ControlServerTest, BadMagicClosesAndDropsRoutes) {
  UniqueFd c = connect_to(port);
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.add_key(wire::MessageType::kRegister, key(1));
  send_all(c.get(), w.pending());
  read_frames(c.get(), 1);
  EXPECT_EQ(routes.route_count(), 1u);
  const uint8_t junk[8] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'};
  send_all(c.get(), junk);
  EXPECT_TRUE(closed_by_server(c.get()));
  EXPECT_EQ(server.counters().closed[static_cast<size_t>(CloseReason::kBadMagic)], 1u);
  EXPECT_EQ(routes.route_count(), 0u);
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST_F(ControlServerTest, RegisterBeforeHelloCloses) {
  UniqueFd c = connect_to(port);
  wire::FrameWriter w(1 << 16);
  w.add_key(wire::MessageType::kRegister, key(1));
  send_all(c.get(), w.pending());
  EXPECT_TRUE(closed_by_server(c.get()));
  EXPECT_EQ(server.counters().closed[static_cast<size_t>(CloseReason::kNoHello)], 1u);
}

TEST_F(ControlServerTest, TwoConnectionsOfOneClientShareRoutes) {
  UniqueFd a = connect_to(port);
  UniqueFd b = connect_to(port);
  wire::FrameWriter wa(1 << 16), wb(1 << 16);
  wa.hello(77);
  wa.add_key(wire::MessageType::kRegister, key(1));
  wb.hello(77);
  send_all(a.get(), wa.pending());
  send_all(b.get(), wb.pending());
  pump();
  EXPECT_EQ(routes.client_count(), 1u);
  a.reset();
  pump();
  EXPECT_EQ(routes.route_count(), 1u);
  const uint8_t header[40] = {0x45};
  routes.on_reply(key(1), RoutedReply::headers(header), monotonic_now(), server);
  server.flush();
  auto frames = read_frames(b.get(), 2);  // Hello-Ack, then the reply
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].first, static_cast<uint8_t>(wire::MessageType::kReplies));
}

}  // namespace
}  // namespace tc::intercept

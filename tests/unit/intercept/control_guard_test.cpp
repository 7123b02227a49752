// Who may use the control channel: the allow-list, the shared-secret
// handshake, the handshake deadline and the caps on connections, over real
// loopback sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/auth.h"
#include "common/wire.h"
#include "intercept/control/control_server.h"

namespace tc::intercept {
namespace {

using namespace std::chrono_literals;
using Frames = std::vector<std::pair<uint8_t, std::vector<uint8_t>>>;

SessionKey key(uint16_t port) {
  return SessionKey{*IpAddress::parse("10.1.0.1"), *IpAddress::parse("10.2.0.1"), port, 80};
}

SharedSecret secret(char c) { return SharedSecret(std::vector<uint8_t>(24, static_cast<uint8_t>(c))); }

std::vector<AddressPrefix> prefixes(const char* text) {
  std::string err;
  return *parse_prefix_list(text, err);
}

class ControlGuardTest : public ::testing::Test {
 protected:
  ControlGuardTest() : routes(RouteTable::Config{}) { log.open("/dev/null"); }

  void start(ControlServer::Config c) {
    c.bind = {*IpAddress::parse("127.0.0.1")};
    c.port = 0;
    server = std::make_unique<ControlServer>(c, loop, routes, log);
    port = server->listening_ports().at(0);
  }
  UniqueFd connect() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    return fd;
  }
  void pump(int rounds = 5) {
    for (int i = 0; i < rounds; ++i) {
      loop.run_once(5ms);
      server->flush();
    }
  }
  void send(int fd, std::span<const uint8_t> bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  void send(int fd, wire::FrameWriter& w) {
    send(fd, w.pending());
    w.consume(w.pending_bytes());
  }
  // Frames the server sent, until `want` arrived, the peer closed, or a while passed.
  Frames read(int fd, size_t want, bool* closed = nullptr) {
    Frames frames;
    for (int i = 0; i < 200 && frames.size() < want; ++i) {
      pump(1);
      auto space = decoder.write_space();
      const ssize_t n = ::recv(fd, space.data(), space.size(), MSG_DONTWAIT);
      if (n == 0) {
        if (closed) *closed = true;
        break;
      }
      if (n > 0) decoder.commit(static_cast<size_t>(n));
      while (auto f = decoder.next()) frames.emplace_back(f->type, std::vector<uint8_t>(f->payload.begin(), f->payload.end()));
    }
    return frames;
  }
  bool closed_by_server(int fd) {
    for (int i = 0; i < 200; ++i) {
      pump(1);
      uint8_t b[256];
      const ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
  }
  uint64_t closed(CloseReason r) const { return server->counters().closed[static_cast<size_t>(r)]; }
  uint64_t refused(RefuseReason r) const { return server->counters().refused[static_cast<size_t>(r)]; }

  // Hello, answer the challenge with `s`; returns the server's answer.
  Frames handshake(int fd, const SharedSecret& s, uint32_t id, Nonce* server_nonce = nullptr,
                   Nonce* client_nonce = nullptr) {
    wire::FrameWriter w(1 << 16);
    w.hello(id);
    send(fd, w);
    Frames f = read(fd, 1);
    if (f.size() != 1 || f[0].first != static_cast<uint8_t>(wire::MessageType::kChallenge)) return f;
    auto challenge = wire::read_challenge(f[0].second);
    if (!challenge) return {};
    Nonce mine{};
    random_nonce(mine);
    const Proof proof = *s.client_proof(*challenge, mine, id);
    w.auth(mine, proof);
    send(fd, w);
    if (server_nonce) *server_nonce = *challenge;
    if (client_nonce) *client_nonce = mine;
    return read(fd, 1);
  }

  Logger log;
  EventLoop loop;
  RouteTable routes;
  std::unique_ptr<ControlServer> server;
  uint16_t port = 0;
  wire::FrameDecoder decoder;
};

TEST_F(ControlGuardTest, UnlistedPeerIsClosedBeforeAnythingIsRead) {
  ControlServer::Config c;
  c.allow = prefixes("10.0.0.0/8,::1");
  start(c);
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.add_key(wire::MessageType::kRegister, key(1));
  send(fd.get(), w);
  EXPECT_TRUE(closed_by_server(fd.get()));
  EXPECT_EQ(refused(RefuseReason::kNotAllowed), 1u);
  EXPECT_EQ(server->counters().accepted, 0u);
  EXPECT_EQ(routes.route_count(), 0u);
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(ControlGuardTest, ListedPeerIsServed) {
  ControlServer::Config c;
  c.allow = prefixes("10.0.0.0/8,127.0.0.0/8");
  start(c);
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.add_key(wire::MessageType::kRegister, key(1));
  send(fd.get(), w);
  auto f = read(fd.get(), 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, static_cast<uint8_t>(wire::MessageType::kHelloAck));
  pump();
  EXPECT_EQ(routes.route_count(), 1u);
}

TEST_F(ControlGuardTest, SilentOrTricklingPeersAreClosedAtTheDeadline) {
  ControlServer::Config c;
  c.hello_timeout = 2s;
  start(c);
  UniqueFd silent = connect();
  UniqueFd slow = connect();
  const uint8_t header[3] = {0x54, 0x43, wire::kVersion};  // a frame, one byte at a time
  for (uint8_t b : header) {
    send(slow.get(), std::span(&b, 1));
    pump(2);
    server->tick(monotonic_now());
  }
  EXPECT_EQ(server->connection_count(), 2u) << "not yet";
  server->tick(monotonic_now() + 3s);
  EXPECT_TRUE(closed_by_server(silent.get()));
  EXPECT_TRUE(closed_by_server(slow.get()));
  EXPECT_EQ(closed(CloseReason::kHelloTimeout), 2u);
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(ControlGuardTest, AuthenticatedPeersHaveNoDeadline) {
  start(ControlServer::Config{});
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  send(fd.get(), w);
  ASSERT_EQ(read(fd.get(), 1).size(), 1u);
  server->tick(monotonic_now() + 1h);
  pump();
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(ControlGuardTest, ANewConnectionAlwaysGetsAHandshakeSlot) {
  ControlServer::Config c;
  c.max_pending = 2;
  start(c);
  UniqueFd a = connect(), b = connect();
  pump();
  wire::FrameWriter hi(1 << 16);
  hi.hello(1);
  send(b.get(), hi);  // b is mid-handshake... and through it at once
  ASSERT_EQ(read(b.get(), 1).size(), 1u);
  UniqueFd c1 = connect(), c2 = connect();
  pump();
  // Slots: c1 and c2 pending, a evicted for c2 (c1 took b's freed slot).
  Frames f = read(a.get(), 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, static_cast<uint8_t>(wire::MessageType::kTurnedAway));
  auto why = wire::read_turned_away(f[0].second);
  ASSERT_TRUE(why);
  EXPECT_EQ(why->reason, static_cast<uint16_t>(wire::TurnAwayReason::kHandshakeFull));
  EXPECT_NE(why->text.find("too many connections"), std::string::npos) << why->text;
  EXPECT_TRUE(closed_by_server(a.get()));
  EXPECT_EQ(closed(CloseReason::kEvictedBusiest), 1u);
  EXPECT_EQ(refused(RefuseReason::kTooManyPending), 0u) << "nobody is refused for pending slots";
  // The newest is served.
  decoder = wire::FrameDecoder();
  hi.hello(2);
  send(c2.get(), hi);
  ASSERT_EQ(read(c2.get(), 1).size(), 1u);
  EXPECT_EQ(server->connection_count(), 3u);
}

TEST_F(ControlGuardTest, ASourceAtItsLimitGivesUpItsOldestSilentConnection) {
  ControlServer::Config c;
  c.max_pending_per_source = 2;
  start(c);
  UniqueFd talking = connect();
  const uint8_t partial[3] = {0x54, 0x43, wire::kVersion};  // a frame begun
  send(talking.get(), partial);
  pump();
  UniqueFd silent = connect();
  pump();
  UniqueFd newest = connect();
  pump();
  EXPECT_TRUE(closed_by_server(silent.get())) << "the silent one goes first, though not the oldest";
  EXPECT_EQ(closed(CloseReason::kEvictedSameSource), 1u);
  EXPECT_EQ(server->connection_count(), 2u);
}

TEST_F(ControlGuardTest, TheBusiestSourcePaysForANewcomer) {
  ControlServer::Config c;
  c.max_pending = 4;
  start(c);
  // Three silent peers from 127.0.0.1, one from 127.0.0.2.
  std::vector<UniqueFd> flood;
  for (int i = 0; i < 3; ++i) flood.push_back(connect());
  UniqueFd other(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000002);
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(other.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  pump();
  // Two more from 127.0.0.1: each time one of 127.0.0.1's goes, never 127.0.0.2's.
  flood.push_back(connect());
  pump();
  flood.push_back(connect());
  pump();
  EXPECT_TRUE(closed_by_server(flood[0].get()));
  EXPECT_TRUE(closed_by_server(flood[1].get()));
  EXPECT_EQ(closed(CloseReason::kEvictedBusiest), 2u);
  wire::FrameWriter hi(1 << 16);
  hi.hello(7);
  send(other.get(), hi);
  decoder = wire::FrameDecoder();
  auto f = read(other.get(), 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, static_cast<uint8_t>(wire::MessageType::kHelloAck));
}

TEST_F(ControlGuardTest, ConnectionsAreCapped) {
  ControlServer::Config c;
  c.max_connections = 2;
  start(c);
  UniqueFd a = connect(), b = connect();
  wire::FrameWriter hi(1 << 16);
  hi.hello(1);
  send(a.get(), hi.pending());
  send(b.get(), hi.pending());
  pump();
  UniqueFd extra = connect();
  pump();
  Frames f = read(extra.get(), 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, static_cast<uint8_t>(wire::MessageType::kTurnedAway));
  EXPECT_TRUE(closed_by_server(extra.get()));
  EXPECT_EQ(refused(RefuseReason::kTooMany), 1u);
  EXPECT_EQ(server->connection_count(), 2u);
}

TEST_F(ControlGuardTest, IdleConnectionsGiveTheirBuffersBack) {
  start(ControlServer::Config{});
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 20);
  w.hello(1);
  for (uint16_t p = 1; p <= 1500; ++p) w.add_key(wire::MessageType::kRegister, key(p));  // ~54 KB
  send(fd.get(), w);
  ASSERT_EQ(read(fd.get(), 1).size(), 1u);
  pump();
  EXPECT_EQ(routes.route_count(), 1500u);
  EXPECT_GT(server->buffer_bytes(), 50000u) << "the input buffer grew for the large frame";
  const TimePoint now = monotonic_now();
  server->tick(now + 2s);  // the activity mark is cleared
  server->tick(now + 4s);  // idle for a whole sweep: released
  EXPECT_EQ(server->buffer_bytes(), 0u);
  EXPECT_GE(server->counters().memory_trims, 0u);
  // And it still works.
  wire::FrameWriter more(1 << 16);
  more.add_key(wire::MessageType::kRegister, key(2000));
  send(fd.get(), more);
  pump();
  EXPECT_EQ(routes.route_count(), 1501u);
}

TEST_F(ControlGuardTest, LargeFrameBeforeTheHandshakeCloses) {
  start(ControlServer::Config{});
  UniqueFd fd = connect();
  const uint8_t big[8] = {0x54, 0x43, wire::kVersion, 1, 0, 0, 0x10, 0};  // a 4 KiB hello
  send(fd.get(), big);
  EXPECT_TRUE(closed_by_server(fd.get()));
  EXPECT_EQ(closed(CloseReason::kFrameTooLong), 1u);
}

TEST_F(ControlGuardTest, BadVersionAndGarbageClose) {
  start(ControlServer::Config{});
  UniqueFd v = connect();
  const uint8_t v3[16] = {0x54, 0x43, 3, 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0};
  send(v.get(), v3);
  EXPECT_TRUE(closed_by_server(v.get()));
  EXPECT_EQ(closed(CloseReason::kBadVersion), 1u);
  UniqueFd g = connect();
  const uint8_t hello_short[8 + 3] = {0x54, 0x43, wire::kVersion, 1, 0, 0, 0, 3, 1, 2, 3};
  send(g.get(), hello_short);
  EXPECT_TRUE(closed_by_server(g.get()));
  EXPECT_EQ(closed(CloseReason::kBadPayload), 1u);
}

// A version 1 tcpcopy gets one frame of this version before the close, so
// its own decoder names the version instead of seeing a bare close.
TEST_F(ControlGuardTest, AnOlderPeerIsAnsweredInThisVersionThenClosed) {
  start(ControlServer::Config{});
  UniqueFd fd = connect();
  const uint8_t v1_hello[14] = {0x54, 0x43, 1, 1, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0};
  send(fd.get(), v1_hello);
  std::vector<uint8_t> got;
  for (int i = 0; i < 200; ++i) {
    pump(1);
    uint8_t b[64];
    const ssize_t n = ::recv(fd.get(), b, sizeof b, MSG_DONTWAIT);
    if (n > 0) got.insert(got.end(), b, b + n);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) break;
  }
  ASSERT_GE(got.size(), wire::kHeaderSize);
  EXPECT_EQ(got[0], 0x54);
  EXPECT_EQ(got[1], 0x43);
  EXPECT_EQ(got[2], wire::kVersion);
  EXPECT_EQ(got[3], static_cast<uint8_t>(wire::MessageType::kHelloAck));
  EXPECT_EQ(closed(CloseReason::kBadVersion), 1u);
  EXPECT_EQ(server->connection_count(), 0u);
  EXPECT_EQ(routes.client_count(), 0u);
}

TEST_F(ControlGuardTest, RightSecretGetsAProofAndIsServed) {
  ControlServer::Config c;
  c.secret = secret('s');
  start(c);
  UniqueFd fd = connect();
  Nonce sn{}, cn{};
  Frames f = handshake(fd.get(), secret('s'), 42, &sn, &cn);
  ASSERT_EQ(f.size(), 1u);
  ASSERT_EQ(f[0].first, static_cast<uint8_t>(wire::MessageType::kHelloAck));
  auto ack = wire::read_hello_ack(f[0].second);
  ASSERT_TRUE(ack && ack->proof);
  EXPECT_TRUE(proofs_equal(*ack->proof, *secret('s').server_proof(sn, cn, 42)));
  wire::FrameWriter w(1 << 16);
  w.add_key(wire::MessageType::kRegister, key(1));
  send(fd.get(), w);
  pump();
  EXPECT_EQ(routes.route_count(), 1u);
  EXPECT_EQ(server->counters().authenticated, 1u);
}

TEST_F(ControlGuardTest, WrongSecretIsClosedAndRegistersNothing) {
  ControlServer::Config c;
  c.secret = secret('s');
  start(c);
  UniqueFd fd = connect();
  bool was_closed = false;
  Frames f = handshake(fd.get(), secret('x'), 42);
  EXPECT_TRUE(f.empty());
  read(fd.get(), 1, &was_closed);
  EXPECT_TRUE(was_closed || closed_by_server(fd.get()));
  EXPECT_EQ(closed(CloseReason::kAuthFailed), 1u);
  EXPECT_EQ(routes.client_count(), 0u);
}

TEST_F(ControlGuardTest, RegisteringBeforeTheProofCloses) {
  ControlServer::Config c;
  c.secret = secret('s');
  start(c);
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 16);
  w.hello(1);
  w.add_key(wire::MessageType::kRegister, key(1));
  send(fd.get(), w);
  EXPECT_TRUE(closed_by_server(fd.get()));
  EXPECT_EQ(closed(CloseReason::kAuthFailed), 1u);
  EXPECT_EQ(routes.route_count(), 0u);
}

TEST_F(ControlGuardTest, AProofIsGoodForItsOwnChallengeOnly) {
  ControlServer::Config c;
  c.secret = secret('s');
  start(c);
  // A recorded exchange replayed on a new connection meets a new challenge.
  UniqueFd first = connect();
  Nonce sn{}, cn{};
  ASSERT_EQ(handshake(first.get(), secret('s'), 7, &sn, &cn).size(), 1u);
  const Proof old = *secret('s').client_proof(sn, cn, 7);
  UniqueFd replay = connect();
  wire::FrameWriter w(1 << 16);
  w.hello(7);
  send(replay.get(), w);
  ASSERT_EQ(read(replay.get(), 1).size(), 1u);  // a fresh challenge
  w.auth(cn, old);
  send(replay.get(), w);
  EXPECT_TRUE(closed_by_server(replay.get()));
  EXPECT_EQ(closed(CloseReason::kAuthFailed), 1u);
}

TEST_F(ControlGuardTest, AuthFrameWithoutAChallengeCloses) {
  start(ControlServer::Config{});  // no secret here
  UniqueFd fd = connect();
  wire::FrameWriter w(1 << 16);
  Nonce n{};
  Proof p{};
  w.auth(n, p);
  send(fd.get(), w);
  EXPECT_TRUE(closed_by_server(fd.get()));
  EXPECT_EQ(closed(CloseReason::kAuthFailed), 1u);
}

}  // namespace
}  // namespace tc::intercept

#include "copy/control/intercept_link.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/counters.h"

namespace tc {
namespace {

// A tiny intercept on 127.0.0.1, served by the same event loop as the link.
class FakeIntercept {
 public:
  struct Peer {
    UniqueFd fd;
    EventLoop::Registration registration;  // ends before fd closes
    wire::FrameDecoder decoder;
    std::optional<uint32_t> hello_id;
    uint16_t hello_prefix = 0;
    std::vector<SessionKey> registered;
    std::vector<SessionKey> unregistered;
    size_t register_frames = 0;
    size_t pings = 0;
  };

  explicit FakeIntercept(EventLoop& loop, uint16_t port = 0) : loop_(loop) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int on = 1;
    setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listener_.get(), 16) != 0)
      throw std::system_error(errno, std::generic_category(), "fake intercept listen");
    socklen_t len = sizeof sa;
    getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    listening_ = loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { accept_all(); });
  }
  ~FakeIntercept() { close_peers(); }

  uint16_t port() const { return port_; }
  Endpoint endpoint() const { return Endpoint{*IpAddress::parse("127.0.0.1"), port_}; }

  void send(Peer& p, std::span<const uint8_t> bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(p.fd.get(), bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      at += static_cast<size_t>(n);
    }
  }
  void ack(Peer& p) {
    wire::FrameWriter w(1024);
    w.hello_ack();
    send(p, w.pending());
  }
  void close_peers() {
    for (auto& p : peers)
      if (p->fd) {
        p->registration.reset();
        p->fd.reset();
      }
  }

  size_t live_peers() const {
    return static_cast<size_t>(std::count_if(peers.begin(), peers.end(), [](const auto& p) { return bool(p->fd); }));
  }
  size_t hellos() const {
    return static_cast<size_t>(
        std::count_if(peers.begin(), peers.end(), [](const auto& p) { return p->fd && p->hello_id; }));
  }
  size_t total_registered() const {
    size_t n = 0;
    for (const auto& p : peers) n += p->registered.size();
    return n;
  }
  size_t total_unregistered() const {
    size_t n = 0;
    for (const auto& p : peers) n += p->unregistered.size();
    return n;
  }
  bool saw(const SessionKey& k) const {
    for (const auto& p : peers)
      if (std::find(p->registered.begin(), p->registered.end(), k) != p->registered.end()) return true;
    return false;
  }

  bool auto_ack = true;
  bool echo_pings = true;
  std::vector<std::unique_ptr<Peer>> peers;

 private:
  void accept_all() {
    while (true) {
      UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd) return;
      peers.push_back(std::make_unique<Peer>());
      Peer* p = peers.back().get();
      p->fd = std::move(fd);
      p->registration = loop_.add(p->fd.get(), EPOLLIN, [this, p](uint32_t) { read(*p); });
    }
  }
  void read(Peer& p) {
    auto space = p.decoder.write_space();
    const ssize_t n = ::read(p.fd.get(), space.data(), space.size());
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      p.registration.reset();
      p.fd.reset();
      return;
    }
    p.decoder.commit(static_cast<size_t>(n));
    while (auto f = p.decoder.next()) {
      switch (static_cast<wire::MessageType>(f->type)) {
        case wire::MessageType::kHello:
          if (auto h = wire::read_hello(f->payload)) {
            p.hello_id = h->instance_id;
            p.hello_prefix = h->payload_prefix;
          }
          if (auto_ack) ack(p);
          break;
        case wire::MessageType::kRegister:
          ++p.register_frames;
          wire::read_keys(f->payload, [&p](const SessionKey& k) { p.registered.push_back(k); });
          break;
        case wire::MessageType::kUnregister:
          wire::read_keys(f->payload, [&p](const SessionKey& k) { p.unregistered.push_back(k); });
          break;
        case wire::MessageType::kPing:
          ++p.pings;
          if (echo_pings) {
            wire::FrameWriter w(64);
            w.ping(wire::MessageType::kPong, wire::read_ping(f->payload).value_or(0));
            send(p, w.pending());
          }
          break;
        default: ADD_FAILURE() << "unexpected frame type " << int(f->type);
      }
    }
  }

  EventLoop& loop_;
  UniqueFd listener_;
  EventLoop::Registration listening_;
  uint16_t port_ = 0;
};

class RecordingHandler final : public ReplyHandler {
 public:
  void on_reply(std::span<const uint8_t> h) override { replies.emplace_back(h.begin(), h.end()); }
  void on_link_up() override {
    ++link_ups;
    if (on_up) on_up();
  }
  std::vector<std::vector<uint8_t>> replies;
  int link_ups = 0;
  std::function<void()> on_up;
};

SessionKey key(uint16_t client_port, const char* target = "10.0.0.9") {
  SessionKey k;
  k.client = *IpAddress::parse("192.0.2.10");
  k.target = *IpAddress::parse(target);
  k.client_port = client_port;
  k.target_port = 80;
  return k;
}

class InterceptLinkTest : public ::testing::Test {
 protected:
  InterceptLinkTest() {
    log_path = ::testing::TempDir() + "intercept_link_test_" + std::to_string(::getpid()) + ".log";
    std::remove(log_path.c_str());
    log.open(log_path);
  }
  ~InterceptLinkTest() override { std::remove(log_path.c_str()); }

  InterceptLinkOptions fast(size_t conns = 2) {
    InterceptLinkOptions o;
    o.connections_per_intercept = conns;
    o.backoff_min = 20ms;
    o.backoff_max = 160ms;
    o.connect_timeout = 500ms;
    o.hello_timeout = 500ms;
    return o;
  }

  // Runs the owner's loop (tick, flush, wait) until `done` or `limit`.
  bool pump(InterceptLink& link, const std::function<bool()>& done, Duration limit = 2s) {
    const TimePoint end = monotonic_now() + limit;
    while (true) {
      const TimePoint now = monotonic_now();
      link.tick(now);
      link.flush();
      if (done()) return true;
      if (now >= end) return false;
      loop.run_once(std::min<Duration>(link.next_timeout(now), 5ms));
    }
  }

  size_t log_lines_with(const std::string& needle) {
    std::ifstream in(log_path);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line))
      if (line.find(needle) != std::string::npos) ++n;
    return n;
  }

  EventLoop loop;
  Logger log;
  std::string log_path;
  RecordingHandler handler;
};

TEST_F(InterceptLinkTest, HelloFirstThenBatchedRegistrationsOnStableConnections) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(2));
  EXPECT_EQ(link.next_timeout(monotonic_now()), Duration{0});  // the first tick connects
  EXPECT_FALSE(link.register_session(key(1)));                 // nothing up yet

  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 2; }));
  ASSERT_EQ(fake.peers.size(), 2u);
  for (const auto& p : fake.peers) {
    ASSERT_TRUE(p->hello_id.has_value());
    EXPECT_EQ(*p->hello_id, link.instance_id());  // the same id on every connection
  }
  EXPECT_EQ(handler.link_ups, 2);
  EXPECT_EQ(link.stats().connects, 2u);
  EXPECT_EQ(link.intercepts_up(), 1u);

  for (uint16_t i = 1; i <= 200; ++i) ASSERT_TRUE(link.register_session(key(i)));
  for (uint16_t i = 1; i <= 20; ++i) link.unregister_session(key(i));
  ASSERT_TRUE(pump(link, [&] { return fake.total_registered() == 200 && fake.total_unregistered() == 20; }));
  // One flush, so one kRegister frame per connection carries all its keys.
  size_t frames = 0;
  for (const auto& p : fake.peers) frames += p->register_frames;
  EXPECT_LE(frames, 2u);
  EXPECT_GT(fake.peers[0]->registered.size(), 0u);  // both connections are used
  EXPECT_GT(fake.peers[1]->registered.size(), 0u);
  // A session's unregister travels on the connection its register used.
  for (const auto& p : fake.peers)
    for (const SessionKey& k : p->unregistered)
      EXPECT_NE(std::find(p->registered.begin(), p->registered.end(), k), p->registered.end()) << k.to_string();
  EXPECT_EQ(link.stats().registrations, 200u);
  EXPECT_EQ(link.stats().unregistrations, 20u);
  EXPECT_LE(link.next_timeout(monotonic_now()), Duration{1s});
}

TEST_F(InterceptLinkTest, NotUpUntilHelloAck) {
  FakeIntercept fake(loop);
  fake.auto_ack = false;
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return fake.hellos() == 1; }));
  pump(link, [] { return false; }, 30ms);
  EXPECT_EQ(link.connections_up(), 0u);
  EXPECT_FALSE(link.register_session(key(1)));
  EXPECT_EQ(handler.link_ups, 0);
  fake.ack(*fake.peers[0]);
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  EXPECT_EQ(handler.link_ups, 1);
  EXPECT_TRUE(link.register_session(key(1)));
}

TEST_F(InterceptLinkTest, HelloTimeoutRetries) {
  FakeIntercept fake(loop);
  fake.auto_ack = false;
  InterceptLinkOptions o = fast(1);
  o.hello_timeout = 50ms;
  InterceptLink link(loop, log, {fake.endpoint()}, handler, o);
  ASSERT_TRUE(pump(link, [&] { return link.stats().failures(LinkFailure::kHelloTimeout) >= 1; }));
  ASSERT_TRUE(pump(link, [&] { return fake.peers.size() >= 2; }));  // it tried again
}

TEST_F(InterceptLinkTest, RepliesReachTheHandlerAndUnknownFramesAreSkipped) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));

  wire::FrameWriter w(1 << 16);
  const std::vector<uint8_t> h1{0x45, 1, 2, 3}, h2(60, 0x45), h3{0x60, 9};
  w.add_reply(h1);
  w.add_reply(h2);
  // An unknown type between two reply frames.
  const uint8_t unknown[] = {0x54, 0x43, wire::kVersion, 99, 0, 0, 0, 3, 7, 7, 7};
  std::vector<uint8_t> bytes(w.pending().begin(), w.pending().end());
  bytes.insert(bytes.end(), std::begin(unknown), std::end(unknown));
  wire::FrameWriter w2(1 << 16);
  w2.add_reply(h3);
  bytes.insert(bytes.end(), w2.pending().begin(), w2.pending().end());
  fake.send(*fake.peers[0], bytes);

  ASSERT_TRUE(pump(link, [&] { return handler.replies.size() == 3; }));
  EXPECT_EQ(handler.replies[0], h1);
  EXPECT_EQ(handler.replies[1], h2);
  EXPECT_EQ(handler.replies[2], h3);
  EXPECT_EQ(link.stats().replies_received, 3u);
  EXPECT_EQ(link.stats().unknown_frames, 1u);
  EXPECT_EQ(link.connections_up(), 1u);
}

// An up connection measures its round trip about once a second; a pong
// from a stamp in the future (a broken peer) is not a sample.
TEST_F(InterceptLinkTest, PingsMeasureTheRoundTrip) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return link.stats().rtt.count() == 1; }));
  EXPECT_EQ(fake.peers[0]->pings, 1u);
  EXPECT_GT(link.stats().rtt.sum(), 0.0);
  EXPECT_LT(link.stats().rtt.sum(), 1.0);
  pump(link, [] { return false; }, 300ms);
  EXPECT_EQ(fake.peers[0]->pings, 1u) << "one a second, not one a turn";
  wire::FrameWriter w(64);
  w.ping(wire::MessageType::kPong, static_cast<uint64_t>((monotonic_now() + 1h).count()));
  fake.send(*fake.peers[0], w.pending());
  pump(link, [] { return false; }, 100ms);
  EXPECT_EQ(link.stats().rtt.count(), 1u);
  EXPECT_EQ(link.stats().unknown_frames, 0u);
  ASSERT_TRUE(pump(link, [&] { return fake.peers[0]->pings == 2; }, 2s));
}

TEST_F(InterceptLinkTest, HelloAsksForTheReplyPrefixAndRepliesKeepIt) {
  FakeIntercept fake(loop);
  InterceptLinkOptions o = fast(1);
  o.reply_prefix = 64;
  InterceptLink link(loop, log, {fake.endpoint()}, handler, o);
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  EXPECT_EQ(fake.peers[0]->hello_prefix, 64);

  // Headers and prefix reach the handler as they came.
  std::vector<uint8_t> entry(40 + 64, 0x45);
  wire::FrameWriter w(1 << 16);
  w.add_reply(entry);
  fake.send(*fake.peers[0], w.pending());
  ASSERT_TRUE(pump(link, [&] { return handler.replies.size() == 1; }));
  EXPECT_EQ(handler.replies[0], entry);
}

TEST_F(InterceptLinkTest, ReplyPrefixIsCappedAndDefaultsToNone) {
  FakeIntercept fake(loop);
  InterceptLinkOptions o = fast(1);
  o.reply_prefix = 4000;
  InterceptLink capped(loop, log, {fake.endpoint()}, handler, o);
  InterceptLink plain(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(capped, [&] { return fake.hellos() == 1; }));
  ASSERT_TRUE(pump(plain, [&] { return fake.hellos() == 2; }));
  std::vector<uint16_t> prefixes;
  for (const auto& p : fake.peers) prefixes.push_back(p->hello_prefix);
  std::sort(prefixes.begin(), prefixes.end());
  EXPECT_EQ(prefixes, (std::vector<uint16_t>{0, wire::kMaxReplyPrefix}));
}

// An intercept of another release answers in its own version: the failure
// names both versions instead of a bare "bad frame".
TEST_F(InterceptLinkTest, AnInterceptOfAnotherVersionIsNamed) {
  FakeIntercept fake(loop);
  fake.auto_ack = false;
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return fake.hellos() == 1; }));
  const uint8_t v1_ack[] = {0x54, 0x43, 1, 2, 0, 0, 0, 2, 0, 0};
  fake.send(*fake.peers[0], v1_ack);
  ASSERT_TRUE(pump(link, [&] { return link.stats().failures(LinkFailure::kBadVersion) == 1; }));
  EXPECT_EQ(link.stats().bad_frames, 0u);
  EXPECT_EQ(link.connections_up(), 0u);
  EXPECT_EQ(log_lines_with("control protocol version 1 from " + fake.endpoint().to_string() +
                           ", this tcpcopy speaks version 2: upgrade both sides to the same release"),
            1u);
}

TEST_F(InterceptLinkTest, AnInterceptThatTurnsTheConnectionAwayIsQuoted) {
  FakeIntercept fake(loop);
  fake.auto_ack = false;
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return fake.hellos() == 1; }));
  wire::FrameWriter w(1024);
  w.turned_away(wire::TurnAwayReason::kHandshakeFull, "too many connections in intercept's handshake");
  fake.send(*fake.peers[0], w.pending());
  ASSERT_TRUE(pump(link, [&] { return link.stats().failures(LinkFailure::kTurnedAway) == 1; }));
  EXPECT_EQ(link.connections_up(), 0u);
  EXPECT_EQ(link.stats().unknown_frames, 0u);
  EXPECT_EQ(log_lines_with("hello failed: turned_away (the intercept turned this connection away: too many "
                           "connections in intercept's handshake)"),
            1u);
}

TEST_F(InterceptLinkTest, BadFrameClosesTheConnectionWhichComesBack) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  const uint8_t garbage[] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
  fake.send(*fake.peers[0], garbage);
  ASSERT_TRUE(pump(link, [&] { return link.stats().lost(LinkFailure::kBadFrame) == 1; }));
  EXPECT_EQ(link.stats().bad_frames, 1u);
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  EXPECT_EQ(handler.link_ups, 2);
  EXPECT_EQ(fake.peers.size(), 2u);
}

TEST_F(InterceptLinkTest, InterceptClosingLeadsToBackoffReconnectAndReRegistration) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(2));
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 2; }));
  ASSERT_TRUE(link.register_session(key(1)));
  ASSERT_TRUE(pump(link, [&] { return fake.total_registered() == 1; }));

  // The owner re-registers its live sessions whenever a connection comes up.
  handler.on_up = [&] { EXPECT_TRUE(link.register_session(key(1))); };
  fake.close_peers();
  const TimePoint closed_at = monotonic_now();
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 0; }));
  EXPECT_FALSE(link.register_session(key(2)));  // nothing up: the engine counts "no intercept"
  EXPECT_EQ(link.stats().lost(LinkFailure::kEof), 2u);
  EXPECT_EQ(log_lines_with("connection lost: eof"), 2u);

  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 2; }));
  EXPECT_GE(monotonic_now() - closed_at, Duration{20ms});  // not before the backoff
  EXPECT_EQ(handler.link_ups, 4);
  ASSERT_TRUE(pump(link, [&] { return fake.total_registered() >= 2; }));
  size_t re_registered = 0;
  for (size_t i = 2; i < fake.peers.size(); ++i) re_registered += fake.peers[i]->registered.size();
  EXPECT_GE(re_registered, 1u);
  EXPECT_TRUE(link.register_session(key(2)));
}

TEST_F(InterceptLinkTest, RefusedConnectionsBackOffLogOnceAndRecover) {
  uint16_t port = 0;
  {
    FakeIntercept probe(loop);
    port = probe.port();
  }  // nothing listens there now
  const Endpoint ep{*IpAddress::parse("127.0.0.1"), port};
  InterceptLink link(loop, log, {ep}, handler, fast(2));
  pump(link, [] { return false; }, 400ms);
  const uint64_t refused = link.stats().failures(LinkFailure::kRefused);
  // 20, 40, 80, 160, 160 ms... : a handful of attempts per connection, not hundreds.
  EXPECT_GE(refused, 4u);
  EXPECT_LE(refused, 20u);
  EXPECT_EQ(log_lines_with("cannot connect: refused"), 2u);  // once per connection
  EXPECT_FALSE(link.register_session(key(1)));

  FakeIntercept fake(loop, port);
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 2; }));
  EXPECT_EQ(handler.link_ups, 2);
  EXPECT_TRUE(link.register_session(key(1)));
  EXPECT_EQ(log_lines_with(": up"), 2u);
}

TEST_F(InterceptLinkTest, FullWriterShedsInsteadOfBlocking) {
  FakeIntercept fake(loop);
  InterceptLinkOptions o = fast(1);
  o.writer_bytes = 0;  // raised to the smallest useful size: one full frame
  InterceptLink link(loop, log, {fake.endpoint()}, handler, o);
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  uint16_t accepted = 0;
  while (link.register_session(key(accepted))) ++accepted;  // no flush: the writer fills
  EXPECT_GT(accepted, 1000u);
  EXPECT_EQ(link.stats().registrations_shed, 1u);
  link.unregister_session(key(0));
  EXPECT_EQ(link.stats().unregistrations_shed, 1u);
  ASSERT_TRUE(pump(link, [&] { return fake.total_registered() == accepted; }));
  EXPECT_TRUE(link.register_session(key(accepted)));
}

TEST_F(InterceptLinkTest, EveryInterceptGetsRegistrationsButReplayGoesToTheNewOneOnly) {
  FakeIntercept a(loop), b(loop);
  InterceptLink link(loop, log, {a.endpoint(), b.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return link.intercepts_up() == 2; }));
  ASSERT_TRUE(link.register_session(key(1)));
  ASSERT_TRUE(pump(link, [&] { return a.saw(key(1)) && b.saw(key(1)); }));

  handler.on_up = [&] { EXPECT_TRUE(link.register_session(key(7))); };
  b.close_peers();
  ASSERT_TRUE(pump(link, [&] { return link.intercepts_up() == 1; }));
  EXPECT_TRUE(link.register_session(key(2)));  // one intercept is enough
  ASSERT_TRUE(pump(link, [&] { return link.intercepts_up() == 2 && b.saw(key(7)); }));
  pump(link, [] { return false; }, 20ms);
  EXPECT_FALSE(a.saw(key(7)));
  EXPECT_TRUE(a.saw(key(2)));
  EXPECT_FALSE(b.saw(key(2)));
}

TEST_F(InterceptLinkTest, ReportListsEveryCounter) {
  FakeIntercept fake(loop);
  InterceptLink link(loop, log, {fake.endpoint()}, handler, fast(1));
  ASSERT_TRUE(pump(link, [&] { return link.connections_up() == 1; }));
  CounterText text;
  link.report(text);
  const std::string line = text.line(true);
  for (const char* name : {"link_connects=1", "link_connect_failures{refused}=0", "link_disconnects{eof}=0",
                           "link_registrations=0", "link_registrations_shed=0", "link_replies_received=0",
                           "link_unknown_frames=0", "link_bad_frames=0"})
    EXPECT_NE(line.find(name), std::string::npos) << name << " in " << line;
}

TEST(InterceptLinkConfig, NeedsAnIntercept) {
  EventLoop loop;
  Logger log;
  RecordingHandler h;
  EXPECT_THROW(InterceptLink(loop, log, {}, h), std::invalid_argument);
}

}  // namespace
}  // namespace tc

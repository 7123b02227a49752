// Sessions whose copy cannot work (TLS, HTTP/2, SSH) are told by their
// first payload, counted once per captured session, still replicated, and
// reported in a few log lines.
#include <gtest/gtest.h>

#include <string>

#include "common/metrics_text.h"
#include "copy/engine/unreplayable.h"
#include "engine_harness.h"

namespace tc::test {
namespace {

using namespace std::chrono_literals;

// A TLS 1.2 record holding the start of a ClientHello.
std::string client_hello() {
  std::string b = {'\x16', '\x03', '\x01', '\x00', '\x40', '\x01', '\x00', '\x00', '\x3c', '\x03', '\x03'};
  b.resize(0x45, 'h');
  return b;
}

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint64_t count(const EngineCounters& c, UnreplayableReason r) {
  return c.sessions_unreplayable[static_cast<size_t>(r)];
}

TEST(UnreplayableKind, TellsTheProtocolsWhoseCopyCannotWork) {
  EXPECT_EQ(unreplayable_kind(bytes(client_hello())), UnreplayableReason::kTls);
  EXPECT_EQ(unreplayable_kind(bytes(kPreface)), UnreplayableReason::kHttp2);
  EXPECT_EQ(unreplayable_kind(bytes("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")), UnreplayableReason::kSsh);
  EXPECT_EQ(unreplayable_kind(bytes("SSH-1.99-old\r\n")), UnreplayableReason::kSsh);
  // A joined session's encrypted data: an application_data record.
  const std::string app_data = {'\x17', '\x03', '\x03', '\x01', '\x00', '\x8a', '\x11'};
  EXPECT_EQ(unreplayable_kind(bytes(app_data)), UnreplayableReason::kTls);
}

TEST(UnreplayableKind, LeavesOtherProtocolsAlone) {
  EXPECT_FALSE(unreplayable_kind(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  EXPECT_FALSE(unreplayable_kind(bytes("PRI is not a method\r\n")));
  EXPECT_FALSE(unreplayable_kind(bytes("*1\r\n$4\r\nPING\r\n")));
  EXPECT_FALSE(unreplayable_kind(bytes("SSH")));
  EXPECT_FALSE(unreplayable_kind({}));
  // Looks like a handshake record but is no ClientHello (a ServerHello).
  std::string server_hello = client_hello();
  server_hello[5] = '\x02';
  EXPECT_FALSE(unreplayable_kind(bytes(server_hello)));
  // A record type, version or length no TLS sends.
  for (int i : {0, 2, 3}) {
    std::string b = client_hello();
    b[static_cast<size_t>(i)] = '\x7f';
    EXPECT_FALSE(unreplayable_kind(bytes(b))) << "byte " << i;
  }
  std::string empty_record = client_hello();
  empty_record[3] = empty_record[4] = '\0';
  EXPECT_FALSE(unreplayable_kind(bytes(empty_record)));
  // Too short to tell.
  EXPECT_FALSE(unreplayable_kind(bytes(std::string{'\x16', '\x03', '\x01'})));
}

class UnreplayableTest : public EngineTest {};

TEST_F(UnreplayableTest, CountsATlsSessionOnceAndStillReplicatesIt) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = client_hello()});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload(), client_hello());
  EXPECT_EQ(count(c(), UnreplayableReason::kTls), 1u);
  // The client's retransmission and later records do not count again.
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = client_hello()});
  capture({.seq = 1001 + 0x45, .ack = 9001, .flags = A | P, .data = client_hello()});
  EXPECT_EQ(count(c(), UnreplayableReason::kTls), 1u);
  EXPECT_EQ(count(c(), UnreplayableReason::kHttp2), 0u);
  const auto& seen = engine->unreplayable_seen()[static_cast<size_t>(UnreplayableReason::kTls)];
  EXPECT_EQ(seen.client, (Endpoint{kClient, kClientPort}));
  EXPECT_EQ(seen.online_port, 80);
}

TEST_F(UnreplayableTest, CountsTheHttp2PrefaceAndSsh) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kPreface});
  capture({.seq = 5000, .flags = S, .sport = 40001});
  capture({.seq = 5001, .ack = 9001, .flags = A | P, .data = "SSH-2.0-OpenSSH_9.2\r\n", .sport = 40001});
  EXPECT_EQ(count(c(), UnreplayableReason::kHttp2), 1u);
  EXPECT_EQ(count(c(), UnreplayableReason::kSsh), 1u);
  EXPECT_EQ(count(c(), UnreplayableReason::kTls), 0u);
}

TEST_F(UnreplayableTest, CountsOnlyTheFirstPayload) {
  make();
  handshake(1000, 70000);
  const std::string get = "GET / HTTP/1.1\r\n\r\n";
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = get});
  capture({.seq = 1001 + static_cast<uint32_t>(get.size()), .ack = 9100, .flags = A | P, .data = kPreface});
  for (size_t k = 0; k < kUnreplayableKinds; ++k) EXPECT_EQ(c().sessions_unreplayable[k], 0u);
}

TEST_F(UnreplayableTest, AJoinedSessionIsJudgedOnItsFirstBytesSeen) {
  make();
  const std::string app_data = {'\x17', '\x03', '\x03', '\x00', '\x05', 'a', 'b', 'c', 'd', 'e'};
  capture({.seq = 77001, .ack = 9001, .flags = A | P, .data = app_data});
  EXPECT_EQ(c().sessions_joined, 1u);
  EXPECT_EQ(count(c(), UnreplayableReason::kTls), 1u);
}

TEST_F(UnreplayableTest, CopiesOfOneSessionCountOnce) {
  auto cfg = default_config();
  cfg.copies = 3;
  make(cfg);
  capture({.seq = 1000, .flags = S, .window = 64240, .mss = 1460, .wscale = 7});
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = kPreface});
  EXPECT_EQ(c().sessions_created, 3u);
  EXPECT_EQ(count(c(), UnreplayableReason::kHttp2), 1u);
}

TEST_F(UnreplayableTest, ExportsALabelledCounter) {
  make();
  handshake(1000, 70000);
  capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = client_hello()});
  PrometheusText text("tcpcopy");
  c().report(text);
  const std::string t = text.text();
  EXPECT_NE(t.find("# TYPE tcpcopy_sessions_unreplayable_total counter\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tcpcopy_sessions_unreplayable_total{reason=\"tls\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tcpcopy_sessions_unreplayable_total{reason=\"http2\"} 0\n"), std::string::npos) << t;
}

TEST(UnreplayableNotices, SaysEachKindAtOnceThenAtMostOncePerPeriod) {
  UnreplayableNotices notices(10min);
  EngineCounters c;
  std::array<UnreplayableSeen, kUnreplayableKinds> seen{};
  seen[0] = {Endpoint{*IpAddress::parse("10.0.1.2"), 40000}, 443};
  TimePoint now{1000s};
  EXPECT_TRUE(notices.due(c, seen, now).empty());

  c.sessions_unreplayable[0] = 1;
  auto lines = notices.due(c, seen, now);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("1 tls session(s)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("10.0.1.2:40000 to port 443"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("TLS terminator"), std::string::npos) << lines[0];

  // More of the same kind within the period: quiet; another kind: at once.
  c.sessions_unreplayable[0] = 5;
  c.sessions_unreplayable[1] = 1;
  lines = notices.due(c, seen, now + 1min);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("1 http2 session(s)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("-O"), std::string::npos) << lines[0];
  EXPECT_TRUE(notices.due(c, seen, now + 9min).empty());

  // After the period, the ones since, once.
  lines = notices.due(c, seen, now + 10min);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("4 more tls session(s)"), std::string::npos) << lines[0];
  EXPECT_TRUE(notices.due(c, seen, now + 30min).empty());
}

}  // namespace
}  // namespace tc::test

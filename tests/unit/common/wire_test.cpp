#include "common/wire.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace tc::wire {
namespace {

SessionKey key(uint16_t port) {
  SessionKey k;
  k.client = *IpAddress::parse("10.0.0.1");
  k.target = *IpAddress::parse("2001:db8::5");
  k.client_port = port;
  k.target_port = 80;
  return k;
}

// Feeds `bytes` to a decoder `chunk` bytes at a time; collects the frames.
std::vector<std::pair<uint8_t, std::vector<uint8_t>>> decode(std::span<const uint8_t> bytes, size_t chunk,
                                                             WireError* err = nullptr) {
  FrameDecoder d;
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> frames;
  size_t at = 0;
  while (at < bytes.size()) {
    auto space = d.write_space();
    if (space.empty()) break;
    const size_t n = std::min({chunk, space.size(), bytes.size() - at});
    std::memcpy(space.data(), bytes.data() + at, n);
    d.commit(n);
    at += n;
    while (auto f = d.next()) frames.emplace_back(f->type, std::vector<uint8_t>(f->payload.begin(), f->payload.end()));
  }
  if (err) *err = d.error();
  return frames;
}

TEST(Wire, KeysAreBatchedIntoOneFrame) {
  FrameWriter w(1 << 20);
  for (uint16_t p = 1; p <= 100; ++p) ASSERT_TRUE(w.add_key(MessageType::kRegister, key(p)));
  auto frames = decode(w.pending(), 7);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(MessageType::kRegister));
  std::vector<SessionKey> got;
  EXPECT_EQ(read_keys(frames[0].second, [&](const SessionKey& k) { got.push_back(k); }), WireError::kNone);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[41], key(42));
}

TEST(Wire, TypeChangeStartsNewFrameAndOrderIsKept) {
  FrameWriter w(1 << 20);
  w.hello(7);
  w.add_key(MessageType::kRegister, key(1));
  w.add_key(MessageType::kUnregister, key(1));
  w.add_key(MessageType::kRegister, key(2));
  const uint8_t hdr[3] = {0x45, 0, 1};
  w.add_reply(hdr);
  auto frames = decode(w.pending(), 1000);
  ASSERT_EQ(frames.size(), 5u);
  ASSERT_TRUE(read_hello(frames[0].second));
  EXPECT_EQ(read_hello(frames[0].second)->instance_id, 7u);
  EXPECT_EQ(frames[2].first, static_cast<uint8_t>(MessageType::kUnregister));
  int replies = 0;
  EXPECT_EQ(read_replies(frames[4].second, [&](std::span<const uint8_t> h) {
              EXPECT_EQ(h.size(), 3u);
              ++replies;
            }),
            WireError::kNone);
  EXPECT_EQ(replies, 1);
}

TEST(Wire, FrameSplitsWhenPayloadLimitReached) {
  FrameWriter w(4 << 20);
  std::vector<uint8_t> hdr(200, 0x45);
  const int n = 1000;  // 1000 * 202 bytes > 64 KiB
  for (int i = 0; i < n; ++i) ASSERT_TRUE(w.add_reply(hdr));
  auto frames = decode(w.pending(), 4096);
  ASSERT_GT(frames.size(), 1u);
  int total = 0;
  for (auto& f : frames) {
    EXPECT_LE(f.second.size(), kMaxPayload);
    read_replies(f.second, [&](std::span<const uint8_t>) { ++total; });
  }
  EXPECT_EQ(total, n);
}

TEST(Wire, BoundedWriterRefusesWhenFull) {
  FrameWriter w(200);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += w.add_key(MessageType::kRegister, key(1)) ? 1 : 0;
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);
  EXPECT_LE(w.pending_bytes(), 200u);
}

TEST(Wire, PartialConsumeKeepsStreamIntact) {
  FrameWriter w(1 << 20);
  w.add_key(MessageType::kRegister, key(1));
  std::vector<uint8_t> sent(w.pending().begin(), w.pending().begin() + 10);
  w.consume(10);
  w.add_key(MessageType::kRegister, key(2));  // must not grow the half-sent frame
  sent.insert(sent.end(), w.pending().begin(), w.pending().end());
  auto frames = decode(sent, 3);
  ASSERT_EQ(frames.size(), 2u);
}

TEST(Wire, CorruptStreamsAreRejected) {
  FrameWriter w(1 << 20);
  w.add_key(MessageType::kRegister, key(1));
  std::vector<uint8_t> bytes(w.pending().begin(), w.pending().end());
  WireError err{};
  auto bad_magic = bytes;
  bad_magic[0] = 0;
  EXPECT_TRUE(decode(bad_magic, 100, &err).empty());
  EXPECT_EQ(err, WireError::kBadMagic);
  auto bad_version = bytes;
  bad_version[2] = 9;
  decode(bad_version, 100, &err);
  EXPECT_EQ(err, WireError::kBadVersion);
  auto too_long = bytes;
  too_long[4] = 0x7f;
  decode(too_long, 100, &err);
  EXPECT_EQ(err, WireError::kTooLong);
  // Count that disagrees with the length is a bad payload, not a crash.
  auto frames = decode(bytes, 100, &err);
  ASSERT_EQ(frames.size(), 1u);
  auto payload = frames[0].second;
  payload[1] = 2;
  EXPECT_EQ(read_keys(payload, [](const SessionKey&) {}), WireError::kBadPayload);
  const std::vector<uint8_t> replies{0, 1, 0, 0};
  EXPECT_EQ(read_replies(replies, [](std::span<const uint8_t>) {}), WireError::kBadPayload);
}

TEST(Wire, UnknownTypeIsDeliveredForTheReaderToSkip) {
  std::vector<uint8_t> bytes{0x54, 0x43, kVersion, 99, 0, 0, 0, 2, 0xaa, 0xbb};
  auto frames = decode(bytes, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, 99);
}

TEST(WireV2, HelloCarriesThePayloadPrefix) {
  FrameWriter w(1 << 16);
  ASSERT_TRUE(w.hello(0xdeadbeef, 64));
  const std::vector<uint8_t> bytes(w.pending().begin(), w.pending().end());
  ASSERT_EQ(bytes.size(), kHeaderSize + 8);
  EXPECT_EQ(bytes[2], 2);  // the version byte
  auto frames = decode(bytes, 3);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(MessageType::kHello));
  const auto h = read_hello(frames[0].second);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->instance_id, 0xdeadbeefu);
  EXPECT_EQ(h->flags, 0);
  EXPECT_EQ(h->payload_prefix, 64);
}

TEST(WireV2, PayloadPrefixIsCapped) {
  FrameWriter w(1 << 16);
  ASSERT_TRUE(w.hello(1, 60000));
  auto frames = decode(w.pending(), 100);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(read_hello(frames[0].second)->payload_prefix, kMaxReplyPrefix);
  // A peer that writes more is read as asking for the cap.
  const std::vector<uint8_t> greedy{0, 0, 0, 1, 0, 0, 0xff, 0xff};
  EXPECT_EQ(read_hello(greedy)->payload_prefix, kMaxReplyPrefix);
  const std::vector<uint8_t> none{0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(read_hello(none)->payload_prefix, 0);
}

TEST(WireV2, VersionOneHelloPayloadIsTooShort) {
  const std::vector<uint8_t> v1{0, 0, 0, 1, 0, 0};  // id and flags only
  EXPECT_FALSE(read_hello(v1));
}

TEST(WireV2, AnOlderVersionIsRefusedAndNamed) {
  // A version 1 tcpcopy's hello, as it is on the wire.
  const std::vector<uint8_t> v1_hello{0x54, 0x43, 1, 1, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0};
  FrameDecoder d;
  auto space = d.write_space();
  std::memcpy(space.data(), v1_hello.data(), v1_hello.size());
  d.commit(v1_hello.size());
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.error(), WireError::kBadVersion);
  EXPECT_EQ(d.bad_version(), 1);
  EXPECT_TRUE(d.write_space().empty());  // the error stays
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.bad_version(), 1);
}

TEST(WireV2, ReplyEntriesCarryHeadersAndPrefix) {
  FrameWriter w(1 << 16);
  const std::vector<uint8_t> longest(kMaxReplyEntry, 0x45);
  const std::vector<uint8_t> too_long(kMaxReplyEntry + 1, 0x45);
  EXPECT_TRUE(w.add_reply(longest));
  EXPECT_FALSE(w.add_reply(too_long));
  EXPECT_FALSE(w.add_reply({}));
  auto frames = decode(w.pending(), 100);
  ASSERT_EQ(frames.size(), 1u);
  std::vector<size_t> sizes;
  EXPECT_EQ(read_replies(frames[0].second, [&](std::span<const uint8_t> e) { sizes.push_back(e.size()); }),
            WireError::kNone);
  EXPECT_EQ(sizes, std::vector<size_t>{kMaxReplyEntry});
  // An entry longer than the protocol allows is a bad payload.
  std::vector<uint8_t> payload{0, 1, static_cast<uint8_t>((kMaxReplyEntry + 1) >> 8),
                               static_cast<uint8_t>(kMaxReplyEntry + 1)};
  payload.resize(payload.size() + kMaxReplyEntry + 1, 0x45);
  EXPECT_EQ(read_replies(payload, [](std::span<const uint8_t>) {}), WireError::kBadPayload);
}

}  // namespace
}  // namespace tc::wire

namespace tc::wire {
namespace {

TEST(WireAuth, ChallengeAuthAndHelloAckRoundTrip) {
  FrameWriter w(1 << 16);
  std::array<uint8_t, kAuthBytes> n{}, p{};
  n.fill(0x11);
  p.fill(0x22);
  ASSERT_TRUE(w.challenge(n));
  ASSERT_TRUE(w.auth(n, p));
  ASSERT_TRUE(w.hello_ack(p));
  ASSERT_TRUE(w.hello_ack());
  auto frames = decode(w.pending(), 5);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(MessageType::kChallenge));
  EXPECT_EQ(read_challenge(frames[0].second), n);
  auto a = read_auth(frames[1].second);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->nonce, n);
  EXPECT_EQ(a->proof, p);
  auto ack = read_hello_ack(frames[2].second);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags, kAckProof);
  EXPECT_EQ(ack->proof, p);
  auto plain = read_hello_ack(frames[3].second);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->flags, 0);
  EXPECT_FALSE(plain->proof);
}

TEST(WireAuth, MalformedAuthPayloadsAreRefused) {
  std::vector<uint8_t> b(64, 1);
  EXPECT_FALSE(read_challenge(std::span(b).first(31)));
  EXPECT_FALSE(read_challenge(std::span(b).first(33)));
  EXPECT_FALSE(read_auth(std::span(b).first(63)));
  EXPECT_FALSE(read_auth({}));
  EXPECT_TRUE(read_auth(b));
  EXPECT_FALSE(read_hello_ack({}));
  std::vector<uint8_t> ack{0, 1, 5, 5};  // kAckProof without the proof
  EXPECT_FALSE(read_hello_ack(ack));
}

TEST(WireAuth, ProofOfTheWrongSizeIsNotWritten) {
  FrameWriter w(1 << 16);
  std::vector<uint8_t> short_proof(5);
  EXPECT_FALSE(w.hello_ack(short_proof));
  EXPECT_TRUE(w.empty());
}

TEST(WireWriter, StartsSmallAndGrowsToItsCap) {
  FrameWriter w(1 << 20);
  std::vector<uint8_t> hdr(200, 0x45);
  size_t n = 0;
  while (w.add_reply(hdr)) ++n;
  EXPECT_GT(n, 5000u);
  EXPECT_LE(w.pending_bytes(), size_t{1} << 20);
  auto frames = decode(w.pending(), 65536);
  size_t replies = 0;
  for (auto& f : frames) read_replies(f.second, [&](std::span<const uint8_t>) { ++replies; });
  EXPECT_EQ(replies, n);
}

TEST(WireWriter, AllocatesAtTheFirstFrameAndReleasesWhenEmpty) {
  FrameWriter w(1 << 20);
  EXPECT_EQ(w.capacity(), 0u) << "an idle connection's writer holds nothing";
  w.hello(1);
  EXPECT_GE(w.capacity(), kWriterStartBytes);
  EXPECT_LE(w.capacity(), 2 * kWriterStartBytes);
  w.release();
  EXPECT_GT(w.capacity(), 0u) << "not while output waits";
  w.consume(w.pending_bytes());
  w.release();
  EXPECT_EQ(w.capacity(), 0u);
  EXPECT_TRUE(w.hello(2));
  EXPECT_EQ(decode(w.pending(), 7).size(), 1u);
}

TEST(WireDecoder, GrowsWithTheFramesAndReleasesWhenIdle) {
  FrameDecoder d;
  EXPECT_EQ(d.capacity(), 0u) << "nothing before the first read";
  FrameWriter small(1 << 16);
  small.hello(1);
  auto space = d.write_space();
  EXPECT_EQ(space.size(), kDecoderStartBytes);
  std::memcpy(space.data(), small.pending().data(), small.pending_bytes());
  d.commit(small.pending_bytes());
  ASSERT_TRUE(d.next());
  EXPECT_EQ(d.capacity(), kDecoderStartBytes) << "a handshake costs a small buffer";

  // A 36 KB frame: the buffer grows to hold it, and no further than needed.
  FrameWriter big(1 << 20);
  for (uint16_t p = 0; p < 1000; ++p) big.add_key(MessageType::kRegister, SessionKey{});
  const auto bytes = big.pending();
  size_t at = 0;
  size_t frames = 0;
  while (at < bytes.size()) {
    space = d.write_space();
    ASSERT_FALSE(space.empty());
    const size_t n = std::min(space.size(), bytes.size() - at);
    std::memcpy(space.data(), bytes.data() + at, n);
    d.commit(n);
    at += n;
    while (d.next()) ++frames;
  }
  EXPECT_EQ(frames, 1u);
  EXPECT_GE(d.capacity(), bytes.size());
  EXPECT_LE(d.capacity(), kDecoderMaxBytes);
  d.release();
  EXPECT_EQ(d.capacity(), 0u);

  // Not while a frame is partly read.
  space = d.write_space();
  std::memcpy(space.data(), bytes.data(), 10);
  d.commit(10);
  d.release();
  EXPECT_GT(d.capacity(), 0u);
}

TEST(WirePing, RoundTripAndSize) {
  FrameWriter w(1 << 10);
  ASSERT_TRUE(w.ping(MessageType::kPing, 0x0102030405060708ull));
  ASSERT_TRUE(w.ping(MessageType::kPong, 42));
  EXPECT_FALSE(w.ping(MessageType::kHello, 1)) << "only kPing and kPong carry a stamp";
  auto frames = decode(w.pending(), 3);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(MessageType::kPing));
  EXPECT_EQ(frames[0].second, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(read_ping(frames[0].second), 0x0102030405060708ull);
  EXPECT_EQ(frames[1].first, static_cast<uint8_t>(MessageType::kPong));
  EXPECT_EQ(read_ping(frames[1].second), 42u);
  const std::vector<uint8_t> short_one(7, 0), long_one(9, 0);
  EXPECT_FALSE(read_ping(short_one));
  EXPECT_FALSE(read_ping(long_one));
}

TEST(WireTurnedAway, RoundTripAndLimits) {
  FrameWriter w(1 << 16);
  ASSERT_TRUE(w.turned_away(TurnAwayReason::kHandshakeFull, "too many\nconnections"));
  ASSERT_TRUE(w.turned_away(TurnAwayReason::kNotAllowed, std::string(500, 'x')));
  auto frames = decode(w.pending(), 3);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].first, static_cast<uint8_t>(MessageType::kTurnedAway));
  auto t = read_turned_away(frames[0].second);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->reason, static_cast<uint16_t>(TurnAwayReason::kHandshakeFull));
  EXPECT_EQ(t->text, "too many?connections") << "only printable text reaches a log";
  t = read_turned_away(frames[1].second);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text.size(), kMaxTurnAwayText);
  EXPECT_FALSE(read_turned_away(std::vector<uint8_t>{0}));
  EXPECT_FALSE(read_turned_away(std::vector<uint8_t>(2 + kMaxTurnAwayText + 1, 'a')));
}

}  // namespace
}  // namespace tc::wire

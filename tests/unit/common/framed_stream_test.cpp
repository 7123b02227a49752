// FramedStream over a socketpair: the peer end is written and read by hand.
#include "common/framed_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <vector>

namespace tc {
namespace {

using Kind = FramedStream::ReadResult::Kind;
using WriteKind = FramedStream::WriteResult::Kind;

struct Pair {
  FramedStream stream;
  UniqueFd peer;
};

Pair make_pair(size_t writer_bytes = 1 << 20) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) ADD_FAILURE() << "socketpair";
  return Pair{FramedStream(UniqueFd(fds[0]), writer_bytes), UniqueFd(fds[1])};
}

// Encoded frames, as a peer would send them.
std::vector<uint8_t> hellos(std::initializer_list<uint32_t> ids) {
  wire::FrameWriter w(1 << 16);
  for (uint32_t id : ids) w.hello(id);
  const auto p = w.pending();
  return {p.begin(), p.end()};
}

void put(const UniqueFd& fd, std::span<const uint8_t> bytes) {
  ASSERT_EQ(::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

// Reads every frame the stream has, collecting hello ids.
FramedStream::ReadResult read_ids(FramedStream& s, std::vector<uint32_t>& ids) {
  return s.read([&](const wire::Frame& f) {
    ids.push_back(wire::read_hello(f.payload).value_or(wire::Hello{}).instance_id);
    return true;
  });
}

TEST(FramedStream, NothingToReadIsAgain) {
  Pair p = make_pair();
  std::vector<uint32_t> ids;
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_TRUE(ids.empty());
}

TEST(FramedStream, SeveralFramesInOneRead) {
  Pair p = make_pair();
  put(p.peer, hellos({1, 2, 3}));
  std::vector<uint32_t> ids;
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 2, 3}));
}

TEST(FramedStream, PartialFrameWaitsForTheRest) {
  Pair p = make_pair();
  const std::vector<uint8_t> bytes = hellos({7, 8});
  const size_t cut = wire::kHeaderSize + 3;  // inside the first frame's payload
  put(p.peer, std::span(bytes).first(cut));
  std::vector<uint32_t> ids;
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_TRUE(ids.empty());
  put(p.peer, std::span(bytes).subspan(cut, 6));  // the first frame ends, the second starts
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{7}));
  put(p.peer, std::span(bytes).subspan(cut + 6));
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{7, 8}));
}

TEST(FramedStream, PeerCloseIsEofAfterTheLastFrames) {
  Pair p = make_pair();
  put(p.peer, hellos({4}));
  p.peer.reset();
  std::vector<uint32_t> ids;
  // A short read counts as drained; the next read sees the end.
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{4}));
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kEof);
}

TEST(FramedStream, CallbackStopsReading) {
  Pair p = make_pair();
  put(p.peer, hellos({1, 2}));
  int calls = 0;
  EXPECT_EQ(p.stream.read([&](const wire::Frame&) { return ++calls < 1; }).kind, Kind::kStopped);
  EXPECT_EQ(calls, 1);
  // The second frame is still there for the next read.
  std::vector<uint32_t> ids;
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{2}));
}

TEST(FramedStream, CallbackMayCloseTheStream) {
  Pair p = make_pair();
  put(p.peer, hellos({1, 2}));
  int calls = 0;
  const auto r = p.stream.read([&](const wire::Frame&) {
    ++calls;
    p.stream.close();
    return true;
  });
  EXPECT_EQ(r.kind, Kind::kStopped);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(p.stream.is_open());
}

TEST(FramedStream, FrameTooLargeIsABadFrame) {
  Pair p = make_pair();
  p.stream.set_max_payload(4);  // a hello's payload is 6 bytes
  put(p.peer, hellos({1}));
  std::vector<uint32_t> ids;
  const auto r = read_ids(p.stream, ids);
  EXPECT_EQ(r.kind, Kind::kBadFrame);
  EXPECT_EQ(r.wire_error, wire::WireError::kTooLong);
  EXPECT_TRUE(ids.empty());
}

TEST(FramedStream, GarbageIsABadFrame) {
  Pair p = make_pair();
  const std::array<uint8_t, 8> junk{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'};
  put(p.peer, junk);
  std::vector<uint32_t> ids;
  const auto r = read_ids(p.stream, ids);
  EXPECT_EQ(r.kind, Kind::kBadFrame);
  EXPECT_EQ(r.wire_error, wire::WireError::kBadMagic);
}

TEST(FramedStream, ReadErrorCarriesErrno) {
  Pair p = make_pair();
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));  // not connected
  p.stream.open(std::move(listener));
  std::vector<uint32_t> ids;
  const auto r = read_ids(p.stream, ids);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.err, ENOTCONN);
}

TEST(FramedStream, WriterFillsTheSocketThenDrains) {
  Pair p = make_pair(16 << 20);
  const int small = 4096;
  ASSERT_EQ(::setsockopt(p.stream.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  SessionKey k;
  k.client = *IpAddress::parse("10.0.0.1");
  k.target = *IpAddress::parse("10.0.0.2");
  size_t queued = 0;
  for (uint16_t port = 1; port < 20000; ++port, ++queued) {
    k.client_port = port;
    ASSERT_TRUE(p.stream.writer().add_key(wire::MessageType::kRegister, k));
  }
  EXPECT_EQ(p.stream.flush().kind, WriteKind::kBlocked);
  EXPECT_TRUE(p.stream.has_output());

  // The peer reads everything; the stream writes the rest as room appears.
  std::vector<uint8_t> got;
  std::array<uint8_t, 65536> buf{};
  for (int round = 0; round < 10000 && (p.stream.has_output() || got.size() < queued * wire::kKeySize); ++round) {
    const ssize_t n = ::recv(p.peer.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) got.insert(got.end(), buf.begin(), buf.begin() + n);
    const auto w = p.stream.flush();
    ASSERT_NE(w.kind, WriteKind::kError);
    if (n <= 0 && w.kind == WriteKind::kDone) break;
  }
  EXPECT_EQ(p.stream.flush().kind, WriteKind::kDone);
  EXPECT_FALSE(p.stream.has_output());

  // What arrived decodes back into every key, in order.
  wire::FrameDecoder d;
  size_t at = 0, keys = 0;
  uint16_t expect_port = 1;
  while (at < got.size()) {
    auto space = d.write_space();
    ASSERT_FALSE(space.empty());
    const size_t n = std::min(space.size(), got.size() - at);
    std::copy_n(got.begin() + static_cast<ptrdiff_t>(at), n, space.begin());
    d.commit(n);
    at += n;
    while (auto f = d.next()) {
      EXPECT_EQ(wire::read_keys(f->payload,
                                [&](const SessionKey& key) {
                                  EXPECT_EQ(key.client_port, expect_port);
                                  ++expect_port;
                                  ++keys;
                                }),
                wire::WireError::kNone);
    }
  }
  EXPECT_EQ(keys, queued);
}

TEST(FramedStream, WriteToAClosedPeerIsAnError) {
  Pair p = make_pair();
  p.peer.reset();
  p.stream.writer().hello(1);
  const auto w = p.stream.flush();
  EXPECT_EQ(w.kind, WriteKind::kError);
  EXPECT_EQ(w.err, EPIPE);
}

TEST(FramedStream, OpenStartsAFreshStream) {
  Pair p = make_pair();
  p.stream.writer().hello(1);
  const std::vector<uint8_t> partial = hellos({9});
  put(p.peer, std::span(partial).first(3));  // a partial frame
  std::vector<uint32_t> ids;
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);

  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  UniqueFd peer(fds[1]);
  p.stream.open(UniqueFd(fds[0]));
  EXPECT_FALSE(p.stream.has_output());
  put(peer, hellos({5}));
  EXPECT_EQ(read_ids(p.stream, ids).kind, Kind::kAgain);
  EXPECT_EQ(ids, (std::vector<uint32_t>{5}));
}

}  // namespace
}  // namespace tc

// The control channel codec: FrameDecoder fed in chunks the input chooses,
// every payload reader on every frame, and the writer's batching checked by
// decoding what it wrote.
#include <vector>

#include "common/wire.h"
#include "fuzz/fuzz_target.h"

namespace {

using namespace tc;
using namespace tc::wire;

void read_all(const Frame& f) {
  size_t keys = 0, replies = 0;
  const WireError k = read_keys(f.payload, [&](const SessionKey&) { ++keys; });
  TC_FUZZ_CHECK(k == WireError::kNone || k == WireError::kBadPayload);
  if (k == WireError::kNone) TC_FUZZ_CHECK(2 + keys * kKeySize == f.payload.size());
  const WireError r = read_replies(f.payload, [&](std::span<const uint8_t> h) {
    TC_FUZZ_CHECK(!h.empty() && h.size() <= kMaxReplyEntry);
    TC_FUZZ_CHECK(h.data() >= f.payload.data() && h.data() + h.size() <= f.payload.data() + f.payload.size());
    ++replies;
  });
  TC_FUZZ_CHECK(r == WireError::kNone || r == WireError::kBadPayload);
  if (auto hello = read_hello(f.payload)) TC_FUZZ_CHECK(hello->payload_prefix <= kMaxReplyPrefix);
  if (auto ack = read_hello_ack(f.payload)) TC_FUZZ_CHECK(bool(ack->proof) == bool(ack->flags & kAckProof));
  if (read_challenge(f.payload)) TC_FUZZ_CHECK(f.payload.size() == kAuthBytes);
  if (read_auth(f.payload)) TC_FUZZ_CHECK(f.payload.size() == 2 * kAuthBytes);
}

// Decodes `stream`, `chunk` bytes per read; the frames go to read_all.
size_t decode(std::span<const uint8_t> stream, size_t chunk, size_t max_payload, WireError* error) {
  FrameDecoder d;
  d.set_max_payload(max_payload);
  size_t at = 0, frames = 0;
  while (at < stream.size()) {
    auto space = d.write_space();
    if (space.empty()) break;
    const size_t n = std::min({chunk, space.size(), stream.size() - at});
    std::memcpy(space.data(), stream.data() + at, n);
    d.commit(n);
    at += n;
    while (auto f = d.next()) {
      TC_FUZZ_CHECK(f->payload.size() <= max_payload);
      read_all(*f);
      ++frames;
    }
  }
  if (d.error() == WireError::kBadVersion) TC_FUZZ_CHECK(d.bad_version() != kVersion);
  if (error) *error = d.error();
  return frames;
}

}  // namespace

TC_FUZZ_TARGET(wire) {
  FuzzInput in(data, size);
  const uint8_t mode = in.u8();
  if (mode & 1) {
    // A byte stream as a peer would send it.
    const size_t chunk = 1 + in.u16() % 70000;
    const size_t max_payload = (mode & 2) ? 64 : kMaxPayload;
    decode(in.bytes(in.remaining()), chunk, max_payload, nullptr);
    return 0;
  }
  // Writer operations chosen by the input; what is written must decode to
  // exactly what was added.
  FrameWriter w(1 + in.u16() * 64u);
  size_t keys = 0, replies = 0, others = 0;
  std::vector<uint8_t> stream;  // every byte written, in order
  while (!in.empty()) {
    switch (in.u8() % 6) {
      case 0:
      case 1: {
        SessionKey k;
        auto b = in.bytes(16);
        std::array<uint8_t, 16> a{};
        std::copy(b.begin(), b.end(), a.begin());
        k.client = IpAddress::from_bytes16(a);
        k.client_port = in.u16();
        if (w.add_key(in.flag() ? MessageType::kRegister : MessageType::kUnregister, k)) ++keys;
        break;
      }
      case 2: {
        const size_t len = in.u16() % 600;
        std::vector<uint8_t> h(len, 0x45);
        const bool ok = w.add_reply(h);
        TC_FUZZ_CHECK(!ok || (len > 0 && len <= kMaxReplyEntry));
        if (ok) ++replies;
        break;
      }
      case 3:
        if (w.hello(in.u32(), in.u16())) ++others;
        break;
      case 4: {
        std::array<uint8_t, kAuthBytes> n{};
        n.fill(in.u8());
        if (in.flag() ? w.challenge(n) : w.hello_ack(n)) ++others;
        break;
      }
      case 5: {
        // Part of the output went to the socket: it joins the byte stream.
        const size_t n = std::min<size_t>(in.u16(), w.pending_bytes());
        stream.insert(stream.end(), w.pending().begin(), w.pending().begin() + static_cast<long>(n));
        w.consume(n);
        break;
      }
    }
  }
  stream.insert(stream.end(), w.pending().begin(), w.pending().end());
  size_t got_keys = 0, got_replies = 0, got_frames = 0;
  FrameDecoder d;
  size_t at = 0;
  while (at < stream.size()) {
    auto space = d.write_space();
    TC_FUZZ_CHECK(!space.empty());
    const size_t n = std::min(space.size(), stream.size() - at);
    std::memcpy(space.data(), stream.data() + at, n);
    d.commit(n);
    at += n;
    while (auto f = d.next()) {
      ++got_frames;
      const auto type = static_cast<MessageType>(f->type);
      if (type == MessageType::kRegister || type == MessageType::kUnregister)
        TC_FUZZ_CHECK(read_keys(f->payload, [&](const SessionKey&) { ++got_keys; }) == WireError::kNone);
      if (type == MessageType::kReplies)
        TC_FUZZ_CHECK(read_replies(f->payload, [&](std::span<const uint8_t>) { ++got_replies; }) ==
                      WireError::kNone);
    }
  }
  TC_FUZZ_CHECK(d.error() == WireError::kNone);
  TC_FUZZ_CHECK(got_keys == keys && got_replies == replies);
  TC_FUZZ_CHECK(got_frames >= others);
  return 0;
}

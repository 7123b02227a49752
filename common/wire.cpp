#include "common/wire.h"

#include <algorithm>
#include <cstring>

#include "common/byte_reader.h"

namespace tc::wire {

const char* to_string(WireError e) {
  switch (e) {
    case WireError::kNone: return "ok";
    case WireError::kBadMagic: return "bad_magic";
    case WireError::kBadVersion: return "bad_version";
    case WireError::kTooLong: return "frame_too_long";
    case WireError::kBadPayload: return "bad_payload";
  }
  return "unknown";
}

size_t FrameDecoder::frame_bytes() const {
  if (end_ - begin_ < kHeaderSize) return kHeaderSize;
  const uint8_t* h = buf_.data() + begin_ + 4;
  const size_t length = (size_t{h[0]} << 24) | (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | size_t{h[3]};
  // A length past the limit is next()'s error to report; until then a
  // header's worth of room is all it gets.
  return length <= max_payload_ ? kHeaderSize + length : kHeaderSize;
}

std::span<uint8_t> FrameDecoder::write_space() {
  if (error_ != WireError::kNone) return {};
  if (begin_ == end_) begin_ = end_ = 0;
  const size_t frame = frame_bytes();
  // Move the bytes held to the front when the frame would not fit behind
  // begin_, or when little room is left at the tail.
  if (begin_ > 0 && (buf_.size() - begin_ < frame || buf_.size() - end_ < buf_.size() / 4)) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t want = std::max(frame, kDecoderStartBytes);
  if (read_filled_) want = std::max(want, std::min(2 * buf_.size(), kDecoderMaxBytes));
  read_filled_ = false;
  if (buf_.size() < want) {
    buf_.reserve(want);  // exactly this much, not the vector's own growth
    buf_.resize(want);
  }
  offered_ = buf_.size() - end_;
  return std::span<uint8_t>(buf_).subspan(end_);
}

void FrameDecoder::commit(size_t n) {
  end_ += n;
  read_filled_ = n > 0 && n == offered_;
}

void FrameDecoder::release() {
  if (begin_ != end_ || buf_.empty()) return;
  std::vector<uint8_t>().swap(buf_);
  begin_ = end_ = offered_ = 0;
  read_filled_ = false;
}

std::optional<Frame> FrameDecoder::next() {
  if (error_ != WireError::kNone || end_ - begin_ < kHeaderSize) return std::nullopt;
  ByteReader r(std::span<const uint8_t>(buf_).subspan(begin_, end_ - begin_));
  uint16_t magic = 0;
  uint8_t version = 0, type = 0;
  uint32_t length = 0;
  r.be16(magic);
  r.u8(version);
  r.u8(type);
  r.be32(length);
  if (magic != kMagic) {
    error_ = WireError::kBadMagic;
    return std::nullopt;
  }
  if (version != kVersion) {
    error_ = WireError::kBadVersion;
    bad_version_ = version;
    return std::nullopt;
  }
  if (length > max_payload_) {
    error_ = WireError::kTooLong;
    return std::nullopt;
  }
  auto payload = r.take(length);
  if (!payload) return std::nullopt;
  begin_ += kHeaderSize + length;
  return Frame{type, *payload};
}

// Starts small and doubles up to max_bytes: an idle or refused connection
// costs little.
FrameWriter::FrameWriter(size_t max_bytes) : max_bytes_(max_bytes) {}

void FrameWriter::release() {
  if (begin_ != end_ || buf_.empty()) return;
  std::vector<uint8_t>().swap(buf_);
  begin_ = end_ = 0;
  open_frame_.reset();
}

void FrameWriter::put(const void* p, size_t n) {
  if (n == 0) return;  // an empty part may come with a null pointer
  if (end_ + n > buf_.size()) {
    const size_t want = std::min(max_bytes_, std::max({buf_.size() * 2, end_ + n, kWriterStartBytes}));
    buf_.reserve(want);  // exactly this much, not the vector's own growth
    buf_.resize(want);
  }
  std::memcpy(buf_.data() + end_, p, n);
  end_ += n;
}
void FrameWriter::put_be16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  put(b, 2);
}
void FrameWriter::put_be32(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  put(b, 4);
}

bool FrameWriter::start_frame(MessageType type, size_t payload_reserve) {
  if (!room(kHeaderSize + payload_reserve)) return false;
  open_frame_.reset();
  put_be16(kMagic);
  const uint8_t vt[2] = {kVersion, static_cast<uint8_t>(type)};
  put(vt, 2);
  put_be32(0);
  return true;
}

bool FrameWriter::hello(uint32_t instance_id, uint16_t payload_prefix) {
  constexpr uint32_t kHelloBytes = 8;
  if (!start_frame(MessageType::kHello, kHelloBytes)) return false;
  const size_t at = end_ - 4;
  put_be32(instance_id);
  put_be16(0);
  put_be16(std::min(payload_prefix, static_cast<uint16_t>(kMaxReplyPrefix)));
  ByteWriter(std::span<uint8_t>(buf_).subspan(at, 4)).be32(kHelloBytes);
  return true;
}

bool FrameWriter::whole_frame(MessageType type, std::initializer_list<std::span<const uint8_t>> parts) {
  size_t len = 0;
  for (auto p : parts) len += p.size();
  if (!start_frame(type, len)) return false;
  ByteWriter(std::span<uint8_t>(buf_).subspan(end_ - 4, 4)).be32(static_cast<uint32_t>(len));
  for (auto p : parts) put(p.data(), p.size());
  return true;
}

bool FrameWriter::hello_ack(std::span<const uint8_t> proof) {
  if (!proof.empty() && proof.size() != kAuthBytes) return false;
  const uint16_t flags = proof.empty() ? 0 : kAckProof;
  const uint8_t f[2] = {static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags)};
  return whole_frame(MessageType::kHelloAck, {f, proof});
}

bool FrameWriter::ping(MessageType type, uint64_t stamp) {
  if (type != MessageType::kPing && type != MessageType::kPong) return false;
  std::array<uint8_t, kPingBytes> b{};
  for (size_t i = 0; i < kPingBytes; ++i) b[i] = static_cast<uint8_t>(stamp >> (8 * (kPingBytes - 1 - i)));
  return whole_frame(type, {b});
}

bool FrameWriter::challenge(std::span<const uint8_t, kAuthBytes> nonce) {
  return whole_frame(MessageType::kChallenge, {nonce});
}

bool FrameWriter::auth(std::span<const uint8_t, kAuthBytes> nonce, std::span<const uint8_t, kAuthBytes> proof) {
  return whole_frame(MessageType::kAuth, {nonce, proof});
}

bool FrameWriter::turned_away(TurnAwayReason reason, std::string_view text) {
  if (text.size() > kMaxTurnAwayText) text = text.substr(0, kMaxTurnAwayText);
  const auto code = static_cast<uint16_t>(reason);
  const uint8_t r[2] = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  return whole_frame(MessageType::kTurnedAway,
                     {r, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size())});
}

// Opens a batch frame of `type` unless one with room is already open, then
// accounts one entry of `entry_size` bytes (the caller writes it).
bool FrameWriter::append_entry(MessageType type, size_t entry_size) {
  const bool reuse = open_frame_ && open_type_ == type && *open_frame_ >= begin_;
  if (reuse) {
    const size_t payload = end_ - *open_frame_ - kHeaderSize;
    ByteReader r(std::span<const uint8_t>(buf_).subspan(*open_frame_ + kHeaderSize, 2));
    uint16_t count = 0;
    r.be16(count);
    if (payload + entry_size <= kMaxPayload && count < 0xffff && room(entry_size)) {
      ByteWriter w(std::span<uint8_t>(buf_).subspan(*open_frame_ + 4, 6));
      w.be32(static_cast<uint32_t>(payload + entry_size));
      w.be16(static_cast<uint16_t>(count + 1));
      return true;
    }
  }
  if (!start_frame(type, 2 + entry_size)) return false;
  const size_t at = end_ - kHeaderSize;
  put_be16(1);
  ByteWriter w(std::span<uint8_t>(buf_).subspan(at + 4, 4));
  w.be32(static_cast<uint32_t>(2 + entry_size));
  open_frame_ = at;
  open_type_ = type;
  return true;
}

bool FrameWriter::add_key(MessageType type, const SessionKey& key) {
  if (!append_entry(type, kKeySize)) return false;
  put(key.client.bytes16().data(), 16);
  put_be16(key.client_port);
  put(key.target.bytes16().data(), 16);
  put_be16(key.target_port);
  return true;
}

bool FrameWriter::add_reply(std::span<const uint8_t> entry) {
  if (entry.empty() || entry.size() > kMaxReplyEntry) return false;
  if (!append_entry(MessageType::kReplies, 2 + entry.size())) return false;
  put_be16(static_cast<uint16_t>(entry.size()));
  put(entry.data(), entry.size());
  return true;
}

std::span<const uint8_t> FrameWriter::pending() const {
  return std::span<const uint8_t>(buf_).subspan(begin_, end_ - begin_);
}

void FrameWriter::consume(size_t n) {
  begin_ += n;
  if (begin_ >= end_) {
    begin_ = end_ = 0;
    open_frame_.reset();
  } else if (open_frame_ && *open_frame_ < begin_) {
    open_frame_.reset();  // partly written: it can no longer grow
  }
  // Keep the buffer from creeping: compact when the written prefix is large.
  if (begin_ > buf_.size() / 2) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    if (open_frame_) *open_frame_ -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }
}

WireError read_keys(std::span<const uint8_t> payload, const std::function<void(const SessionKey&)>& fn) {
  ByteReader r(payload);
  uint16_t count = 0;
  if (!r.be16(count) || r.remaining() != size_t{count} * kKeySize) return WireError::kBadPayload;
  for (uint16_t i = 0; i < count; ++i) {
    SessionKey k;
    k.client = IpAddress::from_bytes16(r.take(16)->first<16>());
    r.be16(k.client_port);
    k.target = IpAddress::from_bytes16(r.take(16)->first<16>());
    r.be16(k.target_port);
    fn(k);
  }
  return WireError::kNone;
}

WireError read_replies(std::span<const uint8_t> payload,
                       const std::function<void(std::span<const uint8_t>)>& fn) {
  ByteReader r(payload);
  uint16_t count = 0;
  if (!r.be16(count)) return WireError::kBadPayload;
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t len = 0;
    if (!r.be16(len) || len == 0 || len > kMaxReplyEntry) return WireError::kBadPayload;
    auto bytes = r.take(len);
    if (!bytes) return WireError::kBadPayload;
    fn(*bytes);
  }
  return r.empty() ? WireError::kNone : WireError::kBadPayload;
}

std::optional<Hello> read_hello(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  Hello h;
  if (!r.be32(h.instance_id) || !r.be16(h.flags) || !r.be16(h.payload_prefix)) return std::nullopt;
  h.payload_prefix = std::min(h.payload_prefix, static_cast<uint16_t>(kMaxReplyPrefix));
  return h;
}

}  // namespace tc::wire

namespace tc::wire {

namespace {

bool take_bytes(ByteReader& r, std::array<uint8_t, kAuthBytes>& out) {
  auto b = r.take(kAuthBytes);
  if (!b) return false;
  std::copy(b->begin(), b->end(), out.begin());
  return true;
}

}  // namespace

std::optional<HelloAck> read_hello_ack(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  HelloAck ack;
  if (!r.be16(ack.flags)) return std::nullopt;
  if (ack.flags & kAckProof) {
    std::array<uint8_t, kAuthBytes> proof{};
    if (!take_bytes(r, proof)) return std::nullopt;
    ack.proof = proof;
  }
  return ack;
}

std::optional<std::array<uint8_t, kAuthBytes>> read_challenge(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  std::array<uint8_t, kAuthBytes> nonce{};
  if (payload.size() != kAuthBytes || !take_bytes(r, nonce)) return std::nullopt;
  return nonce;
}

std::optional<TurnedAway> read_turned_away(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  TurnedAway t;
  if (!r.be16(t.reason) || r.remaining() > kMaxTurnAwayText) return std::nullopt;
  const auto text = r.take(r.remaining());
  if (!text) return std::nullopt;
  // Shown in a log line: only printable ASCII passes.
  for (uint8_t b : *text) t.text.push_back(b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '?');
  return t;
}

std::optional<uint64_t> read_ping(std::span<const uint8_t> payload) {
  if (payload.size() != kPingBytes) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t b : payload) v = (v << 8) | b;
  return v;
}

std::optional<AuthMessage> read_auth(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  AuthMessage m;
  if (payload.size() != 2 * kAuthBytes || !take_bytes(r, m.nonce) || !take_bytes(r, m.proof)) return std::nullopt;
  return m;
}

}  // namespace tc::wire

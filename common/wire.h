// The control channel between tcpcopy and intercept, version 2.
//
// Every message is a frame: an 8-byte header, then `length` payload bytes.
// All integers are big-endian (network order).
//
//   u16 magic   0x5443 ("TC")
//   u8  version 2
//   u8  type    MessageType
//   u32 length  payload bytes, at most kMaxPayload
//
// Payloads:
//   kHello      u32 instance id, u16 flags (0), u16 payload prefix. The id
//               is random per tcpcopy process: connections with the same
//               peer address and id are one client, and replies may go back
//               on any of them. The payload prefix is how many bytes of
//               each reply's TCP payload this tcpcopy wants after the
//               headers: 0 for headers only, at most kMaxReplyPrefix (a
//               larger value is read as kMaxReplyPrefix).
//   kHelloAck   u16 flags; with kAckProof set, a 32-byte proof follows
//   kChallenge  32-byte nonce
//   kAuth       32-byte nonce, 32-byte proof
//   kRegister   u16 count, count x key
//   kUnregister u16 count, count x key
//   kReplies    u16 count, count x (u16 len, len bytes: the reply's IP and
//               TCP header, then its first min(prefix, payload) payload
//               bytes; 1 <= len <= kMaxReplyEntry). The IP header keeps the
//               packet's real length, so it may say more than len.
//   kTurnedAway u16 reason (TurnAwayReason), then a text of at most
//               kMaxTurnAwayText bytes for the peer's log: intercept closes
//               the connection without serving it (not on --allow, too many
//               connections, made room for a newer one in the handshake).
//               Added in the same version: a reader that does not know the
//               type skips it and sees the connection close.
//
//   key = client address (16), client port (u16), target address (16),
//         target port (u16); IPv4 as IPv4-mapped IPv6 addresses.
//
// A reader skips frames of an unknown type (and counts them); a bad magic,
// version or length ends the connection. The decoder keeps the version of
// a frame it refused, so both sides can name it: an intercept that gets a
// frame of another version answers with a kHelloAck of its own version
// before it closes, so the peer fails on the version too, not on a silent
// close.
//
// Version 1 differed only in kHello (no payload prefix) and kReplies
// (headers only). The versions do not interwork: a mismatch fails the
// handshake on both sides.
//
// Authentication (see common/auth.h). An intercept without a secret answers
// kHello with kHelloAck at once, flags 0. An intercept with a secret
// answers kHello with kChallenge, waits for kAuth and checks its proof, and
// only then sends kHelloAck with its own proof (kAckProof); before that it
// accepts no other frame. A tcpcopy with a secret accepts only a kHelloAck
// that carries a valid proof, so both sides know the other holds the
// secret; one without a secret gives up on kChallenge.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/session_key.h"

namespace tc::wire {

inline constexpr uint16_t kDefaultPort = 36524;  // intercept listens here by default
inline constexpr uint16_t kMagic = 0x5443;
inline constexpr uint8_t kVersion = 2;
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kMaxPayload = 64 * 1024;
inline constexpr size_t kKeySize = 36;
inline constexpr size_t kMaxReplyHeader = 256;    // a reply's IP + TCP header
inline constexpr size_t kMaxReplyPrefix = 256;    // payload bytes a kHello may ask for
inline constexpr size_t kMaxReplyEntry = kMaxReplyHeader + kMaxReplyPrefix;  // one kReplies entry
inline constexpr size_t kAuthBytes = 32;          // nonce and proof sizes (HMAC-SHA256)
inline constexpr uint16_t kAckProof = 1;          // kHelloAck flag: a proof follows

enum class MessageType : uint8_t {
  kHello = 1,
  kHelloAck = 2,
  kRegister = 3,
  kUnregister = 4,
  kReplies = 5,
  kChallenge = 6,
  kAuth = 7,
  kTurnedAway = 8,
  // tcpcopy sends kPing with 8 opaque bytes (its clock) about once a second
  // on an up connection; intercept answers kPong with the same bytes: the
  // control channel's round trip. A peer that does not know them skips them.
  kPing = 9,
  kPong = 10,
};
inline constexpr size_t kPingBytes = 8;

// Why intercept turned a connection away (kTurnedAway).
enum class TurnAwayReason : uint16_t {
  kNotAllowed = 1,      // the peer's address is not on --allow
  kTooMany = 2,         // the cap on connections is reached
  kHandshakeFull = 3,   // closed in the handshake to make room for a newer one
  kHelloTimeout = 4,    // the handshake did not complete in time
};
inline constexpr size_t kMaxTurnAwayText = 200;

enum class WireError : uint8_t {
  kNone = 0,
  kBadMagic,
  kBadVersion,
  kTooLong,
  kBadPayload,
};
const char* to_string(WireError e);

struct Frame {
  uint8_t type = 0;  // compare with MessageType; unknown values are possible
  std::span<const uint8_t> payload;
};

// Reassembles frames from a byte stream. The buffer grows with what the
// peer sends: nothing until the first read, kDecoderStartBytes then, twice
// as much when a frame needs it or a read filled all the space offered, up
// to kDecoderMaxBytes; release() gives it back while no frame is partly read.
inline constexpr size_t kDecoderStartBytes = 512;
inline constexpr size_t kDecoderMaxBytes = 2 * (kHeaderSize + kMaxPayload);
class FrameDecoder {
 public:
  FrameDecoder() = default;
  // Where the next read() may write; empty only while a frame is pending.
  std::span<uint8_t> write_space();
  void commit(size_t n);
  // Frees the buffer when it holds no bytes; a later write_space() starts
  // small again.
  void release();
  size_t capacity() const { return buf_.capacity(); }
  // The next complete frame, or nullopt when more bytes are needed or the
  // stream is corrupt (then error() is set and stays set). The returned
  // payload stays valid until the next call.
  std::optional<Frame> next();
  WireError error() const { return error_; }
  // With kBadVersion: the version the refused frame carried.
  uint8_t bad_version() const { return bad_version_; }
  // Frames with a longer payload are an error (kTooLong). Lowered while a
  // peer is not yet authenticated: a handshake frame is small.
  void set_max_payload(size_t n) { max_payload_ = n < kMaxPayload ? n : kMaxPayload; }

 private:
  // Bytes the frame at begin_ needs in all, as far as its header tells.
  size_t frame_bytes() const;

  std::vector<uint8_t> buf_;
  size_t max_payload_ = kMaxPayload;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t offered_ = 0;      // size of the last write_space()
  bool read_filled_ = false;  // the last read took all of it: grow
  WireError error_ = WireError::kNone;
  uint8_t bad_version_ = 0;
};

inline constexpr size_t kWriterStartBytes = 512;
// Appends frames to a bounded output buffer, allocated at the first frame,
// from kWriterStartBytes doubling up to its bound. Keys and replies of the same
// type are batched into the frame still open at the tail.
class FrameWriter {
 public:
  explicit FrameWriter(size_t max_bytes);

  // `payload_prefix` above kMaxReplyPrefix is sent as kMaxReplyPrefix.
  bool hello(uint32_t instance_id, uint16_t payload_prefix = 0);
  // Without a proof: flags 0. With one: kAckProof and the proof.
  bool hello_ack(std::span<const uint8_t> proof = {});
  bool challenge(std::span<const uint8_t, kAuthBytes> nonce);
  bool auth(std::span<const uint8_t, kAuthBytes> nonce, std::span<const uint8_t, kAuthBytes> proof);
  // `text` longer than kMaxTurnAwayText is cut.
  bool turned_away(TurnAwayReason reason, std::string_view text);
  // kPing (or kPong, with type) carrying `stamp`, big-endian.
  bool ping(MessageType type, uint64_t stamp);
  // Return false (and write nothing) when the buffer is full.
  bool add_key(MessageType type, const SessionKey& key);
  // One kReplies entry: a reply's headers and payload prefix, 1 to
  // kMaxReplyEntry bytes (otherwise false, nothing written).
  bool add_reply(std::span<const uint8_t> entry);

  // Bytes waiting to be written to the socket.
  std::span<const uint8_t> pending() const;
  // Drops the first n pending bytes (they were written).
  void consume(size_t n);
  bool empty() const { return pending().empty(); }
  size_t pending_bytes() const { return end_ - begin_; }
  // Frees the buffer when nothing waits; it grows again from small.
  void release();
  size_t capacity() const { return buf_.capacity(); }

 private:
  bool start_frame(MessageType type, size_t payload_reserve);
  bool whole_frame(MessageType type, std::initializer_list<std::span<const uint8_t>> parts);
  bool room(size_t n) const { return end_ + n <= max_bytes_; }
  void put(const void* p, size_t n);
  void put_be16(uint16_t v);
  void put_be32(uint32_t v);
  bool append_entry(MessageType type, size_t entry_size);

  std::vector<uint8_t> buf_;
  size_t max_bytes_;
  size_t begin_ = 0;
  size_t end_ = 0;
  std::optional<size_t> open_frame_;  // offset of an open batch frame
  MessageType open_type_{};
};

// Payload readers. The callback sees each entry; a malformed payload
// returns kBadPayload (entries before the fault were already delivered).
WireError read_keys(std::span<const uint8_t> payload, const std::function<void(const SessionKey&)>& fn);
WireError read_replies(std::span<const uint8_t> payload,
                       const std::function<void(std::span<const uint8_t>)>& fn);
struct Hello {
  uint32_t instance_id = 0;
  uint16_t flags = 0;
  uint16_t payload_prefix = 0;  // at most kMaxReplyPrefix
};
std::optional<Hello> read_hello(std::span<const uint8_t> payload);

struct HelloAck {
  uint16_t flags = 0;
  std::optional<std::array<uint8_t, kAuthBytes>> proof;  // set with kAckProof
};
std::optional<HelloAck> read_hello_ack(std::span<const uint8_t> payload);
std::optional<std::array<uint8_t, kAuthBytes>> read_challenge(std::span<const uint8_t> payload);
struct AuthMessage {
  std::array<uint8_t, kAuthBytes> nonce{};
  std::array<uint8_t, kAuthBytes> proof{};
};
std::optional<AuthMessage> read_auth(std::span<const uint8_t> payload);
struct TurnedAway {
  uint16_t reason = 0;  // compare with TurnAwayReason; unknown values are possible
  std::string text;
};
std::optional<TurnedAway> read_turned_away(std::span<const uint8_t> payload);
// A kPing's or kPong's stamp; nullopt unless the payload is kPingBytes.
std::optional<uint64_t> read_ping(std::span<const uint8_t> payload);

}  // namespace tc::wire

// Netlink messages of the NFQUEUE protocol, built and read on plain buffers
// (no socket), so the encoding is tested on its own. Uses the libmnl-based
// API of libnetfilter_queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire.h"
#include "intercept/nfqueue/verdict_batcher.h"

struct nlmsghdr;

namespace tc::intercept::nfq {

// One verdict message: nlmsghdr, nfgenmsg, NFQA_VERDICT_HDR attribute.
inline constexpr size_t kVerdictMessageSize = 32;
// Enough for any config request this program sends.
inline constexpr size_t kConfigBufferSize = 256;
// Bytes of each packet copied to user space: IP + TCP headers and the
// longest payload prefix a tcpcopy may ask for (see common/wire.h).
inline constexpr uint32_t kCopyRange = static_cast<uint32_t>(wire::kMaxReplyEntry);

// Writes the verdicts back to back into `out` as one send's worth of
// messages. Returns the bytes written, or 0 if `out` is too small.
size_t put_verdicts(std::span<const Verdict> verdicts, uint16_t queue_num, std::span<uint8_t> out);

// NFQNL_CFG_CMD_BIND for the queue, asking for an ack.
size_t put_bind_request(std::span<uint8_t> out, uint16_t queue_num, uint32_t seq);
// Copy mode (the first kCopyRange bytes), queue length, and flags: GSO
// packets are handed over whole, and FAIL_OPEN is explicitly cleared so a
// full queue drops rather than leaks replies to the real clients. Asks for
// an ack.
size_t put_settings_request(std::span<uint8_t> out, uint16_t queue_num, uint32_t queue_maxlen, uint32_t seq);

struct QueueMessage {
  enum class Kind : uint8_t {
    kPacket,     // packet_id and payload are set
    kBadPacket,  // a packet message without a readable id: no verdict possible
    kAck,        // NLMSG_ERROR: error is 0 (ack) or a negative errno; seq names the request
    kOther,
  };
  Kind kind = Kind::kOther;
  uint32_t packet_id = 0;
  std::span<const uint8_t> payload;  // starts at the IP header; may be cut at kCopyRange
  int error = 0;
  uint32_t seq = 0;
};

// Decodes one netlink message (already checked with mnl_nlmsg_ok).
QueueMessage decode_message(const nlmsghdr* nlh);

// Calls fn(const QueueMessage&) for every message in one received datagram.
template <typename Fn>
void for_each_message(std::span<const uint8_t> datagram, Fn&& fn);

namespace detail {
const nlmsghdr* first_message(std::span<const uint8_t> datagram, int& remaining);
const nlmsghdr* next_message(const nlmsghdr* nlh, int& remaining);
}  // namespace detail

template <typename Fn>
void for_each_message(std::span<const uint8_t> datagram, Fn&& fn) {
  int remaining = 0;
  for (const nlmsghdr* nlh = detail::first_message(datagram, remaining); nlh;
       nlh = detail::next_message(nlh, remaining))
    fn(decode_message(nlh));
}

}  // namespace tc::intercept::nfq

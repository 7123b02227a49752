// Where routed replies go: the control server, or a fake in tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/tcp_packet.h"
#include "common/wire.h"

namespace tc::intercept {

// Names one control connection for the life of the process (never reused,
// unlike file descriptors).
using ConnId = uint64_t;

// A reply as routing carries it: its IP + TCP header, then the first
// payload bytes the capture kept (at most wire::kMaxReplyPrefix). Views
// only; valid while the packet or the slot holding it is.
struct RoutedReply {
  std::span<const uint8_t> bytes;  // header, then payload prefix
  size_t header_len = 0;           // at most bytes.size()

  // Headers only.
  static RoutedReply headers(std::span<const uint8_t> header) { return {header, header.size()}; }
  // A parsed packet's headers and up to wire::kMaxReplyPrefix payload bytes
  // present right after them.
  static RoutedReply of(const TcpPacket& p) {
    const size_t prefix = std::min(p.payload.size(), wire::kMaxReplyPrefix);
    return {std::span<const uint8_t>(p.headers.data(), p.headers.size() + prefix), p.headers.size()};
  }
  // The header and at most `prefix` payload bytes: one tcpcopy's kReplies
  // entry.
  std::span<const uint8_t> with_prefix(size_t prefix) const {
    return bytes.first(header_len + std::min(prefix, bytes.size() - header_len));
  }
};

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Queues `reply` on connection `conn`, cut to the payload prefix that
  // connection asked for. False when it cannot take it (output buffer
  // full); the reply is then shed.
  virtual bool deliver(ConnId conn, const RoutedReply& reply) = 0;
};

}  // namespace tc::intercept

// The per-packet question every reply source asks: what to do with this
// reply of the target.
#pragma once

#include <cstdint>
#include <span>

#include "common/counters.h"
#include "common/tcp_packet.h"

namespace tc::intercept {

// What every decider that routes replies counts; parse_errors starts at 1:
// ParseError::kNone is no error.
#define TC_REPLY_DECIDER_COUNTERS(COUNTER, GAUGE, REASONS)                                     \
  COUNTER(passlisted, "passlisted", "", "Replies let through to -x/--passlist clients")        \
  REASONS(parse_errors, "parse_errors", ParseError, 1, "Replies whose headers failed to parse, by reason")

class PacketDecider {
 public:
  virtual ~PacketDecider() = default;
  // `packet` starts at the IP header, may be cut after the headers, and is
  // valid only during the call. Returns true to let the packet through
  // (NFQUEUE; a source that cannot let packets through ignores it).
  virtual bool accept(std::span<const uint8_t> packet) = 0;
};

}  // namespace tc::intercept

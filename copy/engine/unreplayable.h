// Sessions whose copy cannot work, told by their first payload. tcpcopy
// still replicates them (the target sees the connection and its load), but
// a TLS or SSH copy fails on keys the copy does not have, and an HTTP/2
// connection multiplexes streams that cannot be joined mid-stream or paced
// request by request. The engine counts them; UnreplayableNotices turns the
// counts into a few log lines.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"
#include "copy/engine/engine_counters.h"

namespace tc {

// What a session's first client payload shows, if it is a protocol whose
// copy cannot work: a TLS record (a new session's ClientHello, or a joined
// session's encrypted data), the HTTP/2 client preface, or an SSH
// identification string. A segment cut short is judged on what it holds.
std::optional<UnreplayableReason> unreplayable_kind(std::span<const uint8_t> payload);

// The most recent session of each kind, for the log line.
struct UnreplayableSeen {
  Endpoint client;
  uint16_t online_port = 0;
};

// Log lines about such sessions: the first session of a kind at once, and
// after that at most one line per kind every `every`, with how many came
// since. Pure: counters and the clock in, lines out.
class UnreplayableNotices {
 public:
  explicit UnreplayableNotices(Duration every) : every_(every) {}

  std::vector<std::string> due(const EngineCounters& counters,
                               const std::array<UnreplayableSeen, kUnreplayableKinds>& last, TimePoint now);

 private:
  Duration every_;
  std::array<uint64_t, kUnreplayableKinds> logged_{};   // the count at the last line
  std::array<TimePoint, kUnreplayableKinds> when_{};    // the last line's time
  std::array<bool, kUnreplayableKinds> said_{};
};

}  // namespace tc

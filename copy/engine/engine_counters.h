// Everything the engine counts: captured traffic, sessions, replication,
// and every reason a packet or a session is dropped.
#pragma once

#include <array>
#include <cstdint>

#include "common/counters.h"
#include "common/tcp_packet.h"

namespace tc {

enum class SkipReason : uint8_t {
  kNotTransfer,      // destination is no -x source
  kNoSession,        // not a SYN, no payload, no session
  kNotFullSession,   // -O and the SYN was not seen
  kClientRetransmit, // data already buffered or acked
  kAfterClose,       // the session is closed (lingering)
  kNoBuffer,         // payload buffer cap reached
  kSampledOut,       // -r / -g: session not chosen
  kLoopbackClient,   // a loopback client and no -H address
  kNoClientAddress,  // -c has no address of the client's IP version
  kBadFlags,         // a flag combination no TCP sends (SYN+FIN, no flags, ...)
  kOutOfWindow,      // sequence number implausibly far from the session's data
  kReorderCap,       // past a gap, and the session holds enough segments past gaps
  kCount
};

// Why a session made room for a new one in a full session table.
enum class EvictReason : uint8_t {
  kLingering,  // closed, only absorbing late packets
  kIdle,       // the least recently active session with nothing in flight
  kCount
};

enum class LostReason : uint8_t {
  kNoIntercept,        // no intercept reachable to register the session
  kNoSynAck,           // the target never answered the SYN
  kTargetRefused,      // RST in answer to the SYN
  kTargetReset,        // RST while data was still to be delivered
  kTargetUnresponsive, // retransmissions exhausted
  kResponseTimeout,    // -t: no reply for too long
  kNoBuffer,           // payload buffer cap reached
  kSessionCap,         // session table full
  kNoFreePort,         // no client port free toward the target
  kCount
};

const char* to_string(SkipReason r);
const char* to_string(LostReason r);
const char* to_string(EvictReason r);

struct EngineCounters {
  uint64_t packets_captured = 0;
  uint64_t bytes_captured = 0;
  std::array<uint64_t, static_cast<size_t>(ParseError::kCount)> malformed{};
  std::array<uint64_t, static_cast<size_t>(SkipReason::kCount)> skipped{};
  uint64_t sessions_created = 0;
  uint64_t sessions_joined = 0;     // started mid-stream
  uint64_t sessions_completed = 0;
  uint64_t sessions_idle_closed = 0;
  uint64_t ports_moved = 0;         // copy moved to another client port (clash)
  uint64_t ports_waited = 0;        // copy waited for an earlier copy to finish on its port
  uint64_t stale_connections = 0;   // SYN answered by a bare ACK (target's TIME_WAIT)
  uint64_t stale_resets = 0;        // resets sent to clear such a connection
  std::array<uint64_t, static_cast<size_t>(EvictReason::kCount)> sessions_evicted{};
  std::array<uint64_t, static_cast<size_t>(LostReason::kCount)> sessions_lost{};
  uint64_t requests_replicated = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;          // client payload sent for the first time
  uint64_t retransmits = 0;         // all timer retransmissions; of which:
  uint64_t syn_retransmits = 0;     //   SYNs
  uint64_t fin_retransmits = 0;     //   FINs
  uint64_t fast_retransmits = 0;
  uint64_t output_full = 0;         // the sender had no buffer
  uint64_t replies = 0;
  uint64_t replies_malformed = 0;
  uint64_t replies_bad_flags = 0;   // a flag combination no TCP sends
  uint64_t replies_unknown = 0;     // no session for the reply
  uint64_t response_bytes = 0;      // payload the target sent back
  uint64_t holds = 0;
  uint64_t hold_timeouts = 0;
  uint64_t window_probes = 0;

  void report(CounterSink& sink) const;
};

}  // namespace tc

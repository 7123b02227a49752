// Everything the engine counts: captured traffic, sessions, replication,
// and every reason a packet or a session is dropped. Each counter and each
// reason is declared once, in the lists below (see common/counters.h).
#pragma once

#include <array>
#include <cstdint>

#include "common/counters.h"
#include "common/histogram.h"
#include "common/tcp_packet.h"

namespace tc {

#define TC_SKIP_REASONS(X)                                                               \
  X(kNotTransfer, "not_transfer", "destination is no -x source")                         \
  X(kNoSession, "no_session", "not a SYN, no payload, no session")                       \
  X(kNotFullSession, "not_full_session", "-O and the SYN was not seen")                  \
  X(kClientRetransmit, "client_retransmit", "data already buffered or acked")            \
  X(kAfterClose, "after_close", "the session is closed (lingering)")                     \
  X(kNoBuffer, "no_buffer", "payload buffer cap reached")                                \
  X(kSampledOut, "sampled_out", "-r / -g: session not chosen")                           \
  X(kLoopbackClient, "loopback_client", "a loopback client and no -H address")           \
  X(kNoClientAddress, "no_client_address", "-c has no address of the client's IP version") \
  X(kBadFlags, "bad_flags", "a flag combination no TCP sends (SYN+FIN, no flags, ...)")  \
  X(kOutOfWindow, "out_of_window", "sequence number implausibly far from the session's data") \
  X(kReorderCap, "reorder_cap", "past a gap, and the session holds enough segments past gaps")
TC_REASON_ENUM(SkipReason, TC_SKIP_REASONS);

// Why a session made room for a new one in a full session table.
#define TC_EVICT_REASONS(X)                                                     \
  X(kLingering, "lingering", "closed, only absorbing late packets")             \
  X(kIdle, "idle", "the least recently active session with nothing in flight")
TC_REASON_ENUM(EvictReason, TC_EVICT_REASONS);

#define TC_LOST_REASONS(X)                                                           \
  X(kNoIntercept, "no_intercept", "no intercept reachable to register the session")  \
  X(kNoSynAck, "no_syn_ack", "the target never answered the SYN")                    \
  X(kTargetRefused, "target_refused", "RST in answer to the SYN")                    \
  X(kTargetReset, "target_reset", "RST while data was still to be delivered")        \
  X(kTargetAborted, "target_aborted", "RST before the target's FIN, all data delivered: requests it had not read are gone") \
  X(kTargetUnresponsive, "target_unresponsive", "retransmissions exhausted")         \
  X(kResponseTimeout, "response_timeout", "-t: no reply for too long")               \
  X(kNoBuffer, "no_buffer", "payload buffer cap reached")                            \
  X(kSessionCap, "session_cap", "session table full")                                \
  X(kNoFreePort, "no_free_port", "no client port free toward the target")
TC_REASON_ENUM(LostReason, TC_LOST_REASONS);

// Why captured requests never reached the target: their session was lost
// (the reasons above, in the same order), or closed for idling.
#define TC_UNDELIVERED_REASONS(X)                                                 \
  TC_LOST_REASONS(X)                                                              \
  X(kIdleClosed, "idle_closed", "the session idled too long with requests unsent")
TC_REASON_ENUM(UndeliveredReason, TC_UNDELIVERED_REASONS);
static_assert(static_cast<size_t>(UndeliveredReason::kIdleClosed) == static_cast<size_t>(LostReason::kCount));
inline UndeliveredReason undelivered_reason(LostReason r) { return static_cast<UndeliveredReason>(r); }

// Sessions that are replicated but whose copy cannot work, by what their
// first payload shows (see copy/engine/unreplayable.h).
#define TC_UNREPLAYABLE_REASONS(X)                                                              \
  X(kTls, "tls", "a TLS record: the copy cannot hold the client's keys")                        \
  X(kHttp2, "http2", "the HTTP/2 client preface: its connections cannot be joined mid-stream") \
  X(kSsh, "ssh", "an SSH identification string: the copy cannot hold the client's keys")
TC_REASON_ENUM(UnreplayableReason, TC_UNREPLAYABLE_REASONS);
inline constexpr size_t kUnreplayableKinds = static_cast<size_t>(UnreplayableReason::kCount);

// malformed starts at 1: ParseError::kNone is no error.
#define TC_ENGINE_COUNTERS(COUNTER, GAUGE, REASONS)                                                    \
  COUNTER(packets_captured, "packets_captured", "", "Packets the capture handed to the engine")       \
  COUNTER(bytes_captured, "bytes_captured", "", "Bytes of the packets handed to the engine")          \
  REASONS(malformed, "packets_malformed", ParseError, 1, "Captured packets that failed to parse, by reason") \
  REASONS(skipped, "packets_skipped", SkipReason, 0, "Captured packets not replicated, by reason")    \
  COUNTER(sessions_created, "sessions_created", "", "Sessions started from a client SYN")             \
  COUNTER(sessions_joined, "sessions_joined", "", "Sessions started mid-stream")                      \
  REASONS(sessions_unreplayable, "sessions_unreplayable", UnreplayableReason, 0, "Sessions replicated although their first payload shows a protocol a copy cannot replay, by protocol") \
  COUNTER(sessions_completed, "sessions_completed", "", "Sessions closed after all their data was delivered") \
  COUNTER(sessions_idle_closed, "sessions_idle_closed", "", "Sessions closed after idling too long")  \
  COUNTER(ports_moved, "ports_moved", "", "Copies moved to another client port because of a clash")   \
  COUNTER(ports_waited, "ports_waited", "", "Copies that waited for an earlier copy to finish on their port") \
  COUNTER(sessions_link_waited, "sessions_link_waited", "", "Sessions that waited at start-up for the intercept link before their SYN") \
  COUNTER(stale_connections, "stale_connections", "", "SYNs answered by a bare ACK (the target's TIME_WAIT)") \
  COUNTER(stale_resets, "stale_resets", "", "Resets sent to clear such a stale connection")           \
  COUNTER(sessions_capture_ended, "sessions_capture_ended", "", "Sessions still open when the capture file (or a pass of it) ended, reset on the target once answered") \
  REASONS(sessions_evicted, "sessions_evicted", EvictReason, 0, "Sessions dropped to make room in a full table, by reason") \
  REASONS(sessions_lost, "sessions_lost", LostReason, 0, "Sessions given up before completing, by reason") \
  COUNTER(requests_captured, "requests_captured", "", "Client requests seen online (a pipelined batch counts once)") \
  COUNTER(requests_replicated, "requests_replicated", "", "Client requests the target acknowledged (the segment each starts with)") \
  REASONS(requests_undelivered, "requests_undelivered", UndeliveredReason, 0, "Captured client requests the target never acknowledged, by why their session ended") \
  COUNTER(packets_sent, "packets_sent", "", "Packets sent toward the target")                         \
  COUNTER(bytes_sent, "payload_bytes_sent", "", "Client payload bytes sent for the first time")       \
  COUNTER(retransmits, "retransmits", "", "Timer retransmissions of every kind")                      \
  COUNTER(syn_retransmits, "syn_retransmits", "", "Timer retransmissions of SYNs")                    \
  COUNTER(fin_retransmits, "fin_retransmits", "", "Timer retransmissions of FINs")                    \
  COUNTER(fast_retransmits, "fast_retransmits", "", "Retransmissions on duplicate ACKs")              \
  COUNTER(output_full, "packets_dropped", "output_full", "Packets dropped because the sender had no buffer") \
  COUNTER(malformed_answers, "online_answers_malformed", "", "Captured online answers that failed to parse") \
  COUNTER(replies, "replies", "", "Reply headers received from intercept")                            \
  COUNTER(replies_malformed, "replies_malformed", "", "Reply headers that failed to parse")           \
  COUNTER(replies_bad_flags, "replies_bad_flags", "", "Reply headers with a flag combination no TCP sends") \
  COUNTER(replies_unknown, "replies_unknown_session", "", "Reply headers for no known session")       \
  COUNTER(response_bytes, "response_bytes", "", "Payload bytes the target sent back")                 \
  COUNTER(holds, "requests_held", "", "Requests held back until the previous response arrived")       \
  COUNTER(hold_timeouts, "hold_timeouts", "", "Held requests released because the wait timed out")    \
  COUNTER(window_probes, "window_probes", "", "Probes sent into a zero window")

// Bounds of the hold wait histogram, in seconds: from a LAN answer to the
// default hold timeout (a few seconds) and past it.
inline constexpr std::array<double, 14> kHoldWaitBounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,    0.25,  0.5,   1,     2.5,  5,    10};

struct EngineCounters {
  TC_COUNTER_FIELDS(TC_ENGINE_COUNTERS)
  // How long each held request (or FIN, or client RST) waited for the
  // target's answer before it went; a Prometheus histogram
  // (tcpcopy_hold_wait_seconds), not a log counter.
  Histogram hold_wait{kHoldWaitBounds};

  void report(CounterSink& sink) const;
};

}  // namespace tc

// Counters of the control channel, declared once in the lists below (see
// common/counters.h).
#pragma once

#include <array>
#include <cstdint>

#include "common/counters.h"

namespace tc::intercept {

#define TC_CLOSE_REASONS(X)                                                        \
  X(kPeerClosed, "peer_closed", "the peer closed the connection")                  \
  X(kReadError, "read_error", "reading from the connection failed")                \
  X(kWriteError, "write_error", "writing to the connection failed")                \
  X(kBadMagic, "bad_magic", "a frame without the protocol's magic")                \
  X(kBadVersion, "bad_version", "a protocol version this intercept does not speak") \
  X(kFrameTooLong, "frame_too_long", "a frame longer than the protocol allows")    \
  X(kBadPayload, "bad_payload", "a frame whose payload does not parse")            \
  X(kNoHello, "no_hello", "a frame other than Hello came first")                   \
  X(kDuplicateHello, "duplicate_hello", "a second Hello")                          \
  X(kShutdown, "shutdown", "intercept is shutting down")                           \
  X(kHelloTimeout, "hello_timeout", "the handshake did not complete in time")      \
  X(kAuthFailed, "auth_failed", "wrong proof, or an auth frame out of turn")        \
  X(kEvictedSameSource, "evicted_same_source",                                       \
    "in the handshake, closed for a newer connection from the same source")        \
  X(kEvictedBusiest, "evicted_busiest_source",                                       \
    "in the handshake, closed for a newer connection: every slot was busy and its source held the most")
TC_REASON_ENUM(CloseReason, TC_CLOSE_REASONS);

// Why a connection was closed right after accept, before reading from it.
#define TC_REFUSE_REASONS(X)                                                               \
  X(kNotAllowed, "not_allowed", "the peer address is not on --allow")                      \
  X(kTooManyPending, "too_many_pending", "too many connections still in the handshake")    \
  X(kTooMany, "too_many", "the connection cap is reached")
TC_REASON_ENUM(RefuseReason, TC_REFUSE_REASONS);

#define TC_CONTROL_COUNTERS(COUNTER, GAUGE, REASONS)                                                       \
  COUNTER(accepted, "control_accepted", "", "Control connections accepted")                                \
  COUNTER(accept_errors, "control_accept_errors", "", "accept() calls on the control socket that failed")   \
  REASONS(closed, "control_closed", CloseReason, 0, "Control connections closed, by reason")              \
  REASONS(refused, "control_refused", RefuseReason, 0, "Control connections closed right after accept, by reason") \
  COUNTER(memory_trims, "control_memory_trims", "", "Times memory of closed or idle connections went back to the system") \
  COUNTER(hellos, "control_hellos", "", "Hello frames received")                                           \
  COUNTER(authenticated, "control_authenticated", "", "Handshakes that proved the shared secret")          \
  COUNTER(frames_unknown, "control_frames_skipped", "unknown_type", "Frames skipped: a type this version does not know, or one only intercept sends") \
  COUNTER(frames_unexpected, "control_frames_skipped", "unexpected_type", "Frames skipped: a type this version does not know, or one only intercept sends")

struct ControlCounters {
  TC_COUNTER_FIELDS(TC_CONTROL_COUNTERS)

  void report(CounterSink& sink) const;
};

// Read from the open connections when reported.
#define TC_CONTROL_READINGS(COUNTER, GAUGE, REASONS)                               \
  GAUGE(connections, "control_connections", "", "Control connections open now")  \
  GAUGE(buffer_bytes, "control_buffer_bytes", "", "Bytes the control connections' buffers hold allocated now")

struct ControlReadings {
  TC_COUNTER_FIELDS(TC_CONTROL_READINGS)

  void report(CounterSink& sink) const;
};

}  // namespace tc::intercept

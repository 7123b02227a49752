// Counters of tcpcopy's connections to intercept, declared once in the
// lists below (see common/counters.h).
#pragma once

#include <array>
#include <cstdint>

#include "common/counters.h"
#include "common/histogram.h"

namespace tc {

// Why a connection ended; each has its own counter.
#define TC_LINK_FAILURES(X)                                                        \
  X(kRefused, "refused", "connection refused")                                     \
  X(kReset, "reset", "connection reset")                                           \
  X(kEof, "eof", "intercept closed the connection")                                \
  X(kTimeout, "timeout", "the kernel gave up (keepalive, user timeout)")           \
  X(kUnreachable, "unreachable", "no route to intercept")                          \
  X(kBadFrame, "bad_frame", "a frame that does not parse")                         \
  X(kBadVersion, "bad_version", "intercept speaks another control protocol version") \
  X(kConnectTimeout, "connect_timeout", "connect() did not complete in time")      \
  X(kHelloTimeout, "hello_timeout", "connected, but no HelloAck in time")           \
  X(kAuthFailed, "auth_failed", "the shared-secret handshake failed, either way")  \
  X(kTurnedAway, "turned_away", "intercept closed the connection and said why (load, --allow)") \
  X(kOther, "error", "any other socket error")
TC_REASON_ENUM(LinkFailure, TC_LINK_FAILURES);

#define TC_LINK_COUNTERS(COUNTER, GAUGE, REASONS)                                                         \
  COUNTER(connects, "link_connects", "", "Connections to intercept that completed the hello")            \
  REASONS(connect_failures, "link_connect_failures", LinkFailure, 0, "Connection attempts that never came up, by reason") \
  REASONS(disconnects, "link_disconnects", LinkFailure, 0, "Up connections lost, by reason")             \
  COUNTER(registrations, "link_registrations", "", "Sessions registered with intercept")                 \
  COUNTER(unregistrations, "link_unregistrations", "", "Sessions unregistered with intercept")           \
  COUNTER(registrations_shed, "link_registrations_shed", "", "Registrations dropped: the connection's writer was full") \
  COUNTER(unregistrations_shed, "link_unregistrations_shed", "", "Unregistrations dropped: the connection's writer was full") \
  COUNTER(replies_received, "link_replies_received", "", "Reply headers received from intercept")       \
  COUNTER(unknown_frames, "link_unknown_frames", "", "Frames of a type this version does not know")      \
  COUNTER(bad_frames, "link_bad_frames", "", "Frames that did not parse")

// Bounds of the control channel's round trip histogram, in seconds.
inline constexpr std::array<double, 14> kLinkRttBounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                        0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1};

struct InterceptLinkStats {
  static constexpr size_t kReasons = static_cast<size_t>(LinkFailure::kCount);
  TC_COUNTER_FIELDS(TC_LINK_COUNTERS)
  // Round trips of kPing/kPong on up connections, every connection
  // alike (tcpcopy_link_rtt_seconds).
  Histogram rtt{kLinkRttBounds};

  uint64_t failures(LinkFailure f) const { return connect_failures[static_cast<size_t>(f)]; }
  uint64_t lost(LinkFailure f) const { return disconnects[static_cast<size_t>(f)]; }
  void report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_LINK_COUNTERS, sink); }
};

}  // namespace tc

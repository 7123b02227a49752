#include "intercept/control/control_counters.h"

namespace tc::intercept {

const char* to_string(CloseReason r) {
  switch (r) {
    case CloseReason::kPeerClosed: return "peer_closed";
    case CloseReason::kReadError: return "read_error";
    case CloseReason::kWriteError: return "write_error";
    case CloseReason::kBadMagic: return "bad_magic";
    case CloseReason::kBadVersion: return "bad_version";
    case CloseReason::kFrameTooLong: return "frame_too_long";
    case CloseReason::kBadPayload: return "bad_payload";
    case CloseReason::kNoHello: return "no_hello";
    case CloseReason::kDuplicateHello: return "duplicate_hello";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kHelloTimeout: return "hello_timeout";
    case CloseReason::kAuthFailed: return "auth_failed";
    case CloseReason::kCount: break;
  }
  return "unknown";
}

const char* to_string(RefuseReason r) {
  switch (r) {
    case RefuseReason::kNotAllowed: return "not_allowed";
    case RefuseReason::kTooManyPending: return "too_many_pending";
    case RefuseReason::kTooMany: return "too_many";
    case RefuseReason::kCount: break;
  }
  return "unknown";
}

void ControlCounters::report(CounterSink& sink) const {
  sink.counter("control_accepted", "", accepted);
  sink.counter("control_accept_errors", "", accept_errors);
  for (size_t i = 0; i < closed.size(); ++i)
    sink.counter("control_closed", to_string(static_cast<CloseReason>(i)), closed[i]);
  for (size_t i = 0; i < refused.size(); ++i)
    sink.counter("control_refused", to_string(static_cast<RefuseReason>(i)), refused[i]);
  sink.counter("control_hellos", "", hellos);
  sink.counter("control_authenticated", "", authenticated);
  sink.counter("control_frames_skipped", "unknown_type", frames_unknown);
  sink.counter("control_frames_skipped", "unexpected_type", frames_unexpected);
}

}  // namespace tc::intercept

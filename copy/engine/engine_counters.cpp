#include "copy/engine/engine_counters.h"

namespace tc {

const char* to_string(SkipReason r) {
  switch (r) {
    case SkipReason::kNotTransfer: return "not_transfer";
    case SkipReason::kNoSession: return "no_session";
    case SkipReason::kNotFullSession: return "not_full_session";
    case SkipReason::kClientRetransmit: return "client_retransmit";
    case SkipReason::kAfterClose: return "after_close";
    case SkipReason::kNoBuffer: return "no_buffer";
    case SkipReason::kSampledOut: return "sampled_out";
    case SkipReason::kLoopbackClient: return "loopback_client";
    case SkipReason::kNoClientAddress: return "no_client_address";
    case SkipReason::kBadFlags: return "bad_flags";
    case SkipReason::kOutOfWindow: return "out_of_window";
    case SkipReason::kReorderCap: return "reorder_cap";
    case SkipReason::kCount: break;
  }
  return "unknown";
}

const char* to_string(LostReason r) {
  switch (r) {
    case LostReason::kNoIntercept: return "no_intercept";
    case LostReason::kNoSynAck: return "no_syn_ack";
    case LostReason::kTargetRefused: return "target_refused";
    case LostReason::kTargetReset: return "target_reset";
    case LostReason::kTargetUnresponsive: return "target_unresponsive";
    case LostReason::kResponseTimeout: return "response_timeout";
    case LostReason::kNoBuffer: return "no_buffer";
    case LostReason::kSessionCap: return "session_cap";
    case LostReason::kNoFreePort: return "no_free_port";
    case LostReason::kCount: break;
  }
  return "unknown";
}

const char* to_string(EvictReason r) {
  switch (r) {
    case EvictReason::kLingering: return "lingering";
    case EvictReason::kIdle: return "idle";
    case EvictReason::kCount: break;
  }
  return "unknown";
}

void EngineCounters::report(CounterSink& sink) const {
  sink.counter("packets_captured", "", packets_captured);
  sink.counter("bytes_captured", "", bytes_captured);
  for (size_t i = 1; i < malformed.size(); ++i)
    sink.counter("packets_malformed", to_string(static_cast<ParseError>(i)), malformed[i]);
  for (size_t i = 0; i < skipped.size(); ++i)
    sink.counter("packets_skipped", to_string(static_cast<SkipReason>(i)), skipped[i]);
  sink.counter("sessions_created", "", sessions_created);
  sink.counter("sessions_joined", "", sessions_joined);
  sink.counter("sessions_completed", "", sessions_completed);
  sink.counter("sessions_idle_closed", "", sessions_idle_closed);
  sink.counter("ports_moved", "", ports_moved);
  sink.counter("ports_waited", "", ports_waited);
  sink.counter("stale_connections", "", stale_connections);
  sink.counter("stale_resets", "", stale_resets);
  for (size_t i = 0; i < sessions_evicted.size(); ++i)
    sink.counter("sessions_evicted", to_string(static_cast<EvictReason>(i)), sessions_evicted[i]);
  for (size_t i = 0; i < sessions_lost.size(); ++i)
    sink.counter("sessions_lost", to_string(static_cast<LostReason>(i)), sessions_lost[i]);
  sink.counter("requests_replicated", "", requests_replicated);
  sink.counter("packets_sent", "", packets_sent);
  sink.counter("payload_bytes_sent", "", bytes_sent);
  sink.counter("retransmits", "", retransmits);
  sink.counter("syn_retransmits", "", syn_retransmits);
  sink.counter("fin_retransmits", "", fin_retransmits);
  sink.counter("fast_retransmits", "", fast_retransmits);
  sink.counter("packets_dropped", "output_full", output_full);
  sink.counter("replies", "", replies);
  sink.counter("replies_malformed", "", replies_malformed);
  sink.counter("replies_bad_flags", "", replies_bad_flags);
  sink.counter("replies_unknown_session", "", replies_unknown);
  sink.counter("response_bytes", "", response_bytes);
  sink.counter("requests_held", "", holds);
  sink.counter("hold_timeouts", "", hold_timeouts);
  sink.counter("window_probes", "", window_probes);
}

}  // namespace tc

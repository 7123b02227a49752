#include "copy/engine/request_pacer.h"

#include <algorithm>

namespace tc {

// Whether the target has answered as far as the online server had when the
// client sent a request (or FIN): `expect` is the online server's total
// output by then (from the client's ack), compared with the target's total
// output. Totals, not per-request counts, so a request released early
// cannot make the next one look answered. A request also goes when the
// target spoke after it and went quiet (its answer may be shorter than
// online's; an early request only means pipelining); a FIN does not, since
// a FIN inside a slow answer makes the target abort it. Either goes after
// the target stayed silent for the hold timeout. The online FIN, if any,
// is one byte of a FIN's `expect`.
RequestPacer::Answer RequestPacer::answered(uint32_t expect, bool fin, bool target_fin, TimePoint now,
                                            const PacerTimes& t) const {
  if (fin ? target_fin || seq_ge(answer_total + 1, expect) : seq_ge(answer_credit, expect))
    return Answer::kAnswered;
  if (!fin && answer_bytes > 0 && now - last_target_data >= t.answer_quiet) return Answer::kAnswered;
  const TimePoint since = std::max(hold_since, last_target_data);
  return now - since >= t.hold_timeout ? Answer::kTimedOut : Answer::kWaiting;
}

bool RequestPacer::hold(uint32_t expect, bool fin, bool target_fin, TimePoint now, const PacerTimes& t,
                        EngineCounters& counters) {
  if (!holding) hold_since = now;
  const Answer a = answered(expect, fin, target_fin, now, t);
  if (a == Answer::kWaiting) {
    if (!holding) {
      holding = true;
      hold_is_fin = fin;
      hold_since = now;
      ++counters.holds;
    }
    return true;
  }
  if (a == Answer::kTimedOut) ++counters.hold_timeouts;
  // An answer taken as whole though shorter than online's counts as
  // online's length for the requests after it; else the shortfall stays and
  // every later request of the session waits for quiet too (a Redis counter
  // one digit shorter on the target made each copy of a session wait
  // 50 ms). The FIN keeps to the real total: if the answer was only paused,
  // its rest must not pass for the next one's and let the FIN cut it.
  if (!fin && seq_lt(answer_credit, expect)) answer_credit = expect;
  holding = false;
  return false;
}

bool RequestPacer::rst_waits(TimePoint now, const PacerTimes& t, EngineCounters& counters) {
  if (requests_seen == 0) return false;
  if (!holding) hold_since = now;
  if (answer_bytes > 0 && now - last_target_data >= t.answer_quiet) {
    holding = false;
    return false;
  }
  if (now - std::max(hold_since, last_target_data) >= t.hold_timeout) {
    ++counters.hold_timeouts;
    holding = false;
    return false;
  }
  if (!holding) {
    holding = true;
    hold_is_fin = false;  // ends on quiet, like a request
    ++counters.holds;
  }
  return true;
}

TimePoint RequestPacer::deadline(const PacerTimes& t) const {
  if (!holding) return {};
  TimePoint when = std::max(hold_since, last_target_data) + t.hold_timeout;
  if (!hold_is_fin && answer_bytes > 0) when = std::min(when, last_target_data + t.answer_quiet);
  return when;
}

}  // namespace tc

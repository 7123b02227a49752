#include "copy/engine/request_pacer.h"

#include <algorithm>

namespace tc {

// A request compares with the re-based count, a FIN with the real total:
// the online FIN, when the server closed first, is one byte of a FIN's
// `expect`, so a total one short of it is online's length too.
bool RequestPacer::ends_on_quiet(uint32_t expect, bool fin) const {
  if (!fin) return true;
  return seq_gt(answer_total, expect);
}

RequestPacer::Answer RequestPacer::answered(uint32_t expect, bool fin, bool target_fin, TimePoint now,
                                            const PacerTimes& t) const {
  if (target_fin) return Answer::kAnswered;
  const bool exact = fin ? answer_total == expect || answer_total + 1 == expect : answer_credit == expect;
  if (exact) return Answer::kAnswered;
  if (ends_on_quiet(expect, fin) && quiet(now, t)) return Answer::kAnswered;
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
      hold_expect = expect;
      hold_since = now;
      ++counters.holds;
    }
    return true;
  }
  if (a == Answer::kTimedOut) ++counters.hold_timeouts;
  if (!fin) answer_credit = expect;
  end_hold(now, counters);
  return false;
}

bool RequestPacer::rst_waits(TimePoint now, const PacerTimes& t, EngineCounters& counters) {
  if (requests_seen == 0) return false;
  if (!holding) hold_since = now;
  if (quiet(now, t)) {
    end_hold(now, counters);
    return false;
  }
  if (now - std::max(hold_since, last_target_data) >= t.hold_timeout) {
    ++counters.hold_timeouts;
    end_hold(now, counters);
    return false;
  }
  if (!holding) {
    holding = true;
    hold_is_fin = false;  // ends on quiet, like a request
    ++counters.holds;
  }
  return true;
}

void RequestPacer::end_hold(TimePoint now, EngineCounters& counters) {
  if (holding) counters.hold_wait.observe(std::chrono::duration<double>(now - hold_since).count());
  holding = false;
}

TimePoint RequestPacer::deadline(const PacerTimes& t) const {
  if (!holding) return {};
  TimePoint when = std::max(hold_since, last_target_data) + t.hold_timeout;
  if (answer_bytes > 0 && ends_on_quiet(hold_expect, hold_is_fin))
    when = std::min(when, last_target_data + t.answer_quiet);
  return when;
}

}  // namespace tc

// Request pacing of one session: a new request (or the FIN, or a client
// RST) goes to the target only once the target's answer to the one before
// it has ended. The online side is read from the client's acks (a moving
// ack between two pieces of data means the online server answered in
// between); the target side from reply headers.
//
// When an answer has ended, for an item that needs the online output
// `expect` (the online server's total output before the client sent it):
//  - the target has said exactly as much as online: at once (an answer of
//    online's length is taken as complete; no wait is added);
//  - the target has said more than online, or less: once it has spoken
//    since our last data and then stayed quiet for `answer_quiet`. A
//    longer answer may still be coming when online's count is passed; a
//    request sent into it would be pipelined onto it, a FIN would end the
//    connection under it. A FIN after an answer the target kept shorter
//    than online's waits for the rest (or the timeout), not for quiet: a
//    slow target pausing inside an answer must not have it cut;
//  - the target has closed (its FIN): at once;
//  - the target stayed silent for `hold_timeout`: anyway (counted).
// Counts are totals since the session began, re-based at every request
// that was held: an answer taken as ended counts as online's length for the
// requests after it, so one answer of another length does not make every
// later one wait for quiet, and the rest of an answer that only paused
// makes the next one look longer, never complete.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/tcp_packet.h"
#include "copy/engine/engine_counters.h"

namespace tc {

struct PacerTimes {
  Duration hold_timeout;  // target silence after which a held item goes anyway
  Duration answer_quiet;  // silence that ends a target answer not of online's length
};

struct RequestPacer {
  bool have_ref_ack = false;
  uint32_t ref_ack = 0;        // client's ack (online space) on its last data
  uint32_t online_base = 0;    // client's first ack: online output counts from here
  uint32_t answer_bytes = 0;   // target payload since our last new data
  uint32_t answer_total = 0;   // target payload since the session began (FIN holds)
  // The same for request holds, re-based to online's count whenever a held
  // request goes.
  uint32_t answer_credit = 0;
  TimePoint last_target_data{};
  bool holding = false;        // a request or FIN waits for the target's answer
  bool hold_is_fin = false;
  uint32_t hold_expect = 0;    // the held item's `expect`
  TimePoint hold_since{};
  uint32_t requests_seen = 0;

  // The client's ack on a packet (`carries`: data or FIN): true when it
  // moved past the last one, i.e. the online server answered in between.
  bool client_ack(uint32_t ack, bool carries) {
    if (!have_ref_ack) {
      ref_ack = online_base = ack;
      have_ref_ack = true;
      return false;
    }
    if (!carries || !seq_gt(ack, ref_ack)) return false;
    ref_ack = ack;
    return true;
  }
  // The online server's output up to the client's `ack`.
  uint32_t online_output(uint32_t ack) const { return ack - online_base; }
  // `fresh` bytes of the target's answer arrived.
  void target_answered(uint32_t fresh, TimePoint now) {
    answer_bytes += fresh;
    answer_total += fresh;
    answer_credit += fresh;
    last_target_data = now;
  }
  // New data went to the target: its next answer starts.
  void request_sent() { answer_bytes = 0; }

  // True while an item that needs the online output `expect` answered must
  // wait; starts or ends the hold. `target_fin`: the target has closed.
  bool hold(uint32_t expect, bool fin, bool target_fin, TimePoint now, const PacerTimes& t,
            EngineCounters& counters);
  // True while a client RST must wait for the answer to the last request.
  bool rst_waits(TimePoint now, const PacerTimes& t, EngineCounters& counters);
  // When a hold in progress must be looked at again (the hold timeout, or
  // quiet after part of an answer); zero when none is.
  TimePoint deadline(const PacerTimes& t) const;

 private:
  enum class Answer { kWaiting, kAnswered, kTimedOut };
  Answer answered(uint32_t expect, bool fin, bool target_fin, TimePoint now, const PacerTimes& t) const;
  // Whether the target's answer, compared with `expect`, ends on quiet.
  bool ends_on_quiet(uint32_t expect, bool fin) const;
  // Ends a hold in progress (and times it), if any.
  void end_hold(TimePoint now, EngineCounters& counters);
  bool quiet(TimePoint now, const PacerTimes& t) const {
    return answer_bytes > 0 && now - last_target_data >= t.answer_quiet;
  }
};

}  // namespace tc

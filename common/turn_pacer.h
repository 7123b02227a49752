// Wakeup coalescing for a daemon's event loop, as a NIC coalesces its
// interrupts: after a turn that handled I/O, the thread sleeps a short while
// before it waits again, so the packets of that while are read, handled and
// sent in one batch instead of a wakeup each. At tens of thousands of
// packets a second, the context switches cost more than the packets; the
// price is at most `wait` of added latency. An idle loop is not affected:
// it blocks until I/O as before.
//
// A turn that handled a single packet does not sleep: packets come one at a
// time (one connection's request and its reply in turn, say), a wait would
// only delay the next, and there is nothing to batch. Batching starts when
// packets come faster than the loop turns, as adaptive interrupt
// coalescing does on a NIC.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/counters.h"

namespace tc {

#define TC_TURN_PACER_COUNTERS(COUNTER, GAUGE, REASONS) \
  COUNTER(sleeps, "batch_waits", "", "Turns of the main loop after which it waited --batch-wait before the next")

struct TurnPacerCounters {
  TC_COUNTER_FIELDS(TC_TURN_PACER_COUNTERS)

  void report(CounterSink& sink) const;
};

class TurnPacer {
 public:
  using Sleeper = std::function<void(std::chrono::microseconds)>;

  // wait 0: never sleeps.
  explicit TurnPacer(std::chrono::microseconds wait);
  TurnPacer(std::chrono::microseconds wait, Sleeper sleeper);  // for tests

  // Called at the end of each turn, once its output is flushed, always by
  // the same thread (the default sleeper sets that thread's timer slack).
  // `handled`: the packets (or other input items) the turn handled; it
  // sleeps when that is at least kMinBatch.
  void end_of_turn(size_t handled);

  static constexpr size_t kMinBatch = 2;

  uint64_t sleeps() const { return counters_.sleeps; }
  void report(CounterSink& sink) const { counters_.report(sink); }

 private:
  std::chrono::microseconds wait_;
  Sleeper sleeper_;
  TurnPacerCounters counters_;
};

}  // namespace tc

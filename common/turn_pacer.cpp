#include "common/turn_pacer.h"

#include <sys/prctl.h>
#include <time.h>

#include <utility>

namespace tc {

namespace {

void sleep_for(std::chrono::microseconds d) {
  const timespec ts{static_cast<time_t>(d.count() / 1000000), static_cast<long>(d.count() % 1000000) * 1000};
  // A signal cuts the sleep short; the loop's signal fd sees it next turn.
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

// The thread's timer slack (50 us by default) would lengthen every sleep by
// up to that much; the pacer's sleeps are short and meant as given. Set
// once, by the thread that sleeps.
TurnPacer::Sleeper precise_sleeper() {
  return [slack_set = false](std::chrono::microseconds d) mutable {
    if (!slack_set) {
      prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // 1 us
      slack_set = true;
    }
    sleep_for(d);
  };
}

}  // namespace

TurnPacer::TurnPacer(std::chrono::microseconds wait) : TurnPacer(wait, precise_sleeper()) {}

TurnPacer::TurnPacer(std::chrono::microseconds wait, Sleeper sleeper) : wait_(wait), sleeper_(std::move(sleeper)) {}

void TurnPacer::end_of_turn(size_t handled) {
  if (handled < kMinBatch || wait_.count() <= 0) return;
  ++counters_.sleeps;
  sleeper_(wait_);
}

void TurnPacerCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_TURN_PACER_COUNTERS, sink); }

}  // namespace tc

#include "intercept/control/control_counters.h"

namespace tc::intercept {

TC_REASON_TO_STRING(CloseReason, TC_CLOSE_REASONS)
TC_REASON_TO_STRING(RefuseReason, TC_REFUSE_REASONS)

void ControlCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_CONTROL_COUNTERS, sink); }

void ControlReadings::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_CONTROL_READINGS, sink); }

}  // namespace tc::intercept

#include "copy/engine/engine_counters.h"

namespace tc {

TC_REASON_TO_STRING(SkipReason, TC_SKIP_REASONS)
TC_REASON_TO_STRING(LostReason, TC_LOST_REASONS)
TC_REASON_TO_STRING(EvictReason, TC_EVICT_REASONS)
TC_REASON_TO_STRING(UndeliveredReason, TC_UNDELIVERED_REASONS)
TC_REASON_TO_STRING(UnreplayableReason, TC_UNREPLAYABLE_REASONS)

void EngineCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_ENGINE_COUNTERS, sink); }

}  // namespace tc

// How the kernel schedules a daemon's threads. Both daemons wake for
// packets tens of thousands of times a second. Under the default policy
// (SCHED_OTHER) each of those wakeups may preempt the task running on that
// CPU, on an online server the production server itself. SCHED_BATCH keeps
// the same fair share of CPU but gives up wakeup preemption: the daemon runs
// when the running task sleeps or its slice ends, so it takes the CPU in
// fewer, longer turns, with fewer context switches on both sides.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tc {

enum class SchedPolicy { kBatch, kNormal };

// "batch" or "normal"; nullopt for anything else.
std::optional<SchedPolicy> parse_sched_policy(std::string_view text);
const char* sched_policy_name(SchedPolicy policy);

// Sets the calling thread's policy (threads it starts later inherit it),
// keeping its nice value. Returns a line for the log; throws
// std::system_error if the kernel refuses.
std::string apply_sched_policy(SchedPolicy policy);

}  // namespace tc

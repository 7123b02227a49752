#include "common/process/sched_policy.h"

#include <sched.h>

#include <cerrno>
#include <system_error>

namespace tc {

std::optional<SchedPolicy> parse_sched_policy(std::string_view text) {
  if (text == "batch") return SchedPolicy::kBatch;
  if (text == "normal") return SchedPolicy::kNormal;
  return std::nullopt;
}

const char* sched_policy_name(SchedPolicy policy) { return policy == SchedPolicy::kBatch ? "batch" : "normal"; }

std::string apply_sched_policy(SchedPolicy policy) {
  const int kernel_policy = policy == SchedPolicy::kBatch ? SCHED_BATCH : SCHED_OTHER;
  const sched_param param{};  // priority 0: the only one these policies take
  // pid 0: the calling thread; the nice value is left as it is.
  if (sched_setscheduler(0, kernel_policy, &param) != 0)
    throw std::system_error(errno, std::generic_category(),
                            std::string("scheduling policy ") + sched_policy_name(policy));
  return policy == SchedPolicy::kBatch ? "scheduling: SCHED_BATCH (no wakeup preemption of other tasks)"
                                       : "scheduling: SCHED_OTHER";
}

}  // namespace tc

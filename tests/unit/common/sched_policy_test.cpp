#include "common/process/sched_policy.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace tc {
namespace {

TEST(SchedPolicy, ParsesTheTwoNamesOnly) {
  EXPECT_EQ(parse_sched_policy("batch"), SchedPolicy::kBatch);
  EXPECT_EQ(parse_sched_policy("normal"), SchedPolicy::kNormal);
  for (const char* bad : {"", "Batch", "fifo", "idle", "other", "batch "}) EXPECT_FALSE(parse_sched_policy(bad)) << bad;
  EXPECT_STREQ(sched_policy_name(SchedPolicy::kBatch), "batch");
  EXPECT_STREQ(sched_policy_name(SchedPolicy::kNormal), "normal");
}

// On a thread of its own: the policy is per thread, the test runner's
// stays as it was.
TEST(SchedPolicy, AppliesToTheThreadAndWhatItStarts) {
  int own = -1, started = -1, back = -1;
  std::thread([&] {
    apply_sched_policy(SchedPolicy::kBatch);
    own = sched_getscheduler(0);
    std::thread([&] { started = sched_getscheduler(0); }).join();
    apply_sched_policy(SchedPolicy::kNormal);
    back = sched_getscheduler(0);
  }).join();
  EXPECT_EQ(own, SCHED_BATCH);
  EXPECT_EQ(started, SCHED_BATCH) << "threads started later inherit the policy";
  EXPECT_EQ(back, SCHED_OTHER);
}

}  // namespace
}  // namespace tc

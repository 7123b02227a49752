#include "common/process_metrics.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

// A /proc/<pid>/stat line whose command name holds a space and a ')'.
constexpr std::string_view kStat =
    "4242 (my) daemon) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 1 0 12345 123456789 300 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
constexpr std::string_view kProcStat = "cpu  1 2 3 4\nbtime 1700000000\nprocesses 5\n";

TEST(ProcessMetrics, ParsesCpuMemoryAndStartTime) {
  const auto s = parse_proc_stat(kStat, kProcStat, 100, 4096);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);  // (250 + 50) ticks at 100 Hz
  EXPECT_EQ(s->resident_bytes, 300u * 4096);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000000 + 123.45);
}

TEST(ProcessMetrics, RejectsShortOrBrokenText) {
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3", kProcStat, 100, 4096));
  EXPECT_FALSE(parse_proc_stat("no parenthesis", kProcStat, 100, 4096));
  EXPECT_FALSE(parse_proc_stat(kStat, "cpu 1 2 3\n", 100, 4096));
  EXPECT_FALSE(parse_proc_stat(kStat, kProcStat, 0, 4096));
}

TEST(ProcessMetrics, ReadsThisProcess) {
  const auto s = read_process_stats();
  ASSERT_TRUE(s);
  EXPECT_GT(s->resident_bytes, 0u);
  EXPECT_GT(s->open_fds, 0u);  // at least stdin, stdout, stderr
  EXPECT_GE(s->max_fds, s->open_fds);
  EXPECT_GT(s->start_time_seconds, 1e9);
}

}  // namespace
}  // namespace tc

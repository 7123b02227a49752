#include <gtest/gtest.h>

#include "common/counters.h"
#include "intercept/nfqueue/queue_stats.h"

namespace tc::intercept {
namespace {

TEST(NfqueueProc, ParsesTheKernelsColumns) {
  // As the kernel prints it: "%5u %6u %5u %1u %5u %5u %5u %8u %2d\n".
  const auto e = parse_nfqueue_proc(
      "    0  12345     3 2   128     7     9   100042  1\n"
      "    3 -4000012     0 2   128     0     0        0  1\n"
      "65535 4294967295 1024 2 65535 4294967295     0 4294967295  1\n");
  ASSERT_EQ(e.size(), 2u);  // the line with a negative port id is not valid
  EXPECT_EQ(e[0].queue_num, 0u);
  EXPECT_EQ(e[0].portid, 12345u);
  EXPECT_EQ(e[0].queue_total, 3u);
  EXPECT_EQ(e[0].copy_mode, 2u);
  EXPECT_EQ(e[0].copy_range, 128u);
  EXPECT_EQ(e[0].queue_dropped, 7u);
  EXPECT_EQ(e[0].user_dropped, 9u);
  EXPECT_EQ(e[0].id_sequence, 100042u);
  EXPECT_EQ(e[1].queue_num, 65535u);
  EXPECT_EQ(e[1].portid, 4294967295u);
  EXPECT_EQ(e[1].queue_dropped, 4294967295u);
}

TEST(NfqueueProc, SkipsWhatIsNotALine) {
  EXPECT_TRUE(parse_nfqueue_proc("").empty());
  EXPECT_TRUE(parse_nfqueue_proc("\n\n").empty());
  EXPECT_TRUE(parse_nfqueue_proc("queue portid total\n").empty());
  EXPECT_TRUE(parse_nfqueue_proc("1 2 3 4 5 6 7\n").empty());      // seven fields
  EXPECT_TRUE(parse_nfqueue_proc("1 2 3 4 5 6 7 x8 1\n").empty());
  EXPECT_TRUE(parse_nfqueue_proc("1 2 3 4 5 6 7 99999999999 1").empty());  // overflow
  const auto e = parse_nfqueue_proc("1\t2 3 4 5 6 7 8");  // no newline, tabs
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].id_sequence, 8u);
}

TEST(NfqueueProc, FindAndReport) {
  const auto entries = parse_nfqueue_proc("    0  1 0 2 128 0 0 5 1\n    4  2 6 2 128 1 2 77 1\n");
  EXPECT_FALSE(find_queue(entries, 3));
  const auto q = find_queue(entries, 4);
  ASSERT_TRUE(q);
  CounterText text;
  report_queue_stats(q, text);
  EXPECT_EQ(text.line(true),
            "nfqueue_waiting=6 nfqueue_dropped{queue_full}=1 nfqueue_dropped{socket_full}=2 nfqueue_packets=77");
  CounterText none;
  report_queue_stats(std::nullopt, none);
  EXPECT_EQ(none.line(true), "");
}

}  // namespace
}  // namespace tc::intercept

// Every counter tcpcopy's captures and the comparison report comes with its
// help text.
#include <gtest/gtest.h>

#include <cerrno>

#include "copy/capture/answer_capture.h"
#include "copy/capture/pcap_capture.h"
#include "copy/capture/pcap_file_replay.h"
#include "copy/capture/raw_capture.h"
#include "copy/capture/ring_capture.h"
#include "copy/capture/shard_filter.h"
#include "copy/compare/comparison.h"
#include "copy/reply/reply_capture.h"
#include "tests/unit/common/help_check.h"

namespace tc {
namespace {

template <typename Counters>
void expect_help(const Counters& c, const char* what) {
  HelpCheck check;
  c.report(check);
  EXPECT_GT(check.reported, 0u) << what;
  EXPECT_TRUE(check.without_help.empty()) << what << ": " << testing::PrintToString(check.without_help);
}

TEST(CounterHelp, EveryCaptureCounterHasHelp) {
  RawCaptureStats raw;
  raw.receive_errors[ENOMEM] = 1;
  expect_help(raw, "raw capture");
  expect_help(PcapCaptureStats{}, "libpcap capture");
  expect_help(PcapReplayStats{}, "offline replay");
  expect_help(AnswerCaptureStats{}, "answer capture");
  expect_help(ReplyCaptureCounters{}, "reply capture");
  expect_help(compare::ComparisonCounters{}, "comparison");
  expect_help(ShardStats{}, "workers' shares");
  HelpCheck ring;
  RingCaptureStats{}.report(ring, true);
  EXPECT_TRUE(ring.without_help.empty()) << testing::PrintToString(ring.without_help);
}

TEST(CounterHelp, RingAnswersOnlyWithTheComparison) {
  RingCaptureStats s;
  s.packets = 5;
  s.answers = 2;
  CounterText without;
  s.report(without, false);
  EXPECT_EQ(without.line(), "capture_packets=5");
  CounterText with;
  s.report(with, true);
  EXPECT_EQ(with.line(), "capture_packets=5 answer_capture_packets=2");
}

TEST(CounterHelp, RawCaptureCountsByErrno) {
  RawCaptureStats s;
  s.receive_errors[ENOMEM] = 3;
  CounterText text;
  s.report(text);
  EXPECT_EQ(text.line(), "capture_receive_errors{ENOMEM}=3");
}

}  // namespace
}  // namespace tc

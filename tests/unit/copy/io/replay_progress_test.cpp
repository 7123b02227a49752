// The offline replay's progress line: share done over every pass, rates
// since the previous line, time left; and the replay's own position.
#include "copy/capture/replay_progress.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

const TimePoint kStart = TimePoint(std::chrono::seconds(1000));

TEST(ReplayProgress, ShareCountsEveryPass) {
  ReplayPosition p;
  p.file_size = 1000;
  p.offset = 500;
  EXPECT_DOUBLE_EQ(ReplayProgress::fraction(p), 0.5);
  p.passes = 4;
  p.pass = 2;
  EXPECT_DOUBLE_EQ(ReplayProgress::fraction(p), 0.625);
  p.offset = -1;
  EXPECT_LT(ReplayProgress::fraction(p), 0);
  p.done = true;
  EXPECT_DOUBLE_EQ(ReplayProgress::fraction(p), 1.0);
}

TEST(ReplayProgress, LineHasShareRatesAndTimeLeft) {
  ReplayProgress progress(kStart);
  ReplayPosition p;
  p.file_size = 40 << 20;
  p.offset = 10 << 20;
  p.packets = 20000;
  p.bytes = 8 << 20;
  const std::string line = progress.line(p, kStart + std::chrono::seconds(2));
  EXPECT_EQ(line,
            "offline replay: 25.0% (pass 1/1, 10.0 MiB of 40.0 MiB), 20000 packets, 10000 packets/s, 4.0 MiB/s, "
            "about 6 s left");
  // The rates are those since the previous line.
  p.offset = 20 << 20;
  p.packets = 21000;
  p.bytes = 9 << 20;
  EXPECT_NE(progress.line(p, kStart + std::chrono::seconds(3)).find("1000 packets/s, 1.0 MiB/s"), std::string::npos);
}

TEST(ReplayProgress, UnknownSizeAndDone) {
  ReplayProgress progress(kStart);
  ReplayPosition p;
  p.passes = 3;
  p.pass = 1;
  p.packets = 5;
  EXPECT_EQ(progress.line(p, kStart + std::chrono::seconds(1)),
            "offline replay: pass 2/3, 5 packets, 5 packets/s, 0.0 MiB/s");
  p.file_size = 3 << 20;
  p.pass = 2;
  p.done = true;
  EXPECT_EQ(progress.line(p, kStart + std::chrono::seconds(125)),
            "offline replay: 100.0% (pass 3/3, 3.0 MiB of 3.0 MiB), 5 packets, done in 2 min 05 s");
  p.file_size = 6000;
  p.done = false;
  p.offset = 3000;
  EXPECT_NE(progress.line(p, kStart + std::chrono::seconds(126)).find("(pass 3/3, 3 KiB of 6 KiB)"), std::string::npos);
}

}  // namespace
}  // namespace tc

#include <gtest/gtest.h>

#include "common/counters.h"

namespace tc {
namespace {

// Records what reaches it, to see gauges stay gauges.
class Recorder : public CounterSink {
 public:
  void counter(std::string_view name, std::string_view reason, uint64_t value) override {
    lines.push_back("c " + std::string(name) + "{" + std::string(reason) + "}=" + std::to_string(value));
  }
  void gauge(std::string_view name, std::string_view reason, uint64_t value) override {
    lines.push_back("g " + std::string(name) + "{" + std::string(reason) + "}=" + std::to_string(value));
  }
  std::vector<std::string> lines;
};

TEST(CounterTotals, SumsSameNameAndReasonInFirstSeenOrder) {
  CounterTotals totals;
  totals.counter("packets", "", 3);
  totals.counter("verdicts", "drop", 2);
  totals.gauge("waiting", "", 1);
  totals.counter("packets", "", 4);
  totals.counter("verdicts", "accept", 1);
  totals.counter("verdicts", "drop", 5);
  totals.gauge("waiting", "", 6);
  Recorder r;
  totals.report(r);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"c packets{}=7", "c verdicts{drop}=7", "g waiting{}=7",
                                               "c verdicts{accept}=1"}));
}

}  // namespace
}  // namespace tc

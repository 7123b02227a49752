#include "copy/compare/comparison_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/unit/copy/compare/allocation_count.h"
#include "tests/unit/copy/compare/records.h"

namespace tc::compare {
namespace {

using testing::exchange;
using testing::judgement;

TEST(ComparisonStats, CountsExchangesByVerdict) {
  ComparisonStats stats;
  stats.add(exchange("GET /a", 100, 1, 100, 1), judgement(Verdict::kMatch, "200", "200", "GET /a"));
  stats.add(exchange("GET /a", 100, 1, 100, 1), judgement(Verdict::kMatch, "200", "200", "GET /a"));
  stats.add(exchange("GET /b", 100, 1, 90, 1), judgement(Verdict::kStatusDiffers, "200", "404", "GET /b"));
  stats.add(exchange("GET /c", 100, 1, 0, -1), judgement(Verdict::kTargetSilent, "200", "", "GET /c"));
  EXPECT_EQ(stats.compared(), 4u);
  EXPECT_EQ(stats.count(Verdict::kMatch), 2u);
  EXPECT_EQ(stats.count(Verdict::kStatusDiffers), 1u);
  EXPECT_EQ(stats.count(Verdict::kTargetSilent), 1u);
  EXPECT_EQ(stats.count(Verdict::kSlower), 0u);
  stats.add(exchange("GET /d", 1, 1, 1, 1), judgement(Verdict::kCount, "200", "200", "GET /d"));
  EXPECT_EQ(stats.compared(), 4u);
  EXPECT_EQ(stats.groups().size(), 2u);
}

TEST(ComparisonStats, StatusMatrixCountsEachPairInTheOrderFirstSeen) {
  ComparisonStats stats;
  stats.add(exchange("GET /", 1, 1, 1, 1), judgement(Verdict::kMatch, "200", "200", "GET /"));
  stats.add(exchange("GET /", 1, 1, 1, 1), judgement(Verdict::kStatusDiffers, "200", "404", "GET /"));
  stats.add(exchange("GET /", 1, 1, 0, -1), judgement(Verdict::kTargetSilent, "200", "", "GET /"));
  stats.add(exchange("GET /", 1, 1, 1, 1), judgement(Verdict::kStatusDiffers, "200", "404", "GET /"));
  const auto cells = stats.status_matrix();
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].online.view(), "200");
  EXPECT_EQ(cells[0].target.view(), "200");
  EXPECT_EQ(cells[0].count, 1u);
  EXPECT_EQ(cells[1].target.view(), "404");
  EXPECT_EQ(cells[1].count, 2u);
  EXPECT_FALSE(cells[2].target.present());
  EXPECT_EQ(cells[2].count, 1u);
  EXPECT_EQ(stats.status_other(), 0u);
}

TEST(ComparisonStats, StatusPairsBeyondTheBoundAreCountedAsOther) {
  ComparisonStats stats;
  const auto add = [&](int online, int target) {
    stats.add(exchange("GET /", 1, 1, 1, 1),
              judgement(Verdict::kStatusDiffers, std::to_string(online), std::to_string(target), "GET /"));
  };
  for (int i = 0; i < 100; ++i) add(200, 300 + i);
  EXPECT_EQ(stats.status_matrix().size(), ComparisonStats::kMaxStatusPairs);
  EXPECT_EQ(stats.status_other(), 100 - ComparisonStats::kMaxStatusPairs);
  add(200, 300);  // a pair kept: still counted in its cell
  add(200, 399);  // a pair never kept: other
  EXPECT_EQ(stats.status_matrix()[0].count, 2u);
  EXPECT_EQ(stats.status_other(), 100 - ComparisonStats::kMaxStatusPairs + 1);
  uint64_t sum = stats.status_other();
  for (const StatusCell& c : stats.status_matrix()) sum += c.count;
  EXPECT_EQ(sum, stats.compared());
}

TEST(ComparisonStats, GroupsDifferencesByLabelWithTheFirstAsExample) {
  ComparisonStats stats;
  stats.add(exchange("GET /a HTTP/1.1", 10, 1, 10, 1), judgement(Verdict::kMatch, "200", "200", "GET /a"));
  stats.add(exchange("GET /b?x=1 HTTP/1.1", 10, 1, 20, 2), judgement(Verdict::kStatusDiffers, "200", "500", "GET /b"));
  stats.add(exchange("GET /b?x=2 HTTP/1.1", 10, 1, 10, 90), judgement(Verdict::kSlower, "200", "200", "GET /b"));
  stats.add(exchange("GET /b?x=3 HTTP/1.1", 10, 1, 0, -1), judgement(Verdict::kStatusDiffers, "200", "", "GET /b"));
  stats.add(exchange("GET /a HTTP/1.1", 10, 1, 10, 1), judgement(Verdict::kMatch, "200", "200", "GET /a"));
  const auto groups = stats.groups();
  ASSERT_EQ(groups.size(), 1u);  // matches make no group
  const DifferenceGroup& g = groups[0];
  EXPECT_EQ(g.label.view(), "GET /b");
  EXPECT_EQ(g.counts[static_cast<size_t>(Verdict::kStatusDiffers)], 2u);
  EXPECT_EQ(g.counts[static_cast<size_t>(Verdict::kSlower)], 1u);
  EXPECT_EQ(g.counts[static_cast<size_t>(Verdict::kMatch)], 0u);
  EXPECT_EQ(g.total(), 3u);
  EXPECT_EQ(g.example.request.view(), "GET /b?x=1 HTTP/1.1");
  EXPECT_EQ(g.example.target.bytes, 20u);
  EXPECT_EQ(g.example.target.ms, 2);
  EXPECT_EQ(g.example_judgement.target_status.view(), "500");
  EXPECT_EQ(g.example_judgement.verdict, Verdict::kStatusDiffers);
  EXPECT_EQ(stats.other_group().total(), 0u);
}

TEST(ComparisonStats, LabelsBeyondTheBoundAreGroupedAsOther) {
  ComparisonStats stats;
  const size_t labels = ComparisonStats::kMaxGroups + 50;
  for (size_t i = 0; i < labels; ++i) {
    const std::string label = "GET /" + std::to_string(i);
    stats.add(exchange(label, 1, 1, 2, 1), judgement(Verdict::kSizeDiffers, "200", "200", label));
  }
  ASSERT_EQ(stats.groups().size(), ComparisonStats::kMaxGroups);
  const DifferenceGroup& other = stats.other_group();
  EXPECT_EQ(other.total(), 50u);
  EXPECT_EQ(other.counts[static_cast<size_t>(Verdict::kSizeDiffers)], 50u);
  EXPECT_EQ(other.example.request.view(), "GET /" + std::to_string(ComparisonStats::kMaxGroups));
  // A label kept is still counted in its own group.
  stats.add(exchange("GET /0", 1, 1, 0, -1), judgement(Verdict::kTargetReset, "200", "", "GET /0"));
  EXPECT_EQ(stats.groups()[0].total(), 2u);
  EXPECT_EQ(stats.other_group().total(), 50u);
}

TEST(ComparisonStats, AddDoesNotAllocate) {
  ComparisonStats stats;
  std::string labels[ComparisonStats::kMaxGroups + 10];
  for (size_t i = 0; i < std::size(labels); ++i) labels[i] = "GET /" + std::to_string(i);
  std::string statuses[ComparisonStats::kMaxStatusPairs + 10];
  for (size_t i = 0; i < std::size(statuses); ++i) statuses[i] = std::to_string(100 + i);
  const uint64_t before = tc::testing::allocations();
  for (size_t round = 0; round < 3; ++round) {
    for (size_t i = 0; i < std::size(labels); ++i) {
      const Verdict v = i % 3 == 0 ? Verdict::kMatch : Verdict::kStatusDiffers;
      stats.add(exchange(labels[i], 10, static_cast<double>(i), 10, 1e6),
                judgement(v, "200", statuses[i % std::size(statuses)], labels[i]));
    }
  }
  EXPECT_EQ(tc::testing::allocations(), before);
  EXPECT_EQ(stats.compared(), 3 * std::size(labels));
}

TEST(LatencyQuantiles, EmptyHasNoPercentile) {
  LatencyQuantiles q;
  EXPECT_EQ(q.percentile(0.5), -1);
  q.observe(-1);  // unknown
  q.observe(std::nan(""));
  EXPECT_EQ(q.count(), 0u);
}

TEST(LatencyQuantiles, ASingleValueIsExact) {
  LatencyQuantiles q;
  q.observe(1.234);
  EXPECT_EQ(q.percentile(0.5), 1.234);
  EXPECT_EQ(q.percentile(0.99), 1.234);
}

TEST(LatencyQuantiles, PercentilesAreWithinOnePercent) {
  LatencyQuantiles q;
  // 0.1 ms to 10 s in steps of 0.1 ms: the exact nearest-rank percentile p is p * 10 s.
  for (int i = 1; i <= 100000; ++i) q.observe(i * 0.1);
  for (double p : {0.5, 0.9, 0.99}) {
    const double exact = p * 10000;
    EXPECT_NEAR(q.percentile(p), exact, exact * 0.01) << p;
  }
  EXPECT_EQ(q.percentile(1), 10000);  // the maximum
}

TEST(LatencyQuantiles, ValuesAtTheEdgesStayWithinMinAndMax) {
  LatencyQuantiles q;
  q.observe(0.000001);
  q.observe(0);
  q.observe(1e9);
  EXPECT_EQ(q.count(), 3u);
  EXPECT_EQ(q.percentile(0.01), 0);
  EXPECT_EQ(q.percentile(1), 1e9);
  EXPECT_LE(q.percentile(0.5), LatencyQuantiles::kLowestMs);
}

TEST(ComparisonStats, PercentilesPerSideFromKnownTimesOnly) {
  ComparisonStats stats;
  for (int i = 1; i <= 1000; ++i)
    stats.add(exchange("GET /", 1, i, 1, 2.0 * i), judgement(Verdict::kMatch, "200", "200", "GET /"));
  stats.add(exchange("GET /", 1, -1, 0, -1), judgement(Verdict::kTargetSilent, "200", "", "GET /"));
  EXPECT_EQ(stats.quantiles(Side::kOnline).count(), 1000u);
  EXPECT_EQ(stats.latency(Side::kTarget).count(), 1000u);
  EXPECT_NEAR(stats.percentile_ms(Side::kOnline, 0.5), 500, 5);
  EXPECT_NEAR(stats.percentile_ms(Side::kOnline, 0.99), 990, 9.9);
  EXPECT_NEAR(stats.percentile_ms(Side::kTarget, 0.9), 1800, 18);
  EXPECT_DOUBLE_EQ(stats.latency(Side::kOnline).sum(), 500.5);  // seconds
}

TEST(ComparisonStats, SummaryLine) {
  ComparisonStats stats;
  EXPECT_EQ(stats.summary_line(),
            "compared=0 target_silent=0 target_reset=0 status_differs=0 size_differs=0 slower=0 match=0 "
            "online_p50/p90/p99=- target_p50/p90/p99=-");
  stats.add(exchange("GET /", 1, 1.5, 1, 250), judgement(Verdict::kSlower, "200", "200", "GET /"));
  stats.add(exchange("GET /", 1, 1.5, 1, 250), judgement(Verdict::kMatch, "200", "200", "GET /"));
  EXPECT_EQ(stats.summary_line(),
            "compared=2 target_silent=0 target_reset=0 status_differs=0 size_differs=0 slower=1 match=1 "
            "online_p50/p90/p99=1.50/1.50/1.50ms target_p50/p90/p99=250/250/250ms");
}

TEST(ComparisonStats, PrometheusText) {
  ComparisonStats stats;
  stats.add(exchange("GET /", 1, 0.5, 1, 0.5), judgement(Verdict::kMatch, "200", "200", "GET /"));
  stats.add(exchange("GET /", 1, 2, 1, 4000), judgement(Verdict::kStatusDiffers, "200", "404", "GET /"));
  stats.add(exchange("GET /", 1, 2, 0, -1), judgement(Verdict::kTargetSilent, "200", "", "GET /"));
  stats.add(exchange("GET", 1, 2, 1, 2), judgement(Verdict::kStatusDiffers, "-ERR\"x", "+OK", "GET"));
  std::string out;
  stats.write_prometheus(out);

  const std::string exchanges =
      "# HELP tcpcopy_compare_exchanges_total Exchanges compared, by verdict\n"
      "# TYPE tcpcopy_compare_exchanges_total counter\n"
      "tcpcopy_compare_exchanges_total{verdict=\"target_silent\"} 1\n"
      "tcpcopy_compare_exchanges_total{verdict=\"target_reset\"} 0\n"
      "tcpcopy_compare_exchanges_total{verdict=\"status_differs\"} 2\n"
      "tcpcopy_compare_exchanges_total{verdict=\"size_differs\"} 0\n"
      "tcpcopy_compare_exchanges_total{verdict=\"slower\"} 0\n"
      "tcpcopy_compare_exchanges_total{verdict=\"match\"} 1\n";
  EXPECT_EQ(out.substr(0, exchanges.size()), exchanges);

  std::string latency =
      "# HELP tcpcopy_compare_latency_seconds Time from the request's last byte to the answer's first byte, by side\n"
      "# TYPE tcpcopy_compare_latency_seconds histogram\n";
  // online: 0.5 ms, then 2 ms three times
  const uint64_t online[] = {0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
  // target: 0.5 ms, 2 ms, 4 s
  const uint64_t target[] = {0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3};
  const char* les[] = {"1e-04", "0.00025", "5e-04", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                       "0.1",    "0.25",    "0.5",    "1",     "2.5",    "5",     "10",   "+Inf"};
  for (size_t i = 0; i < std::size(les); ++i)
    latency += "tcpcopy_compare_latency_seconds_bucket{side=\"online\",le=\"" + std::string(les[i]) + "\"} " +
               std::to_string(online[i]) + "\n";
  // The sums as the histogram adds them up, in seconds.
  latency += "tcpcopy_compare_latency_seconds_sum{side=\"online\"} " + prometheus_number(0.0005 + 0.002 + 0.002 + 0.002) +
             "\ntcpcopy_compare_latency_seconds_count{side=\"online\"} 4\n";
  for (size_t i = 0; i < std::size(les); ++i)
    latency += "tcpcopy_compare_latency_seconds_bucket{side=\"target\",le=\"" + std::string(les[i]) + "\"} " +
               std::to_string(target[i]) + "\n";
  latency += "tcpcopy_compare_latency_seconds_sum{side=\"target\"} " + prometheus_number(0.0005 + 4.0 + 0.002) +
             "\ntcpcopy_compare_latency_seconds_count{side=\"target\"} 3\n";
  EXPECT_EQ(out.substr(exchanges.size(), latency.size()), latency);

  const std::string status =
      "# HELP tcpcopy_compare_status_total Exchanges compared, by the online and the target answer's status "
      "(none: no answer; other: pairs beyond the first 64)\n"
      "# TYPE tcpcopy_compare_status_total counter\n"
      "tcpcopy_compare_status_total{online=\"200\",target=\"200\"} 1\n"
      "tcpcopy_compare_status_total{online=\"200\",target=\"404\"} 1\n"
      "tcpcopy_compare_status_total{online=\"200\",target=\"none\"} 1\n"
      "tcpcopy_compare_status_total{online=\"-ERR\\\"x\",target=\"+OK\"} 1\n";
  EXPECT_EQ(out.substr(exchanges.size() + latency.size()), status);
}

TEST(ComparisonStats, PrometheusStatusOtherOnceTheMatrixIsFull) {
  ComparisonStats stats;
  for (size_t i = 0; i <= ComparisonStats::kMaxStatusPairs; ++i)
    stats.add(exchange("GET /", 1, 1, 1, 1), judgement(Verdict::kStatusDiffers, "200", std::to_string(i), "GET /"));
  std::string out;
  stats.write_prometheus(out);
  EXPECT_NE(out.find("\ntcpcopy_compare_status_total{online=\"other\",target=\"other\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace tc::compare

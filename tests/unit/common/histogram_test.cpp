#include "common/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace tc {
namespace {

TEST(Histogram, CountsEachValueInTheFirstBucketAtOrAboveIt) {
  const double bounds[] = {0.001, 0.01, 0.1, 1};
  Histogram h(bounds);
  h.observe(0.0005);
  h.observe(0.001);  // on the bound: le is inclusive
  h.observe(0.05);
  h.observe(1);
  h.observe(7);      // above every bound: +Inf
  EXPECT_EQ(h.bounds(), 4u);
  EXPECT_EQ(h.in_bucket(0), 2u);
  EXPECT_EQ(h.in_bucket(1), 0u);
  EXPECT_EQ(h.in_bucket(2), 1u);
  EXPECT_EQ(h.in_bucket(3), 1u);
  EXPECT_EQ(h.in_bucket(4), 1u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.0005 + 0.001 + 0.05 + 1 + 7);
}

TEST(Histogram, MergeAddsAnotherOfTheSameBounds) {
  const double bounds[] = {0.001, 0.01};
  const double other_bounds[] = {0.001, 0.02};
  Histogram a(bounds), b(bounds), c(other_bounds);
  a.observe(0.0005);
  b.observe(0.005);
  b.observe(3);
  c.observe(0.0001);
  EXPECT_TRUE(a.merge(b));
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.in_bucket(0), 1u);
  EXPECT_EQ(a.in_bucket(1), 1u);
  EXPECT_EQ(a.in_bucket(2), 1u);
  EXPECT_DOUBLE_EQ(a.sum(), 0.0005 + 0.005 + 3);
  EXPECT_FALSE(a.merge(c));
  EXPECT_EQ(a.count(), 3u);
}

TEST(Histogram, IgnoresNaN) {
  const double bounds[] = {1};
  Histogram h(bounds);
  h.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0);
}

TEST(Histogram, RejectsBadBounds) {
  const double unordered[] = {1, 1};
  EXPECT_THROW(Histogram{unordered}, std::invalid_argument);
  const double infinite[] = {1, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(Histogram{infinite}, std::invalid_argument);
  std::vector<double> many(Histogram::kMaxBounds + 1);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  EXPECT_THROW(Histogram{many}, std::invalid_argument);
}

TEST(Histogram, WritesCumulativeBucketsSumAndCount) {
  const double bounds[] = {0.005, 0.25, 2};
  Histogram h(bounds);
  // Binary fractions, so the sum is exact.
  h.observe(0.00390625);
  h.observe(0.125);
  h.observe(0.25);
  h.observe(3);
  std::string out;
  h.write_text(out, "tcpcopy_response_seconds", "Time from request to first response byte.");
  EXPECT_EQ(out,
            "# HELP tcpcopy_response_seconds Time from request to first response byte.\n"
            "# TYPE tcpcopy_response_seconds histogram\n"
            "tcpcopy_response_seconds_bucket{le=\"0.005\"} 1\n"
            "tcpcopy_response_seconds_bucket{le=\"0.25\"} 3\n"
            "tcpcopy_response_seconds_bucket{le=\"2\"} 3\n"
            "tcpcopy_response_seconds_bucket{le=\"+Inf\"} 4\n"
            "tcpcopy_response_seconds_sum 3.37890625\n"
            "tcpcopy_response_seconds_count 4\n");
}

TEST(Histogram, SamplesWithALabelShareOneFamily) {
  const double bounds[] = {0.5};
  Histogram online(bounds);
  Histogram target(bounds);
  online.observe(0.25);
  target.observe(0.75);
  std::string out;
  write_histogram_header(out, "x_seconds", "Latency.");
  online.write_samples(out, "x_seconds", "side=\"online\"");
  target.write_samples(out, "x_seconds", "side=\"target\"");
  EXPECT_EQ(out,
            "# HELP x_seconds Latency.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{side=\"online\",le=\"0.5\"} 1\n"
            "x_seconds_bucket{side=\"online\",le=\"+Inf\"} 1\n"
            "x_seconds_sum{side=\"online\"} 0.25\n"
            "x_seconds_count{side=\"online\"} 1\n"
            "x_seconds_bucket{side=\"target\",le=\"0.5\"} 0\n"
            "x_seconds_bucket{side=\"target\",le=\"+Inf\"} 1\n"
            "x_seconds_sum{side=\"target\"} 0.75\n"
            "x_seconds_count{side=\"target\"} 1\n");
}

TEST(Histogram, EmptyStillHasInfBucket) {
  Histogram h(std::span<const double>{});
  h.observe(5);
  std::string out;
  h.write_text(out, "x", "h");
  EXPECT_NE(out.find("x_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
}

TEST(PrometheusNumber, ShortestFormAndSpecials) {
  EXPECT_EQ(prometheus_number(0.1), "0.1");
  EXPECT_EQ(prometheus_number(1), "1");
  EXPECT_EQ(prometheus_number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prometheus_number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(prometheus_number(std::nan("")), "NaN");
}

}  // namespace
}  // namespace tc

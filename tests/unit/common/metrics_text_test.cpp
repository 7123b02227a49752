#include <gtest/gtest.h>

#include "common/metrics_text.h"

namespace tc {
namespace {

TEST(PrometheusText, TypesAndGroupsFamilies) {
  PrometheusText t("tcpcopy");
  t.counter("packets_captured", "", 123);
  t.counter("sessions_lost", "no_intercept", 1);
  t.gauge("sessions_active", "", 7);
  t.counter("sessions_lost", "target_reset", 0);  // reported apart, grouped anyway
  EXPECT_EQ(t.text(),
            "# TYPE tcpcopy_packets_captured counter\n"
            "tcpcopy_packets_captured 123\n"
            "# TYPE tcpcopy_sessions_lost counter\n"
            "tcpcopy_sessions_lost{reason=\"no_intercept\"} 1\n"
            "tcpcopy_sessions_lost{reason=\"target_reset\"} 0\n"
            "# TYPE tcpcopy_sessions_active gauge\n"
            "tcpcopy_sessions_active 7\n");
}

TEST(PrometheusText, ARepeatedSeriesIsSummed) {
  PrometheusText t("x");
  t.counter("drops", "full", 2);
  t.counter("drops", "", 1);
  t.counter("drops", "full", 3);
  EXPECT_EQ(t.text(), "# TYPE x_drops counter\nx_drops{reason=\"full\"} 5\nx_drops 1\n");
}

TEST(PrometheusText, DefaultGaugeOfASinkIsACounter) {
  CounterText line;
  CounterSink& sink = line;
  sink.gauge("routes_active", "", 3);
  EXPECT_EQ(line.line(), "routes_active=3");
}

TEST(PrometheusText, LargeValuesAndEmptyOutput) {
  EXPECT_EQ(PrometheusText("x").text(), "");
  PrometheusText t("intercept");
  t.counter("bytes", "", UINT64_MAX);
  EXPECT_EQ(t.text(), "# TYPE intercept_bytes counter\nintercept_bytes 18446744073709551615\n");
}

TEST(PrometheusText, NamesAndLabelValuesAreSanitized) {
  EXPECT_EQ(prometheus_name("send_errors"), "send_errors");
  EXPECT_EQ(prometheus_name("a-b.c d"), "a_b_c_d");
  EXPECT_EQ(prometheus_name("9lives"), "_9lives");
  EXPECT_EQ(prometheus_name(""), "_");
  EXPECT_EQ(prometheus_label_value("plain_reason"), "plain_reason");
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace tc

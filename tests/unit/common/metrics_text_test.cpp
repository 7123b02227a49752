#include <gtest/gtest.h>

#include "common/metrics_text.h"

namespace tc {
namespace {

TEST(PrometheusText, TypesAndGroupsFamiliesWithHelp) {
  PrometheusText t("tcpcopy");
  t.help("packets_captured", "Packets captured");
  t.counter("packets_captured", "", 123);
  t.help("sessions_lost", "Sessions lost, by reason");
  t.counter("sessions_lost", "no_intercept", 1);
  t.gauge("sessions_active", "", 7);
  t.counter("sessions_lost", "target_reset", 0);  // reported apart, grouped anyway
  EXPECT_EQ(t.text(),
            "# HELP tcpcopy_packets_captured_total Packets captured\n"
            "# TYPE tcpcopy_packets_captured_total counter\n"
            "tcpcopy_packets_captured_total 123\n"
            "# HELP tcpcopy_sessions_lost_total Sessions lost, by reason\n"
            "# TYPE tcpcopy_sessions_lost_total counter\n"
            "tcpcopy_sessions_lost_total{reason=\"no_intercept\"} 1\n"
            "tcpcopy_sessions_lost_total{reason=\"target_reset\"} 0\n"
            "# HELP tcpcopy_sessions_active sessions active\n"
            "# TYPE tcpcopy_sessions_active gauge\n"
            "tcpcopy_sessions_active 7\n");
}

TEST(PrometheusText, InfoGaugeAndRealValues) {
  PrometheusText t("intercept");
  t.labelled_gauge("build_info", "version=\"2.0.0\"", "Build", 1);
  t.real("process_cpu_seconds", false, "CPU", 1.5, false);
  t.real("process_open_fds", true, "Fds", 9, false);
  EXPECT_EQ(t.text(),
            "# HELP intercept_build_info Build\n"
            "# TYPE intercept_build_info gauge\n"
            "intercept_build_info{version=\"2.0.0\"} 1\n"
            "# HELP process_cpu_seconds_total CPU\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 1.5\n"
            "# HELP process_open_fds Fds\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 9\n");
}

TEST(PrometheusText, HelpTextIsEscaped) {
  EXPECT_EQ(prometheus_help("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
}

TEST(PrometheusText, ARepeatedSeriesIsSummed) {
  PrometheusText t("x");
  t.counter("drops", "full", 2);
  t.counter("drops", "", 1);
  t.counter("drops", "full", 3);
  EXPECT_EQ(t.text(),
            "# HELP x_drops_total drops\n# TYPE x_drops_total counter\nx_drops_total{reason=\"full\"} 5\n"
            "x_drops_total 1\n");
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
  EXPECT_EQ(t.text(),
            "# HELP intercept_bytes_total bytes\n# TYPE intercept_bytes_total counter\n"
            "intercept_bytes_total 18446744073709551615\n");
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

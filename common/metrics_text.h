// Counters in the Prometheus text exposition format, version 0.0.4, named
// by Prometheus conventions (counters end in _total):
//
//   # HELP tcpcopy_sessions_lost_total Sessions given up before completing, by reason
//   # TYPE tcpcopy_sessions_lost_total counter
//   tcpcopy_sessions_lost_total{reason="no_intercept"} 1
//
// A CounterSink, so every component that reports to the log line reports
// here too, and its help text becomes the HELP line. Samples of one name are
// grouped under one HELP and TYPE even when they are reported apart; the
// same name and reason twice are summed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/counters.h"

namespace tc {

class PrometheusText : public CounterSink {
 public:
  // `prefix` ("tcpcopy") is joined to each name with '_'.
  explicit PrometheusText(std::string prefix) : prefix_(std::move(prefix)) {}

  void counter(std::string_view name, std::string_view reason, uint64_t value) override;
  void gauge(std::string_view name, std::string_view reason, uint64_t value) override;
  void help(std::string_view name, std::string_view text) override;
  // A sample with labels already written ("version=\"2.0.0\""), for
  // info-style gauges such as build_info.
  void labelled_gauge(std::string_view name, std::string_view labels, std::string_view help, uint64_t value);
  // A sample that is not a whole number (seconds of CPU time, say).
  void real(std::string_view name, bool gauge, std::string_view help, double value, bool prefixed);

  std::string text() const;

 private:
  struct Sample {
    std::string labels;  // written out, without braces; empty for none
    std::string value;
    uint64_t count = 0;  // the value while it is a whole number, for sums
  };
  struct Family {
    std::string name;
    bool gauge;
    std::string help;
    std::vector<Sample> samples;
  };
  Family& family(std::string_view name, bool gauge, bool prefixed);
  void add(std::string_view name, std::string_view reason, uint64_t value, bool gauge);

  std::string prefix_;
  std::vector<Family> families_;
  std::vector<std::pair<std::string, std::string>> help_;  // reported name, text
};

// Prometheus metric names allow [a-zA-Z0-9_:], not starting with a digit;
// anything else becomes '_'.
std::string prometheus_name(std::string_view text);
// HELP text: backslash and newline escaped.
std::string prometheus_help(std::string_view text);
// A label value between double quotes: backslash, quote and newline escaped.
std::string prometheus_label_value(std::string_view text);

}  // namespace tc

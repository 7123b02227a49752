// Counters in the Prometheus text exposition format, version 0.0.4:
//
//   # TYPE tcpcopy_sessions_lost counter
//   tcpcopy_sessions_lost{reason="no_intercept"} 1
//
// A CounterSink, so every component that reports to the log line reports
// here too. Samples of one name are grouped under one TYPE line even when
// they are reported apart; the same name and reason twice are summed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/counters.h"

namespace tc {

class PrometheusText : public CounterSink {
 public:
  // `prefix` ("tcpcopy") is joined to each name with '_'.
  explicit PrometheusText(std::string prefix) : prefix_(std::move(prefix)) {}

  void counter(std::string_view name, std::string_view reason, uint64_t value) override;
  void gauge(std::string_view name, std::string_view reason, uint64_t value) override;

  std::string text() const;

 private:
  struct Sample {
    std::string reason;
    uint64_t value;
  };
  struct Family {
    std::string name;
    bool gauge;
    std::vector<Sample> samples;
  };
  void add(std::string_view name, std::string_view reason, uint64_t value, bool gauge);

  std::string prefix_;
  std::vector<Family> families_;
};

// Prometheus metric names allow [a-zA-Z0-9_:], not starting with a digit;
// anything else becomes '_'.
std::string prometheus_name(std::string_view text);
// A label value between double quotes: backslash, quote and newline escaped.
std::string prometheus_label_value(std::string_view text);

}  // namespace tc

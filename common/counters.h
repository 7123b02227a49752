// Named counters. Each component keeps its counters as plain uint64_t
// fields (cheap on the data path) and lists them through a CounterSink, so
// logging and metrics export see every counter without knowing the types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tc {

class CounterSink {
 public:
  virtual ~CounterSink() = default;
  // `name` is snake_case; `reason` is empty or a label such as "timeout".
  virtual void counter(std::string_view name, std::string_view reason, uint64_t value) = 0;
  // A level that goes up and down (sessions now open). Log lines show it
  // like a counter; the metrics export types it as a gauge.
  virtual void gauge(std::string_view name, std::string_view reason, uint64_t value) {
    counter(name, reason, value);
  }
};

// Collects counters into "name{reason}=value" text for log lines.
class CounterText : public CounterSink {
 public:
  void counter(std::string_view name, std::string_view reason, uint64_t value) override;
  // Only non-zero counters, so periodic lines stay short.
  std::string line(bool include_zero = false) const;

 private:
  std::vector<std::pair<std::string, uint64_t>> items_;
};

// Adds up what several components of the same kind report (one per
// NFQUEUE queue, say) and hands the totals on, in first-seen order, gauges
// as gauges.
class CounterTotals : public CounterSink {
 public:
  void counter(std::string_view name, std::string_view reason, uint64_t value) override {
    add(name, reason, value, false);
  }
  void gauge(std::string_view name, std::string_view reason, uint64_t value) override {
    add(name, reason, value, true);
  }
  void report(CounterSink& sink) const;

 private:
  struct Item {
    std::string name;
    std::string reason;
    uint64_t value;
    bool gauge;
  };
  void add(std::string_view name, std::string_view reason, uint64_t value, bool gauge);
  std::vector<Item> items_;
};

}  // namespace tc

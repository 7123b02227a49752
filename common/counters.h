// Named counters. Each component keeps its counters as plain uint64_t
// fields (cheap on the data path) and lists them through a CounterSink, so
// logging and metrics export see every counter without knowing the types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
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
  // What the counter `name` counts, said before its values. Log lines do
  // not need it; the metrics export turns it into HELP text.
  virtual void help(std::string_view name, std::string_view text) {
    (void)name;
    (void)text;
  }
};

// Counters are declared once, in a list macro per set, and everything else
// is generated from it, so a counter cannot be declared and never reported.
// A set's list takes three macros and calls them once per entry:
//   COUNTER(field, "name", "reason", "help")  a uint64_t that only grows
//   GAUGE(field, "name", "reason", "help")    a uint64_t level
//   REASONS(field, "name", Enum, first, "help")
//       one counter per Enum value from `first` up to Enum::kCount, the
//       value's to_string() as the reason label
// and a struct then holds TC_COUNTER_FIELDS(LIST) and reports with
// TC_COUNTER_REPORT(LIST, sink).
#define TC_COUNTER_FIELD_(field, name, reason, help) uint64_t field = 0;
#define TC_REASONS_FIELD_(field, name, Enum, first, help) \
  std::array<uint64_t, static_cast<size_t>(Enum::kCount)> field{};
#define TC_COUNTER_FIELDS(LIST) LIST(TC_COUNTER_FIELD_, TC_COUNTER_FIELD_, TC_REASONS_FIELD_)

#define TC_COUNTER_REPORT_ONE_(field, name, reason, text) \
  sink_.help(name, text);                                \
  sink_.counter(name, reason, field);
#define TC_GAUGE_REPORT_ONE_(field, name, reason, text) \
  sink_.help(name, text);                              \
  sink_.gauge(name, reason, field);
#define TC_REASONS_REPORT_ONE_(field, name, Enum, first, text)   \
  sink_.help(name, text);                                        \
  for (size_t i_ = (first); i_ < field.size(); ++i_)             \
    sink_.counter(name, to_string(static_cast<Enum>(i_)), field[i_]);
#define TC_COUNTER_REPORT(LIST, sink)                                            \
  do {                                                                           \
    ::tc::CounterSink& sink_ = (sink);                                           \
    LIST(TC_COUNTER_REPORT_ONE_, TC_GAUGE_REPORT_ONE_, TC_REASONS_REPORT_ONE_)   \
  } while (false)

// Reason enums come from a list too: X(kEnumerator, "label", "help").
// TC_REASON_ENUM declares `enum class Name : uint8_t {..., kCount}` and
// to_string(); TC_REASON_TO_STRING defines to_string() in a .cpp file.
#define TC_REASON_ENUMERATOR_(id, label, help) id,
#define TC_REASON_LABEL_(id, label, help) label,
#define TC_REASON_ENUM(Name, LIST)                    \
  enum class Name : uint8_t { LIST(TC_REASON_ENUMERATOR_) kCount }; \
  const char* to_string(Name r)
#define TC_REASON_TO_STRING(Name, LIST)                                  \
  const char* to_string(Name r) {                                        \
    static constexpr const char* kLabels[] = {LIST(TC_REASON_LABEL_)};   \
    const auto i = static_cast<size_t>(r);                               \
    return i < std::size(kLabels) ? kLabels[i] : "unknown";              \
  }

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
  void help(std::string_view name, std::string_view text) override;
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
  std::vector<std::pair<std::string, std::string>> help_;  // name, text
};

}  // namespace tc

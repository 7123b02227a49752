#include "common/counters.h"

namespace tc {

void CounterText::counter(std::string_view name, std::string_view reason, uint64_t value) {
  std::string key(name);
  if (!reason.empty()) {
    key += '{';
    key += reason;
    key += '}';
  }
  items_.emplace_back(std::move(key), value);
}

std::string CounterText::line(bool include_zero) const {
  std::string out;
  for (const auto& [k, v] : items_) {
    if (!include_zero && v == 0) continue;
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += std::to_string(v);
  }
  return out;
}

void CounterTotals::add(std::string_view name, std::string_view reason, uint64_t value, bool gauge) {
  for (Item& i : items_) {
    if (i.name == name && i.reason == reason) {
      i.value += value;
      return;
    }
  }
  items_.push_back(Item{std::string(name), std::string(reason), value, gauge});
}

void CounterTotals::report(CounterSink& sink) const {
  for (const Item& i : items_) {
    if (i.gauge) sink.gauge(i.name, i.reason, i.value);
    else sink.counter(i.name, i.reason, i.value);
  }
}

}  // namespace tc

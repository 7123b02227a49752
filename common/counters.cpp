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

void CounterTotals::help(std::string_view name, std::string_view text) {
  for (const auto& h : help_)
    if (h.first == name) return;
  help_.emplace_back(std::string(name), std::string(text));
}

void CounterTotals::report(CounterSink& sink) const {
  // Each name's help right before its first value, as a single component
  // would report it.
  std::vector<std::string_view> said;
  for (const Item& i : items_) {
    bool first = true;
    for (std::string_view s : said)
      if (s == i.name) first = false;
    if (first) {
      said.push_back(i.name);
      for (const auto& [name, text] : help_)
        if (name == i.name) sink.help(name, text);
    }
    if (i.gauge) sink.gauge(i.name, i.reason, i.value);
    else sink.counter(i.name, i.reason, i.value);
  }
}

}  // namespace tc

// A sink that notes every counter reported without a help text said for it
// first, or with one that only repeats its name: the metrics export would
// give such a family its name as HELP.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/counters.h"

namespace tc {

class HelpCheck final : public CounterSink {
 public:
  void counter(std::string_view name, std::string_view, uint64_t) override { check(name); }
  void gauge(std::string_view name, std::string_view, uint64_t) override { check(name); }
  void help(std::string_view name, std::string_view text) override {
    std::string spaced(name);
    std::replace(spaced.begin(), spaced.end(), '_', ' ');
    if (!text.empty() && text != spaced) helped_.emplace(name);
  }

  size_t reported = 0;
  std::vector<std::string> without_help;

 private:
  void check(std::string_view name) {
    ++reported;
    const std::string n(name);
    if (!helped_.contains(n) && std::find(without_help.begin(), without_help.end(), n) == without_help.end())
      without_help.push_back(n);
  }
  std::set<std::string> helped_;
};

}  // namespace tc

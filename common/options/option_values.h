// Reading option values: numbers and comma-separated lists, the same way
// in both programs.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace tc {

// Plain decimal digits within [lo, hi]: "+1", " 1", "1s", "1e3" and "0x10"
// are refused. `out` is left alone on failure.
template <typename T>
bool parse_number(std::string_view text, T lo, T hi, T& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

// "IF[,IF...]": interface names, each once. Returns "" or why not (the
// text after "expected"/"given twice" for the option's message).
std::string parse_interface_list(std::string_view text, std::vector<std::string>& out);

}  // namespace tc

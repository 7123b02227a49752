#include "common/doctor/parsers.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace tc::doctor {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_cap_eff(std::string_view text) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.starts_with("CapEff:")) continue;
    line = trim(line.substr(7));
    uint64_t mask = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), mask, 16);
    if (ec != std::errc() || end != line.data() + line.size() || line.empty()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

std::optional<int> parse_sysctl_int(std::string_view text) {
  text = trim(text);
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

RouteLookup parse_ip_route_get(const CommandResult& result) {
  RouteLookup r;
  if (!result.started) {
    r.error = result.err;
    return r;
  }
  if (result.exit_status != 0) {
    std::string_view e = trim(result.err);
    e = e.substr(0, e.find('\n'));
    if (e.starts_with("RTNETLINK answers: ")) e.remove_prefix(19);
    if (e.starts_with("Error: ")) e.remove_prefix(7);
    r.error = e.empty() ? "ip route get failed with status " + std::to_string(result.exit_status) : std::string(e);
    return r;
  }
  const std::string_view first = std::string_view(result.out).substr(0, result.out.find('\n'));
  const auto w = words(first);
  if (w.empty()) {
    r.error = "ip route get printed nothing";
    return r;
  }
  static constexpr std::string_view kTypes[] = {"unicast", "local",   "broadcast", "multicast", "unreachable",
                                                "blackhole", "prohibit", "throw",     "nat",       "anycast"};
  r.type = "unicast";
  for (std::string_view t : kTypes)
    if (w[0] == t) r.type = std::string(t);
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == "via") r.via = std::string(w[i + 1]);
    else if (w[i] == "dev") r.dev = std::string(w[i + 1]);
    else if (w[i] == "src") r.src = std::string(w[i + 1]);
  }
  r.found = true;
  return r;
}

}  // namespace tc::doctor

#include "common/pcap_filter.h"

#include <algorithm>
#include <vector>

namespace tc {

namespace {

// " and (WORD V1 or WORD V2 ...)", values sorted and without repeats.
template <typename T, typename Text>
std::string any_of(const char* word, std::span<const T> values, Text&& text) {
  std::vector<T> list(values.begin(), values.end());
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  if (list.empty()) return {};
  std::string out = " and (";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += " or ";
    out += word;
    out += ' ';
    out += text(list[i]);
  }
  out += ')';
  return out;
}

std::string port_text(uint16_t p) { return std::to_string(p); }
std::string address_text(const IpAddress& a) { return a.to_string(); }

}  // namespace

std::string request_filter_expression(std::span<const uint16_t> ports, std::span<const IpAddress> addresses) {
  return "tcp" + any_of("dst port", ports, port_text) + any_of("dst host", addresses, address_text);
}

std::string reply_filter_expression(std::span<const uint16_t> ports) {
  return "tcp" + any_of("src port", ports, port_text);
}

std::string request_and_answer_filter_expression(std::span<const uint16_t> ports,
                                                 std::span<const IpAddress> addresses) {
  return "(" + request_filter_expression(ports, addresses) + ") or (tcp" + any_of("src port", ports, port_text) +
         any_of("src host", addresses, address_text) + ")";
}

}  // namespace tc

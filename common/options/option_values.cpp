#include "common/options/option_values.h"

#include <net/if.h>

#include <algorithm>

namespace tc {

std::string parse_interface_list(std::string_view text, std::vector<std::string>& out) {
  std::vector<std::string> list;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    if (name.empty() || name.size() >= IFNAMSIZ || name.find_first_of("/ \t") != std::string_view::npos)
      return "expected interface names separated by commas";
    if (std::find(list.begin(), list.end(), name) != list.end())
      return "interface '" + std::string(name) + "' given twice";
    list.emplace_back(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out = std::move(list);
  return {};
}

}  // namespace tc

#include "copy/engine/transfer_map.h"

namespace tc {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

}  // namespace

std::string TransferMap::parse(std::string_view spec, TransferMap& out) {
  if (spec.empty()) return "empty transfer list";
  for (std::string_view item : split(spec, ',')) {
    if (item.empty()) return "empty transfer in '" + std::string(spec) + "'";
    // The source/target separator is the '-' outside brackets.
    size_t dash = std::string_view::npos;
    int depth = 0;
    for (size_t i = 0; i < item.size(); ++i) {
      if (item[i] == '[') ++depth;
      else if (item[i] == ']') --depth;
      else if (item[i] == '-' && depth == 0) {
        dash = i;
        break;
      }
    }
    if (dash == std::string_view::npos) return "transfer '" + std::string(item) + "' has no '-'";
    const std::string_view src = item.substr(0, dash);
    const std::string_view dst = item.substr(dash + 1);
    Transfer t;
    std::string err;
    uint16_t port = 0;
    if (parse_port(src, port)) {
      t.online_port = port;
    } else {
      auto ep = parse_endpoint(src, 0, err);
      if (!ep) return "transfer '" + std::string(item) + "': source: " + err;
      t.online_addr = ep->addr;
      t.online_port = ep->port;
    }
    auto target = parse_endpoint(dst, 0, err);
    if (!target) return "transfer '" + std::string(item) + "': target: " + err;
    if (target->addr.is_unspecified()) return "transfer '" + std::string(item) + "': target address is unspecified";
    if (t.online_addr && t.online_addr->is_v4() != target->addr.is_v4())
      return "transfer '" + std::string(item) + "': source and target are of different IP versions";
    t.target = *target;
    for (const Transfer& other : out.transfers_)
      if (other.online_port == t.online_port && other.online_addr == t.online_addr)
        return "transfer '" + std::string(item) + "' repeats a source";
    out.add(t);
  }
  return "";
}

}  // namespace tc

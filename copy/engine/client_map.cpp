#include "copy/engine/client_map.h"

#include "common/session_key.h"

namespace tc {

std::string ClientMap::parse(std::string_view spec, ClientMap& out) {
  if (spec.empty()) return "empty client address list";
  if (spec.size() > 2 && spec.substr(spec.size() - 2) == ".x") {
    auto base = IpAddress::parse(std::string(spec.substr(0, spec.size() - 2)) + ".0");
    if (!base || !base->is_v4()) return "bad address pattern '" + std::string(spec) + "' (expected a.b.c.x)";
    out.pattern_ = *base;
    return "";
  }
  size_t pos = 0;
  while (true) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = spec.substr(pos, comma - pos);
    auto addr = IpAddress::parse(item);
    if (!addr || addr->is_unspecified()) return "bad client address '" + std::string(item) + "'";
    out.list_.push_back(*addr);
    if (comma == spec.size()) break;
    pos = comma + 1;
  }
  return "";
}

std::optional<IpAddress> ClientMap::map(const IpAddress& client) const {
  if (pattern_) {
    if (!client.is_v4()) return std::nullopt;
    return IpAddress::from_v4_host((pattern_->v4_host() & 0xffffff00u) | (client.v4_host() & 0xffu));
  }
  // Only addresses of the client's family are candidates.
  size_t n = 0;
  for (const IpAddress& a : list_) n += a.is_v4() == client.is_v4() ? 1 : 0;
  if (n == 0) return std::nullopt;
  const SessionKey k{client, client, 0, 0};
  size_t pick = SessionKeyHash{}(k) % n;
  for (const IpAddress& a : list_) {
    if (a.is_v4() != client.is_v4()) continue;
    if (pick-- == 0) return a;
  }
  return std::nullopt;
}

}  // namespace tc

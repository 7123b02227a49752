#include "common/ip_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace tc {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> raw{};
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, raw.data()) != 1) return std::nullopt;
    return from_v4(std::span<const uint8_t, 4>(raw.data(), 4));
  }
  if (inet_pton(AF_INET6, buf, raw.data()) != 1) return std::nullopt;
  return from_v6(raw);
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4())
    inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::string Endpoint::to_string() const {
  // Appended piece by piece: GCC 12 at -O3 takes `"[" + std::string` for
  // an overlapping copy (-Wrestrict).
  std::string out;
  out.reserve(48);
  if (!addr.is_v4()) out += '[';
  out += addr.to_string();
  out += addr.is_v4() ? ":" : "]:";
  out += std::to_string(port);
  return out;
}

bool parse_port(std::string_view text, uint16_t& out) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 65535) return false;
  out = static_cast<uint16_t>(value);
  return true;
}

std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port, std::string& error) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "missing ']' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "unexpected text after ']' in '" + std::string(text) + "'";
        return std::nullopt;
      }
      port = rest.substr(1);
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    } else {
      host = text;  // bare IPv4, or an unbracketed IPv6 without a port
    }
  }
  Endpoint ep;
  auto addr = IpAddress::parse(host);
  if (!addr) {
    error = "bad address '" + std::string(host) + "'";
    return std::nullopt;
  }
  ep.addr = *addr;
  if (port.empty()) {
    if (default_port == 0) {
      error = "missing port in '" + std::string(text) + "'";
      return std::nullopt;
    }
    ep.port = default_port;
  } else if (!parse_port(port, ep.port)) {
    error = "bad port '" + std::string(port) + "'";
    return std::nullopt;
  }
  return ep;
}

std::optional<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, uint16_t default_port,
                                                         std::string& error) {
  std::vector<Endpoint> out;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      error = "empty entry in '" + std::string(text) + "'";
      return std::nullopt;
    }
    auto ep = parse_endpoint(item, default_port, error);
    if (!ep) return std::nullopt;
    if (ep->addr.is_unspecified()) {
      error = "unspecified address in '" + std::string(item) + "'";
      return std::nullopt;
    }
    out.push_back(*ep);
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace tc

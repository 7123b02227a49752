// One address type for IPv4 and IPv6. IPv4 is stored as an IPv4-mapped IPv6
// address (::ffff:a.b.c.d), so every address is 16 bytes on the wire and in
// keys, and IPv6 needs no format change anywhere.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tc {

class IpAddress {
 public:
  IpAddress() = default;

  static IpAddress from_v4(std::span<const uint8_t, 4> b) {
    IpAddress a;
    a.bytes_[10] = 0xff;
    a.bytes_[11] = 0xff;
    std::memcpy(a.bytes_.data() + 12, b.data(), 4);
    return a;
  }
  static IpAddress from_v4_host(uint32_t host_order) {
    const std::array<uint8_t, 4> b{static_cast<uint8_t>(host_order >> 24),
                                   static_cast<uint8_t>(host_order >> 16),
                                   static_cast<uint8_t>(host_order >> 8),
                                   static_cast<uint8_t>(host_order)};
    return from_v4(b);
  }
  static IpAddress from_v6(std::span<const uint8_t, 16> b) {
    IpAddress a;
    std::memcpy(a.bytes_.data(), b.data(), 16);
    return a;
  }
  static IpAddress from_bytes16(std::span<const uint8_t, 16> b) { return from_v6(b); }

  // Accepts dotted quads and RFC 4291 text forms; nullopt on anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes_.data(), kPrefix, 12) == 0;
  }
  bool is_unspecified() const {
    if (is_v4()) return v4_host() == 0;
    for (uint8_t b : bytes_)
      if (b != 0) return false;
    return true;
  }
  uint32_t v4_host() const {
    return (uint32_t{bytes_[12]} << 24) | (uint32_t{bytes_[13]} << 16) |
           (uint32_t{bytes_[14]} << 8) | uint32_t{bytes_[15]};
  }
  std::span<const uint8_t, 4> v4_bytes() const { return std::span<const uint8_t, 4>(bytes_.data() + 12, 4); }
  const std::array<uint8_t, 16>& bytes16() const { return bytes_; }

  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

struct Endpoint {
  IpAddress addr;
  uint16_t port = 0;
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// The one parser of "host:port" text: "a.b.c.d[:port]", "[v6][:port]" or a
// bare IPv6 address. `default_port` 0 makes the port required. Errors name
// the bad part.
bool parse_port(std::string_view text, uint16_t& out);
std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port, std::string& error);
// A comma-separated list of endpoints (spaces around entries allowed); the
// unspecified address is refused.
std::optional<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, uint16_t default_port,
                                                         std::string& error);

}  // namespace tc

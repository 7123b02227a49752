// An Ethernet (EUI-48) address, for the link-layer sender.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tc {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  // "aa:bb:cc:dd:ee:ff" (or with '-'), hex digits in either case.
  static std::optional<MacAddress> parse(std::string_view text);
  std::string to_string() const;
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
  bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace tc

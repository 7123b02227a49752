// Address ranges such as 10.0.0.0/8 or 2001:db8::/32, for allow-lists.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace tc {

class AddressPrefix {
 public:
  // "ADDR" (one address) or "ADDR/LEN", IPv4 (LEN 0..32) or IPv6 (0..128).
  // Bits below the prefix must be zero: "10.1.2.3/8" is refused rather
  // than read as 10.0.0.0/8. The error names the bad part.
  static std::optional<AddressPrefix> parse(std::string_view text, std::string& error);

  // An IPv4 prefix holds only IPv4 addresses, an IPv6 prefix only IPv6 ones
  // (IPv4-mapped addresses are IPv4).
  bool contains(const IpAddress& a) const;
  std::string to_string() const;

 private:
  IpAddress base_;
  uint8_t bits_ = 0;  // over the 128-bit form; IPv4 prefixes start at 96
};

// A comma-separated list of prefixes; at least one.
std::optional<std::vector<AddressPrefix>> parse_prefix_list(std::string_view text, std::string& error);
bool any_contains(std::span<const AddressPrefix> list, const IpAddress& a);

}  // namespace tc

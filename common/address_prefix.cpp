#include "common/address_prefix.h"

#include <charconv>

namespace tc {

namespace {

// Whether the first `bits` bits of a and b are equal.
bool same_prefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, unsigned bits) {
  unsigned i = 0;
  for (; bits >= 8; bits -= 8, ++i)
    if (a[i] != b[i]) return false;
  if (bits == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

bool host_bits_zero(const std::array<uint8_t, 16>& a, unsigned bits) {
  for (unsigned bit = bits; bit < 128; ++bit)
    if (a[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

}  // namespace

std::optional<AddressPrefix> AddressPrefix::parse(std::string_view text, std::string& error) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  auto addr = IpAddress::parse(addr_text);
  if (!addr) {
    error = "bad address '" + std::string(addr_text) + "' in '" + std::string(text) + "'";
    return std::nullopt;
  }
  const unsigned max = addr->is_v4() ? 32 : 128;
  unsigned len = max;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len_text.empty() || ec != std::errc() || p != len_text.data() + len_text.size() || len > max) {
      error = "bad prefix length '" + std::string(len_text) + "' in '" + std::string(text) + "' (0.." +
              std::to_string(max) + ")";
      return std::nullopt;
    }
  }
  AddressPrefix out;
  out.base_ = *addr;
  out.bits_ = static_cast<uint8_t>(addr->is_v4() ? 96 + len : len);
  if (!host_bits_zero(addr->bytes16(), out.bits_)) {
    error = "'" + std::string(text) + "' has bits set past its prefix length";
    return std::nullopt;
  }
  return out;
}

bool AddressPrefix::contains(const IpAddress& a) const {
  if (a.is_v4() != base_.is_v4()) return false;
  return same_prefix(a.bytes16(), base_.bytes16(), bits_);
}

std::string AddressPrefix::to_string() const {
  return base_.to_string() + "/" + std::to_string(base_.is_v4() ? bits_ - 96 : bits_);
}

std::optional<std::vector<AddressPrefix>> parse_prefix_list(std::string_view text, std::string& error) {
  std::vector<AddressPrefix> out;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      error = "empty entry";
      return std::nullopt;
    }
    auto p = AddressPrefix::parse(item, error);
    if (!p) return std::nullopt;
    out.push_back(*p);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool any_contains(std::span<const AddressPrefix> list, const IpAddress& a) {
  for (const AddressPrefix& p : list)
    if (p.contains(a)) return true;
  return false;
}

}  // namespace tc

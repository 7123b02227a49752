#include "copy/send/neighbour_table.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace tc {

namespace {

constexpr unsigned kArpComplete = 0x2;  // ATF_COM
constexpr unsigned kArpPermanent = 0x4; // ATF_PERM

// The next whitespace-separated word of `line`, from `pos` on.
std::string_view next_word(std::string_view line, size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  const size_t begin = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
  return line.substr(begin, pos - begin);
}

}  // namespace

std::optional<MacAddress> find_neighbour(std::string_view arp_table, const IpAddress& addr,
                                         std::string_view interface) {
  if (!addr.is_v4()) return std::nullopt;
  bool header = true;
  while (!arp_table.empty()) {
    const size_t nl = arp_table.find('\n');
    const std::string_view line = arp_table.substr(0, nl);
    arp_table.remove_prefix(nl == std::string_view::npos ? arp_table.size() : nl + 1);
    if (header) {  // "IP address  HW type  Flags  HW address  Mask  Device"
      header = false;
      continue;
    }
    size_t pos = 0;
    const std::string_view ip = next_word(line, pos);
    next_word(line, pos);  // hardware type
    std::string_view flags = next_word(line, pos);
    const std::string_view mac = next_word(line, pos);
    next_word(line, pos);  // mask
    const std::string_view device = next_word(line, pos);
    if (device != interface) continue;
    const auto entry_addr = IpAddress::parse(ip);
    if (!entry_addr || *entry_addr != addr) continue;
    if (flags.starts_with("0x")) flags.remove_prefix(2);
    unsigned f = 0;
    const auto [end, ec] = std::from_chars(flags.data(), flags.data() + flags.size(), f, 16);
    if (ec != std::errc() || end != flags.data() + flags.size()) continue;
    if ((f & (kArpComplete | kArpPermanent)) == 0) continue;
    auto m = MacAddress::parse(mac);
    if (m && !m->is_zero()) return m;
  }
  return std::nullopt;
}

std::string read_arp_table() {
  std::ifstream in(kArpTablePath);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tc

// Next-hop MAC addresses for the link-layer sender: the kernel's IPv4
// neighbour (ARP) table, as /proc/net/arp shows it. Read once at start-up;
// an entry must be complete (the kernel has heard from the neighbour) and
// belong to the sending interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/mac_address.h"

namespace tc {

inline constexpr const char* kArpTablePath = "/proc/net/arp";

// Finds `addr` on `interface` in the text of /proc/net/arp. IPv6 addresses
// are never there (nullopt).
std::optional<MacAddress> find_neighbour(std::string_view arp_table, const IpAddress& addr,
                                         std::string_view interface);

// The contents of /proc/net/arp; empty when it cannot be read.
std::string read_arp_table();

}  // namespace tc

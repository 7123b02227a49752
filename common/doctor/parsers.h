// Pure parsers of what the doctor reads from the host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/doctor/host.h"

namespace tc::doctor {

inline constexpr int kCapNetAdmin = 12;
inline constexpr int kCapNetRaw = 13;

// The CapEff mask of a /proc/PID/status text.
std::optional<uint64_t> parse_cap_eff(std::string_view proc_status);
inline bool has_capability(uint64_t mask, int cap) { return (mask >> cap) & 1u; }

// A /proc/sys value holding one integer ("1\n").
std::optional<int> parse_sysctl_int(std::string_view text);
// The kernel uses the larger of conf/all and conf/IFACE for rp_filter.
inline int effective_rp_filter(int all, int iface) { return all > iface ? all : iface; }

// The answer of `ip route get ADDR`.
struct RouteLookup {
  bool found = false;
  std::string type;   // "unicast", "local", "broadcast", "unreachable", ...
  std::string dev;
  std::string via;    // gateway, empty when on-link
  std::string src;
  std::string error;  // why there is no route ("Network is unreachable")
};
RouteLookup parse_ip_route_get(const CommandResult& result);

}  // namespace tc::doctor

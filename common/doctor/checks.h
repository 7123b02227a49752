// The checks both programs run, on a Host, into a Report.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/doctor/host.h"
#include "common/doctor/parsers.h"
#include "common/doctor/report.h"
#include "common/ip_address.h"

namespace tc::doctor {

// rp_filter of an interface as the kernel applies it; nullopt if unreadable.
std::optional<int> rp_filter(Host& host, const std::string& interface);

struct NeededCapability {
  int cap;
  const char* name;  // "CAP_NET_RAW"
  const char* why;   // "raw sockets: capture and send"
  bool required;     // false: missing is only worth a note
};
void check_capabilities(Host& host, Report& report, const std::vector<NeededCapability>& caps,
                        std::string_view program);

// ip_forward: a problem on an assistant host (it would forward the target's
// replies on to the clients), a note elsewhere. On an assistant host IPv6
// forwarding is a problem too.
void check_ip_forward(Host& host, Report& report, bool assistant);

// The route the host would use to reach `addr`, when there is a usable one.
// Otherwise nullopt, and the report says why under `check`: no route or an
// unreachable/blackhole/prohibit one is a problem (with `fix`), a missing
// `ip` command a note. A local route is returned: callers decide.
std::optional<RouteLookup> check_route(Host& host, Report& report, const IpAddress& addr, const std::string& check,
                                       const std::string& fix);

}  // namespace tc::doctor

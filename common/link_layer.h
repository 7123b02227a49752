// Link-layer framing: where the IP packet starts inside a captured frame.
// The one place that knows link headers; the pcap capture, the pcap file
// reader and intercept's assistant mode all go through it. Pure and
// bounds-checked: a frame it cannot use gives a reason, which the caller
// counts.
#pragma once

#include <cstdint>
#include <span>

namespace tc {

// Link types by their libpcap DLT numbers (Linux values; the pcap code
// checks them against <pcap/dlt.h>).
namespace linktype {
inline constexpr int kEthernet = 1;       // DLT_EN10MB
inline constexpr int kRaw = 12;           // DLT_RAW: IPv4 or IPv6, no header
inline constexpr int kRawFile = 101;      // LINKTYPE_RAW, the same as written in files
inline constexpr int kLinuxSll = 113;     // DLT_LINUX_SLL: Linux cooked capture v1
inline constexpr int kIpv4 = 228;         // DLT_IPV4
inline constexpr int kIpv6 = 229;         // DLT_IPV6
inline constexpr int kLinuxSll2 = 276;    // DLT_LINUX_SLL2: Linux cooked capture v2
}  // namespace linktype

enum class LinkError : uint8_t {
  kNone = 0,
  kUnsupportedLinkType,  // a link type not listed above
  kTruncated,            // the frame ends inside a link header or VLAN tag
  kNotIp,                // another network protocol (ARP, LLC, ...)
  kTooManyVlanTags,      // more stacked VLAN tags than kMaxVlanTags
  kVersionMismatch,      // the link header says IPv4, the packet is not (or IPv6)
  kNoIpHeader,           // nothing after the link header
  kCount
};

const char* to_string(LinkError e);

inline constexpr unsigned kMaxVlanTags = 8;

bool link_type_supported(int link_type);
// "Ethernet", "Linux cooked v2", ...; "link type N" is not returned (the
// caller prints the number).
const char* link_type_name(int link_type);

// Sets `ip` to the IP packet inside `frame` (from the IP header to the end
// of the frame, less any Ethernet padding after the length the IP header
// declares). Handles 802.1Q/802.1ad VLAN tags (up to kMaxVlanTags) after an
// Ethernet or cooked header. On an error `ip` is left empty.
LinkError ip_packet(int link_type, std::span<const uint8_t> frame, std::span<const uint8_t>& ip);

}  // namespace tc

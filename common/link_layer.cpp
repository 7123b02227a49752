#include "common/link_layer.h"

#include "common/byte_reader.h"

namespace tc {

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;       // 802.1Q
constexpr uint16_t kEtherQinQ = 0x88a8;       // 802.1ad service tag
constexpr uint16_t kEtherQinQOld = 0x9100;    // pre-standard stacked tag
constexpr uint16_t kEtherMinType = 0x0600;    // below: an 802.3 length, LLC follows

constexpr size_t kEthernetHeader = 14;        // dst, src, type
constexpr size_t kSllHeader = 16;             // packet type, ARPHRD, addr len, addr[8], protocol
constexpr size_t kSllProtocolOffset = 14;
constexpr size_t kSll2Header = 20;            // protocol, reserved, ifindex, ARPHRD, type, addr len, addr[8]
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;

bool is_vlan(uint16_t type) { return type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld; }

// Drops what follows the length the IP header declares (Ethernet pads
// frames to 60 bytes). Lengths that do not fit are left to the IP parser.
std::span<const uint8_t> trim_padding(std::span<const uint8_t> ip) {
  ByteReader r(ip);
  uint8_t version = 0;
  if (!r.u8(version)) return ip;
  version >>= 4;
  if (version == 4 && ip.size() >= kIpv4MinHeader) {
    uint16_t total = 0;
    r.skip(1);
    r.be16(total);
    if (total >= kIpv4MinHeader && total < ip.size()) return ip.first(total);
  } else if (version == 6 && ip.size() >= kIpv6Header) {
    uint16_t payload = 0;
    r.skip(3);
    r.be16(payload);
    // 0 is a jumbogram (length in a hop-by-hop option): keep everything.
    if (payload != 0 && kIpv6Header + payload < ip.size()) return ip.first(kIpv6Header + payload);
  }
  return ip;
}

// `r` is just past an EtherType field whose value is `type`: walks VLAN
// tags, then checks the protocol and the IP version.
LinkError after_ethertype(ByteReader& r, uint16_t type, std::span<const uint8_t>& ip) {
  unsigned tags = 0;
  while (is_vlan(type)) {
    if (++tags > kMaxVlanTags) return LinkError::kTooManyVlanTags;
    // TCI (priority, DEI, VLAN id), then the next EtherType.
    if (!r.skip(2) || !r.be16(type)) return LinkError::kTruncated;
  }
  if (type != kEtherIpv4 && type != kEtherIpv6) return LinkError::kNotIp;
  const std::span<const uint8_t> rest = r.rest();
  if (rest.empty()) return LinkError::kNoIpHeader;
  const uint8_t version = rest[0] >> 4;
  if (version != (type == kEtherIpv4 ? 4 : 6)) return LinkError::kVersionMismatch;
  ip = trim_padding(rest);
  return LinkError::kNone;
}

LinkError raw_ip(std::span<const uint8_t> frame, int required_version, std::span<const uint8_t>& ip) {
  if (frame.empty()) return LinkError::kNoIpHeader;
  const int version = frame[0] >> 4;
  if (required_version != 0 ? version != required_version : version != 4 && version != 6)
    return LinkError::kVersionMismatch;
  ip = trim_padding(frame);
  return LinkError::kNone;
}

}  // namespace

const char* to_string(LinkError e) {
  switch (e) {
    case LinkError::kNone: return "ok";
    case LinkError::kUnsupportedLinkType: return "unsupported_link_type";
    case LinkError::kTruncated: return "truncated_link_header";
    case LinkError::kNotIp: return "not_ip";
    case LinkError::kTooManyVlanTags: return "too_many_vlan_tags";
    case LinkError::kVersionMismatch: return "ip_version_mismatch";
    case LinkError::kNoIpHeader: return "no_ip_header";
    case LinkError::kCount: break;
  }
  return "unknown";
}

bool link_type_supported(int link_type) {
  switch (link_type) {
    case linktype::kEthernet:
    case linktype::kRaw:
    case linktype::kRawFile:
    case linktype::kLinuxSll:
    case linktype::kIpv4:
    case linktype::kIpv6:
    case linktype::kLinuxSll2: return true;
    default: return false;
  }
}

const char* link_type_name(int link_type) {
  switch (link_type) {
    case linktype::kEthernet: return "Ethernet";
    case linktype::kRaw:
    case linktype::kRawFile: return "raw IP";
    case linktype::kLinuxSll: return "Linux cooked v1";
    case linktype::kIpv4: return "raw IPv4";
    case linktype::kIpv6: return "raw IPv6";
    case linktype::kLinuxSll2: return "Linux cooked v2";
    default: return "unsupported";
  }
}

LinkError ip_packet(int link_type, std::span<const uint8_t> frame, std::span<const uint8_t>& ip) {
  ip = {};
  ByteReader r(frame);
  uint16_t type = 0;
  switch (link_type) {
    case linktype::kEthernet:
      if (frame.size() < kEthernetHeader) return LinkError::kTruncated;
      r.skip(12);  // destination and source MAC
      r.be16(type);
      if (type < kEtherMinType) return LinkError::kNotIp;  // 802.3 length + LLC
      return after_ethertype(r, type, ip);
    case linktype::kLinuxSll:
      if (frame.size() < kSllHeader) return LinkError::kTruncated;
      r.skip(kSllProtocolOffset);
      r.be16(type);
      return after_ethertype(r, type, ip);
    case linktype::kLinuxSll2:
      if (frame.size() < kSll2Header) return LinkError::kTruncated;
      r.be16(type);
      r.skip(kSll2Header - 2);
      return after_ethertype(r, type, ip);
    case linktype::kRaw:
    case linktype::kRawFile: return raw_ip(frame, 0, ip);
    case linktype::kIpv4: return raw_ip(frame, 4, ip);
    case linktype::kIpv6: return raw_ip(frame, 6, ip);
    default: return LinkError::kUnsupportedLinkType;
  }
}

}  // namespace tc

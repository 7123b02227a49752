// The pcap link layer (common/link_layer): the first input byte picks one of
// the supported link types (or an unsupported one), the rest is the frame.
// A frame that yields an IP packet must yield a view inside the frame, and
// that packet then goes through the IP/TCP parser.
#include "common/link_layer.h"
#include "common/tcp_packet.h"
#include "fuzz/fuzz_target.h"

TC_FUZZ_TARGET(link_layer) {
  using namespace tc;
  if (size == 0) return 0;
  static constexpr int kTypes[] = {linktype::kEthernet, linktype::kRaw,  linktype::kRawFile, linktype::kLinuxSll,
                                   linktype::kIpv4,     linktype::kIpv6, linktype::kLinuxSll2, 147 /* unsupported */};
  const int type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const std::span<const uint8_t> frame(data + 1, size - 1);
  std::span<const uint8_t> ip;
  const LinkError e = ip_packet(type, frame, ip);
  TC_FUZZ_CHECK(e < LinkError::kCount);
  TC_FUZZ_CHECK(to_string(e) != nullptr);
  if (!link_type_supported(type)) TC_FUZZ_CHECK(e == LinkError::kUnsupportedLinkType);
  if (e != LinkError::kNone) return 0;
  TC_FUZZ_CHECK(!ip.empty());
  TC_FUZZ_CHECK(ip.data() >= frame.data() && ip.data() + ip.size() <= frame.data() + frame.size());
  TcpPacket p;
  TC_FUZZ_CHECK(TcpPacket::parse(ip, p) < ParseError::kCount);
  return 0;
}

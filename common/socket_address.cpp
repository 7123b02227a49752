#include "common/socket_address.h"

#include <netinet/in.h>

#include <cstring>

namespace tc {

socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (ep.addr.is_v4()) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(ep.port);
    std::memcpy(&sa.sin_addr, ep.addr.v4_bytes().data(), 4);
    std::memcpy(&ss, &sa, sizeof sa);
    return sizeof sa;
  }
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(ep.port);
  std::memcpy(&sa.sin6_addr, ep.addr.bytes16().data(), 16);
  std::memcpy(&ss, &sa, sizeof sa);
  return sizeof sa;
}

Endpoint local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  Endpoint ep;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return ep;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sa{};
    std::memcpy(&sa, &ss, sizeof sa);
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), &sa.sin_addr, 4);
    ep.addr = IpAddress::from_v4(b);
    ep.port = ntohs(sa.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sa{};
    std::memcpy(&sa, &ss, sizeof sa);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &sa.sin6_addr, 16);
    ep.addr = IpAddress::from_v6(b);
    ep.port = ntohs(sa.sin6_port);
  }
  return ep;
}

}  // namespace tc

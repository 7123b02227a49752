#include "intercept/control/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tc::intercept {

namespace {

constexpr int kBacklog = 128;

UniqueFd listen_on(const sockaddr* sa, socklen_t len, bool v6only, const std::string& name) {
  UniqueFd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error("cannot listen on " + name + ": " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa->sa_family == AF_INET6) {
    const int flag = v6only ? 1 : 0;
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof flag);
  }
  if (::bind(fd.get(), sa, len) != 0 || ::listen(fd.get(), kBacklog) != 0)
    throw std::runtime_error("cannot listen on " + name + ": " + std::strerror(errno));
  return fd;
}

UniqueFd listen_on_address(const IpAddress& addr, uint16_t port, bool dual_stack) {
  const std::string name = Endpoint{addr, port}.to_string();
  if (addr.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, addr.v4_bytes().data(), 4);
    return listen_on(reinterpret_cast<const sockaddr*>(&sin), sizeof sin, false, name);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, addr.bytes16().data(), 16);
  return listen_on(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6, !dual_stack, name);
}

}  // namespace

UniqueFd open_listen_socket(const IpAddress& addr, uint16_t port) { return listen_on_address(addr, port, false); }

UniqueFd open_listen_socket_any(uint16_t port) {
  UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe && errno == EAFNOSUPPORT) return listen_on_address(*IpAddress::parse("0.0.0.0"), port, false);
  return listen_on_address(IpAddress{}, port, true);
}

std::optional<uint16_t> local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return std::nullopt;
}

}  // namespace tc::intercept

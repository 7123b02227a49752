#include "intercept/control/listen_socket.h"

#include "common/socket_address.h"

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
  const Endpoint ep{addr, port};
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(ep, ss);
  return listen_on(reinterpret_cast<const sockaddr*>(&ss), len, !addr.is_v4() && !dual_stack, ep.to_string());
}

}  // namespace

UniqueFd open_listen_socket(const IpAddress& addr, uint16_t port) { return listen_on_address(addr, port, false); }

UniqueFd open_listen_socket_any(uint16_t port) {
  UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe && errno == EAFNOSUPPORT) return listen_on_address(*IpAddress::parse("0.0.0.0"), port, false);
  return listen_on_address(IpAddress{}, port, true);
}

std::optional<uint16_t> local_port(int fd) {
  const Endpoint ep = local_endpoint(fd);
  if (ep.port == 0) return std::nullopt;  // getsockname failed
  return ep.port;
}

}  // namespace tc::intercept

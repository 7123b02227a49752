// Nonblocking TCP listening sockets for the control channel.
#pragma once

#include <cstdint>
#include <optional>

#include "common/ip_address.h"
#include "common/unique_fd.h"

namespace tc::intercept {

// Listens on addr:port. An IPv6 address is IPv6 only, so "-b 0.0.0.0,::"
// works. Throws std::runtime_error naming the address on failure.
UniqueFd open_listen_socket(const IpAddress& addr, uint16_t port);

// Listens on every address: "::" dual-stack, or 0.0.0.0 where the host has no IPv6.
UniqueFd open_listen_socket_any(uint16_t port);

// The port a socket is bound to (useful with port 0 in tests).
std::optional<uint16_t> local_port(int fd);

}  // namespace tc::intercept

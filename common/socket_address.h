// Endpoint <-> sockaddr for the control-plane sockets (metrics, doctor).
#pragma once

#include <sys/socket.h>

#include "common/ip_address.h"

namespace tc {

// Fills `ss` with an AF_INET address for IPv4 (mapped) endpoints, AF_INET6
// otherwise; returns the length to pass to bind()/connect().
socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss);

// The endpoint a socket is bound to (getsockname), or port 0 on failure.
Endpoint local_endpoint(int fd);

}  // namespace tc

// The BPF filter expressions (libpcap syntax) used when the operator gives
// none with -F. Pure text, so they are unit-tested without libpcap.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/ip_address.h"

namespace tc {

// tcpcopy's capture of requests: "tcp and (dst port P or ...)", plus
// " and (dst host A or ...)" when `addresses` is not empty. No ports: every
// TCP packet ("tcp").
std::string request_filter_expression(std::span<const uint16_t> ports, std::span<const IpAddress> addresses);

// intercept's capture of the target's replies (assistant mode):
// "tcp and (src port P or ...)"; no ports: "tcp".
std::string reply_filter_expression(std::span<const uint16_t> ports);
// With the answer comparison on, tcpcopy's capture also takes the online
// server's answers: "(requests) or (tcp and (src port P ...) [and (src host
// A ...)])".
std::string request_and_answer_filter_expression(std::span<const uint16_t> ports,
                                                 std::span<const IpAddress> addresses);

}  // namespace tc

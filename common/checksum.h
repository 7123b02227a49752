// The one Internet checksum routine (RFC 1071) used for IP and TCP.
#pragma once

#include <cstdint>
#include <span>

#include "common/ip_address.h"

namespace tc {

// Adds the bytes into a 32-bit one's-complement accumulator.
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> bytes);
uint16_t checksum_fold(uint32_t sum);

// TCP checksum over the pseudo-header and `segment` (TCP header + payload,
// with its checksum field zero).
uint16_t tcp_checksum(const IpAddress& src, const IpAddress& dst, std::span<const uint8_t> segment);

}  // namespace tc

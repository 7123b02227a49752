#include "common/checksum.h"

namespace tc {

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> bytes) {
  uint64_t acc = sum;
  size_t i = 0;
  const size_t n = bytes.size();
  for (; i + 1 < n; i += 2) acc += (uint32_t{bytes[i]} << 8) | bytes[i + 1];
  if (i < n) acc += uint32_t{bytes[i]} << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t tcp_checksum(const IpAddress& src, const IpAddress& dst, std::span<const uint8_t> segment) {
  uint32_t sum = 0;
  const uint32_t len = static_cast<uint32_t>(segment.size());
  if (src.is_v4()) {
    sum = checksum_add(sum, src.v4_bytes());
    sum = checksum_add(sum, dst.v4_bytes());
    sum += 6;  // protocol
    sum += len;
  } else {
    sum = checksum_add(sum, src.bytes16());
    sum = checksum_add(sum, dst.bytes16());
    sum += len >> 16;
    sum += len & 0xffff;
    sum += 6;
  }
  sum = checksum_add(sum, segment);
  return checksum_fold(sum);
}

}  // namespace tc

#include "common/checksum.h"

#include <bit>
#include <cstring>

namespace tc {

namespace {

// The one's-complement sum of the bytes taken as 16-bit words in the
// machine's own byte order, folded to 16 bits. RFC 1071 (section 2(B)):
// that sum is the big-endian one byte-swapped, so wide native loads can do
// the adding, eight bytes at a time, with the carries added back at the end.
uint16_t native_sum16(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  uint64_t carries = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    acc += word;
    carries += acc < word;  // the add wrapped: 2^64 is 1 in one's complement
  }
  uint64_t tail = 0;
  if (n > 0) {
    std::memcpy(&tail, p, n);  // the last 1-7 bytes, zero padded as RFC 1071 pads
    if constexpr (std::endian::native == std::endian::big) tail >>= 8 * (8 - n);
  }
  acc += tail;
  carries += acc < tail;
  // Fold 64 -> 16 bits; each step keeps the sum's value mod 0xffff.
  acc = (acc & 0xffffffffu) + (acc >> 32) + carries;
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

}  // namespace

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> bytes) {
  uint16_t part = native_sum16(bytes.data(), bytes.size());
  if constexpr (std::endian::native == std::endian::little) part = static_cast<uint16_t>((part >> 8) | (part << 8));
  uint64_t acc = uint64_t{sum} + part;
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

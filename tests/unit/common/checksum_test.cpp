#include "common/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tc {
namespace {

// RFC 1071 as written: big-endian 16-bit words, a zero pad byte, carries
// folded in. The reference the word-wide routine must agree with.
uint32_t reference_add(uint32_t sum, std::span<const uint8_t> bytes) {
  uint64_t acc = sum;
  for (size_t i = 0; i < bytes.size(); i += 2) {
    const uint32_t hi = bytes[i];
    const uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    acc += (hi << 8) | lo;
  }
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: these bytes sum to ddf2 (big-endian words).
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(0, bytes)), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, EmptyAddsNothing) {
  EXPECT_EQ(checksum_add(0x1234, {}), 0x1234u);
  EXPECT_EQ(checksum_fold(checksum_add(0, {})), 0xffff);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const uint8_t three[] = {0x12, 0x34, 0x56};
  const uint8_t four[] = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(checksum_fold(checksum_add(0, three)), checksum_fold(checksum_add(0, four)));
  EXPECT_EQ(checksum_fold(checksum_add(0, three)), static_cast<uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Checksum, AllOnesCarryAround) {
  // Every word ffff: each add carries; the sum stays ffff, the checksum 0.
  for (size_t len : {2u, 8u, 16u, 1500u, 65534u}) {
    const std::vector<uint8_t> ones(len, 0xff);
    EXPECT_EQ(checksum_fold(checksum_add(0, ones)), 0) << len;
    EXPECT_EQ(checksum_fold(checksum_add(0xffffffffu, ones)), checksum_fold(reference_add(0xffffffffu, ones))) << len;
  }
}

TEST(Checksum, AgreesWithTheByteWiseSumAtEveryLengthAndAlignment) {
  std::mt19937 rng(20261203);
  std::vector<uint8_t> buf(4096 + 8);
  for (uint8_t& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t len = 0; len <= 300; ++len)
    for (size_t offset = 0; offset < 8; ++offset) {
      const std::span<const uint8_t> bytes(buf.data() + offset, len);
      const uint32_t start = static_cast<uint32_t>(rng());
      ASSERT_EQ(checksum_fold(checksum_add(start, bytes)), checksum_fold(reference_add(start, bytes)))
          << "length " << len << ", offset " << offset;
    }
  for (int round = 0; round < 2000; ++round) {
    const size_t offset = rng() % 8;
    const size_t len = rng() % 4097;
    const std::span<const uint8_t> bytes(buf.data() + offset, len);
    ASSERT_EQ(checksum_fold(checksum_add(0, bytes)), checksum_fold(reference_add(0, bytes)))
        << "length " << len << ", offset " << offset;
  }
}

TEST(Checksum, PiecesAtEvenBoundariesSumAsTheWhole) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(1000);
  for (uint8_t& b : buf) b = static_cast<uint8_t>(rng());
  const std::span<const uint8_t> all(buf);
  for (size_t cut = 0; cut <= buf.size(); cut += 2)
    ASSERT_EQ(checksum_fold(checksum_add(checksum_add(0, all.first(cut)), all.subspan(cut))),
              checksum_fold(checksum_add(0, all)))
        << cut;
}

TEST(Checksum, TcpChecksumOfAPacketWithItsChecksumIsZero) {
  // 10.0.0.1:1234 -> 10.0.0.2:80, a data segment with an odd payload.
  std::vector<uint8_t> seg = {0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};
  for (char c : std::string("GET / HTTP/1.1\r\n\r\n!")) seg.push_back(static_cast<uint8_t>(c));
  const IpAddress src = *IpAddress::parse("10.0.0.1");
  const IpAddress dst = *IpAddress::parse("10.0.0.2");
  const uint16_t sum = tcp_checksum(src, dst, seg);
  seg[16] = static_cast<uint8_t>(sum >> 8);
  seg[17] = static_cast<uint8_t>(sum);
  EXPECT_EQ(tcp_checksum(src, dst, seg), 0);
}

}  // namespace
}  // namespace tc

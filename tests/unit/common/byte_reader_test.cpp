#include "common/byte_reader.h"

#include <gtest/gtest.h>

#include <array>

namespace tc {

TEST(ByteReader, ReadsBigEndianAndStopsAtEnd) {
  const std::array<uint8_t, 7> data{0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x7f};
  ByteReader r(data);
  uint16_t a = 0;
  uint32_t b = 0;
  uint8_t c = 0;
  ASSERT_TRUE(r.be16(a));
  ASSERT_TRUE(r.be32(b));
  ASSERT_TRUE(r.u8(c));
  EXPECT_EQ(a, 0x1234);
  EXPECT_EQ(b, 0xdeadbeefu);
  EXPECT_EQ(c, 0x7f);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.u8(c));
  EXPECT_FALSE(r.skip(1));
  EXPECT_FALSE(r.take(1).has_value());
}

TEST(ByteReader, ShortReadLeavesPositionUnchanged) {
  const std::array<uint8_t, 3> data{1, 2, 3};
  ByteReader r(data);
  uint32_t v = 0;
  EXPECT_FALSE(r.be32(v));
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.remaining(), 3u);
}

TEST(ByteWriter, OverflowIsStickyAndWritesNothing) {
  std::array<uint8_t, 5> out{};
  ByteWriter w(out);
  w.be32(0x01020304);
  w.be16(0xffff);
  EXPECT_TRUE(w.overflowed());
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(out[4], 0);
}

TEST(ByteWriter, BytesAndZerosLandInOrderAndRespectTheEnd) {
  std::array<uint8_t, 8> out;
  out.fill(0xee);
  ByteWriter w(out);
  const uint8_t payload[] = {1, 2, 3};
  w.u8(9);
  w.bytes(payload);
  w.bytes({});
  w.zeros(2);
  w.zeros(0);
  EXPECT_FALSE(w.overflowed());
  EXPECT_EQ(w.size(), 6u);
  EXPECT_EQ(out, (std::array<uint8_t, 8>{9, 1, 2, 3, 0, 0, 0xee, 0xee}));
  w.bytes(payload);  // 3 bytes into the last 2: nothing written
  EXPECT_TRUE(w.overflowed());
  EXPECT_EQ(w.size(), 6u);
  EXPECT_EQ(out[6], 0xee);
  EXPECT_EQ(out[7], 0xee);
  w.zeros(1);  // sticky: no more writes once overflowed
  EXPECT_EQ(out[6], 0xee);
}

}  // namespace tc

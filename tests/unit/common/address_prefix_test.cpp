#include "common/address_prefix.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

TEST(AddressPrefix, MatchesItsRangeOnly) {
  std::string err;
  auto list = parse_prefix_list("10.77.0.0/16, 192.0.2.7,2001:db8::/32,0.0.0.0/0", err);
  ASSERT_TRUE(list) << err;
  ASSERT_EQ(list->size(), 4u);
  EXPECT_TRUE((*list)[0].contains(ip("10.77.200.1")));
  EXPECT_FALSE((*list)[0].contains(ip("10.78.0.1")));
  EXPECT_TRUE((*list)[1].contains(ip("192.0.2.7")));
  EXPECT_FALSE((*list)[1].contains(ip("192.0.2.8")));
  EXPECT_TRUE((*list)[2].contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE((*list)[2].contains(ip("2001:db9::1")));
  EXPECT_FALSE((*list)[2].contains(ip("10.77.0.1")));
  EXPECT_TRUE((*list)[3].contains(ip("203.0.113.9"))) << "/0: every IPv4 address";
  EXPECT_FALSE((*list)[3].contains(ip("::1"))) << "but no IPv6 one";
  EXPECT_TRUE((*list)[1].contains(ip("::ffff:192.0.2.7"))) << "an IPv4-mapped peer is that IPv4 address";
  EXPECT_EQ((*list)[0].to_string(), "10.77.0.0/16");
  EXPECT_EQ((*list)[1].to_string(), "192.0.2.7/32");
  EXPECT_EQ((*list)[2].to_string(), "2001:db8::/32");
  EXPECT_TRUE(any_contains(*list, ip("10.77.1.1")));
  EXPECT_FALSE(any_contains(*list, ip("fe80::1")));
}

TEST(AddressPrefix, OddPrefixLengths) {
  std::string err;
  auto p = AddressPrefix::parse("10.0.0.128/25", err);
  ASSERT_TRUE(p) << err;
  EXPECT_TRUE(p->contains(ip("10.0.0.200")));
  EXPECT_FALSE(p->contains(ip("10.0.0.127")));
  auto q = AddressPrefix::parse("2001:db8::/127", err);
  ASSERT_TRUE(q) << err;
  EXPECT_TRUE(q->contains(ip("2001:db8::1")));
  EXPECT_FALSE(q->contains(ip("2001:db8::2")));
}

TEST(AddressPrefix, RejectsWithAReason) {
  for (const char* bad : {"", ",", "10.0.0.0/8,", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "10.1.2.3/8", "host", "2001:db8::1/32", "2001:db8::/129", "10.0.0.0//8"}) {
    std::string err;
    EXPECT_FALSE(parse_prefix_list(bad, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
  std::string err;
  parse_prefix_list("10.1.2.3/8", err);
  EXPECT_NE(err.find("past its prefix length"), std::string::npos) << err;
}

}  // namespace
}  // namespace tc

#include "copy/engine/transfer_map.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

TEST(TransferMap, ParsesPortOnlyAndAddressForms) {
  TransferMap m;
  ASSERT_EQ(TransferMap::parse("80-10.0.0.2:8080,10.1.1.1:6379-10.0.0.3:6380", m), "");
  ASSERT_EQ(m.transfers().size(), 2u);
  EXPECT_FALSE(m.transfers()[0].online_addr.has_value());
  EXPECT_EQ(m.transfers()[0].online_port, 80);
  EXPECT_EQ(m.transfers()[0].target.to_string(), "10.0.0.2:8080");
  EXPECT_EQ(m.transfers()[1].online_addr->to_string(), "10.1.1.1");
  const IpAddress any = *IpAddress::parse("192.0.2.1");
  EXPECT_NE(m.find(any, 80), nullptr);
  EXPECT_EQ(m.find(any, 6379), nullptr);
  EXPECT_NE(m.find(*IpAddress::parse("10.1.1.1"), 6379), nullptr);
  EXPECT_EQ(m.find(any, 81), nullptr);
}

TEST(TransferMap, ParsesIpv6InBrackets) {
  TransferMap m;
  ASSERT_EQ(TransferMap::parse("[2001:db8::1]:80-[2001:db8::2]:8080", m), "");
  EXPECT_EQ(m.transfers()[0].target.to_string(), "[2001:db8::2]:8080");
}

TEST(TransferMap, ErrorsNameTheBadPart) {
  struct Case {
    const char* spec;
    const char* needle;
  } cases[] = {
      {"", "empty"},
      {"80", "no '-'"},
      {"80-10.0.0.2", "missing port"},
      {"80-10.0.0.2:0", "bad port '0'"},
      {"80-10.0.0.2:65536", "bad port '65536'"},
      {"80-10.0.0.256:80", "bad address '10.0.0.256'"},
      {"x-10.0.0.2:80", "bad address 'x'"},
      {"80-10.0.0.2:80,", "empty transfer"},
      {"80-0.0.0.0:80", "unspecified"},
      {"80-10.0.0.2:80,80-10.0.0.3:80", "repeats"},
      {"10.0.0.1:80-[2001:db8::2]:80", "different IP versions"},
      {"80-[2001:db8::2:80", "missing ']'"},
  };
  for (const auto& c : cases) {
    TransferMap m;
    const std::string err = TransferMap::parse(c.spec, m);
    EXPECT_NE(err.find(c.needle), std::string::npos) << c.spec << " -> " << err;
  }
}

TEST(Endpoint, DefaultPortApplies) {
  std::string err;
  auto ep = parse_endpoint("10.0.0.9", 36524, err);
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->port, 36524);
  ep = parse_endpoint("[::1]", 36524, err);
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->to_string(), "[::1]:36524");
  EXPECT_FALSE(parse_endpoint("10.0.0.9:abc", 36524, err).has_value());
  EXPECT_NE(err.find("abc"), std::string::npos);
}

}  // namespace
}  // namespace tc

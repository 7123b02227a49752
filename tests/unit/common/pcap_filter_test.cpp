#include "common/pcap_filter.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/mac_address.h"
#include "common/pcap_io.h"

namespace tc {
namespace {

TEST(PcapFilter, RequestFilterFromPorts) {
  const std::vector<uint16_t> ports{6379, 80, 80};
  EXPECT_EQ(request_filter_expression(ports, {}), "tcp and (dst port 80 or dst port 6379)");
}

TEST(PcapFilter, RequestFilterWithAddresses) {
  const std::vector<uint16_t> ports{80};
  const std::vector<IpAddress> addrs{*IpAddress::parse("10.0.0.2"), *IpAddress::parse("2001:db8::1"),
                                     *IpAddress::parse("10.0.0.1")};
  EXPECT_EQ(request_filter_expression(ports, addrs),
            "tcp and (dst port 80) and (dst host 10.0.0.1 or dst host 10.0.0.2 or dst host 2001:db8::1)");
}

TEST(PcapFilter, NoPortsMeansEveryTcpPacket) {
  EXPECT_EQ(request_filter_expression({}, {}), "tcp");
  EXPECT_EQ(reply_filter_expression({}), "tcp");
}

TEST(PcapFilter, ReplyFilterFromTargetPorts) {
  const std::vector<uint16_t> ports{443, 80};
  EXPECT_EQ(reply_filter_expression(ports), "tcp and (src port 80 or src port 443)");
}

TEST(PcapFilter, DerivedExpressionsCompile) {
  const std::vector<uint16_t> ports{80, 6379, 11211};
  const std::vector<IpAddress> addrs{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("2001:db8::1")};
  EXPECT_EQ(check_filter_syntax(request_filter_expression(ports, addrs)), "");
  EXPECT_EQ(check_filter_syntax(request_filter_expression({}, {})), "");
  EXPECT_EQ(check_filter_syntax(reply_filter_expression(ports)), "");
}

TEST(PcapFilter, SyntaxErrorsAreReported) {
  EXPECT_NE(check_filter_syntax("tcp and and"), "");
  EXPECT_NE(check_filter_syntax("dst port 99999"), "");
}

TEST(MacAddress, ParseAndPrint) {
  auto m = MacAddress::parse("02:AB:cd:00:01:ff");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "02:ab:cd:00:01:ff");
  EXPECT_FALSE(m->is_multicast());
  EXPECT_TRUE(MacAddress::parse("02-ab-cd-00-01-ff"));
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress::parse("00:00:00:00:00:00")->is_zero());
  for (const char* bad : {"", "02:ab:cd:00:01", "02:ab:cd:00:01:ff:00", "02:ab-cd:00:01:ff", "0g:ab:cd:00:01:ff",
                          "2:ab:cd:00:01:ff0", "02ab.cd00.01ff"})
    EXPECT_FALSE(MacAddress::parse(bad)) << bad;
}

}  // namespace
}  // namespace tc

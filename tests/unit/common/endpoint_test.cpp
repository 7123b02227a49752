#include <gtest/gtest.h>

#include "common/ip_address.h"

namespace tc {
namespace {

TEST(EndpointList, ParsesWithDefaultPort) {
  std::string err;
  auto list = parse_endpoint_list("10.0.0.1, 10.0.0.2:4000,[2001:db8::1]:5000,2001:db8::2,[::1]", 36524, err);
  ASSERT_TRUE(list) << err;
  ASSERT_EQ(list->size(), 5u);
  EXPECT_EQ((*list)[0].to_string(), "10.0.0.1:36524");
  EXPECT_EQ((*list)[1].to_string(), "10.0.0.2:4000");
  EXPECT_EQ((*list)[2].to_string(), "[2001:db8::1]:5000");
  EXPECT_EQ((*list)[3].to_string(), "[2001:db8::2]:36524");
  EXPECT_EQ((*list)[4].to_string(), "[::1]:36524");
}

TEST(EndpointList, RejectsWithAReason) {
  for (const char* bad : {"", "10.0.0.1,", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:x", "host.example",
                          "[2001:db8::1", "[2001:db8::1]5000", "0.0.0.0", "10.0.0.1:80:90x"}) {
    std::string err;
    EXPECT_FALSE(parse_endpoint_list(bad, 36524, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(Endpoint, PortRequiredWithoutDefault) {
  std::string err;
  EXPECT_FALSE(parse_endpoint("10.0.0.9", 0, err).has_value());
  EXPECT_NE(err.find("missing port"), std::string::npos);
  auto ep = parse_endpoint("10.0.0.9:80", 0, err);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 80);
}

}  // namespace
}  // namespace tc

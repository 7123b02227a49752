#include "copy/engine/client_map.h"

#include <gtest/gtest.h>

#include <set>

namespace tc {
namespace {

TEST(ClientMap, PatternKeepsLastOctet) {
  ClientMap m;
  ASSERT_EQ(ClientMap::parse("10.9.8.x", m), "");
  EXPECT_EQ(m.map(*IpAddress::parse("192.168.1.77"))->to_string(), "10.9.8.77");
  EXPECT_FALSE(m.map(*IpAddress::parse("2001:db8::1")).has_value());
}

TEST(ClientMap, ListIsStablePerClientAndSpreads) {
  ClientMap m;
  ASSERT_EQ(ClientMap::parse("10.9.0.1,10.9.0.2,10.9.0.3,2001:db8::9", m), "");
  const IpAddress a = *IpAddress::parse("172.16.0.5");
  EXPECT_EQ(m.map(a), m.map(a));
  std::set<std::string> used;
  for (uint32_t i = 0; i < 64; ++i) used.insert(m.map(IpAddress::from_v4_host(0xac100000u + i))->to_string());
  EXPECT_EQ(used.size(), 3u) << "IPv4 clients use the three IPv4 addresses only";
  EXPECT_EQ(m.map(*IpAddress::parse("2001:db8::1"))->to_string(), "2001:db8::9");
}

TEST(ClientMap, ErrorsNameTheBadPart) {
  for (const char* bad : {"", "10.9.0.y", "1.2.x", "10.9.0.1,", "10.9.0.1,bogus", "0.0.0.0"}) {
    ClientMap m;
    EXPECT_FALSE(ClientMap::parse(bad, m).empty()) << bad;
  }
}

}  // namespace
}  // namespace tc

#include "common/options/option_values.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tc {
namespace {

TEST(OptionValues, NumbersArePlainDecimalWithinTheRange) {
  uint32_t v = 7;
  EXPECT_TRUE(parse_number<uint32_t>("0", 0, 10, v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_number<uint32_t>("10", 0, 10, v));
  EXPECT_EQ(v, 10u);
  for (const char* bad : {"", "11", "-1", "+1", " 1", "1 ", "1s", "1e3", "0x10", "99999999999"})
    EXPECT_FALSE(parse_number<uint32_t>(bad, 0, 10, v)) << bad;
  EXPECT_EQ(v, 10u) << "left alone on failure";
  double ratio = 0;
  EXPECT_TRUE(parse_number<double>("1.5", 1.0, 1000.0, ratio));
  EXPECT_DOUBLE_EQ(ratio, 1.5);
  EXPECT_FALSE(parse_number<double>("0.5", 1.0, 1000.0, ratio));
}

TEST(OptionValues, InterfaceListsNameEachInterfaceOnce) {
  std::vector<std::string> list{"old"};
  EXPECT_EQ(parse_interface_list("eth0,eth1", list), "");
  EXPECT_EQ(list, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(parse_interface_list("eth0,eth0", list), "interface 'eth0' given twice");
  for (const char* bad : {"", "eth0,", ",eth0", "eth0,,eth1", "a-name-that-is-too-long", "a/b", "a b"})
    EXPECT_EQ(parse_interface_list(bad, list), "expected interface names separated by commas") << bad;
  EXPECT_EQ(list, (std::vector<std::string>{"eth0", "eth1"})) << "left alone on failure";
}

}  // namespace
}  // namespace tc

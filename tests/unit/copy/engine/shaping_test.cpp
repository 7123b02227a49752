// Traffic shaping: sampling, ramps and rewritten client addresses.
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace tc::test {
namespace {

TEST_F(EngineTest, PercentageChoosesWholeSessionsDeterministically) {
  auto cfg = default_config();
  cfg.sample_percent = 50;
  cfg.max_sessions = 4096;
  make(cfg);
  std::vector<uint16_t> chosen;
  for (uint16_t port = 2000; port < 3000; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    if (!out.take().empty()) chosen.push_back(port);
  }
  EXPECT_GT(chosen.size(), 420u);
  EXPECT_LT(chosen.size(), 580u);
  // Later packets of an unchosen session never start it mid-stream.
  const uint64_t created = c().sessions_created;
  for (uint16_t port = 2000; port < 3000; ++port)
    capture({.seq = 1001, .ack = 1, .flags = A | P, .data = "x", .sport = port});
  EXPECT_EQ(c().sessions_created, created);
}

TEST_F(EngineTest, RampStartsAtZero) {
  auto cfg = default_config();
  cfg.ramp = 100s;
  cfg.max_sessions = 4096;
  make(cfg);
  int early = 0, late = 0;
  for (uint16_t port = 2000; port < 2200; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    early += out.take().empty() ? 0 : 1;
  }
  now += 200s;
  for (uint16_t port = 3000; port < 3200; ++port) {
    capture({.seq = 1000, .flags = S, .sport = port});
    late += out.take().empty() ? 0 : 1;
  }
  EXPECT_EQ(early, 0);
  EXPECT_EQ(late, 200);
}

TEST_F(EngineTest, ClientAddressRewriteKeepsOriginLookup) {
  auto cfg = default_config();
  ASSERT_EQ(ClientMap::parse("192.0.2.x", cfg.client_map), "");
  make(cfg);
  capture({.seq = 1000, .flags = S, .mss = 1460});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.src.to_string(), "192.0.2.2");  // kClient is 10.0.1.2
  EXPECT_EQ(reg.registered[0].client.to_string(), "192.0.2.2");
  reply({.seq = 500, .ack = 1001, .flags = S | A, .mss = 1460, .dst = *IpAddress::parse("192.0.2.2")});
  capture({.seq = 1001, .ack = 1, .flags = A | P, .data = "hi"});
  sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].payload(), "hi");
  EXPECT_EQ(sent[1].pkt.src.to_string(), "192.0.2.2");
}

TEST_F(EngineTest, LoopbackClientsNeedALocalAddress) {
  make();
  capture({.seq = 1000, .flags = S, .src = *IpAddress::parse("127.0.0.1")});
  EXPECT_TRUE(out.take().empty());
  EXPECT_EQ(skipped(SkipReason::kLoopbackClient), 1u);
  auto cfg = default_config();
  cfg.local_address = *IpAddress::parse("10.0.1.1");
  make(cfg);
  capture({.seq = 1000, .flags = S, .src = *IpAddress::parse("127.0.0.1")});
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pkt.src.to_string(), "10.0.1.1");
}

}  // namespace
}  // namespace tc::test

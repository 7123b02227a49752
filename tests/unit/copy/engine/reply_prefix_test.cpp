// Replies may carry the first bytes of their payload after the headers (the
// payload prefix a tcpcopy's hello asks intercept for). The engine reads
// only the headers and takes the payload length from the IP header, so a
// reply with a prefix is handled exactly like the same reply without.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/counters.h"
#include "engine_harness.h"

namespace tc::test {
namespace {

class ReplyPrefixTest : public EngineTest {
 protected:
  struct Outcome {
    std::vector<std::vector<uint8_t>> sent;
    std::string counters;
  };

  // A session with held requests, answered by replies that keep `prefix`
  // payload bytes; everything the engine sent, and its counters.
  Outcome run(uint32_t prefix) {
    now = TimePoint{std::chrono::seconds(1000)};
    out.take();
    make();
    Outcome o;
    auto keep = [&] {
      for (Sent& s : out.take()) o.sent.push_back(std::move(s.bytes));
    };
    capture({.seq = 1000, .flags = S, .window = 64240, .mss = 1460, .wscale = 7});
    keep();
    reply({.seq = 70000, .ack = 1001, .flags = S | A, .window = 65535, .mss = 1460, .wscale = 7, .prefix = prefix});
    keep();
    capture({.seq = 1001, .ack = 9001, .flags = A});
    capture({.seq = 1001, .ack = 9001, .flags = A | P, .data = "req1"});
    capture({.seq = 1005, .ack = 9501, .flags = A | P, .data = "req2"});
    keep();
    reply({.seq = 70001, .ack = 1005, .flags = A | P, .payload_len = 300, .prefix = prefix});
    keep();
    reply({.seq = 70301, .ack = 1005, .flags = A | P, .payload_len = 200, .prefix = prefix});
    keep();
    reply({.seq = 70501, .ack = 1009, .flags = A | P | FIN, .payload_len = 1000, .prefix = prefix});
    keep();
    advance(10ms);
    keep();
    CounterText text;
    engine->counters().report(text);
    o.counters = text.line(true);
    return o;
  }
};

TEST_F(ReplyPrefixTest, APrefixChangesNothing) {
  const Outcome plain = run(0);
  ASSERT_GE(plain.sent.size(), 4u);  // SYN, ack, req1, req2 at least
  EXPECT_NE(plain.counters.find("response_bytes=1500"), std::string::npos) << plain.counters;
  EXPECT_NE(plain.counters.find("replies_malformed=0"), std::string::npos) << plain.counters;
  for (uint32_t prefix : {1u, 64u, 256u}) {
    const Outcome with = run(prefix);
    EXPECT_EQ(with.sent, plain.sent) << "prefix " << prefix;
    EXPECT_EQ(with.counters, plain.counters) << "prefix " << prefix;
  }
}

}  // namespace
}  // namespace tc::test

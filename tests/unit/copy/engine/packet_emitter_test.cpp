#include "copy/engine/packet_emitter.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/tcp_packet.h"

namespace tc {
namespace {

class Output : public PacketOutput {
 public:
  std::span<uint8_t> acquire(const IpAddress&) override { return full ? std::span<uint8_t>{} : std::span<uint8_t>(buf).first(size); }
  void commit(size_t len) override { sent.emplace_back(buf.begin(), buf.begin() + static_cast<long>(len)); }
  bool full = false;
  size_t size = 2048;
  std::vector<uint8_t> buf = std::vector<uint8_t>(2048);
  std::vector<std::vector<uint8_t>> sent;
};

const SessionKey kKey{*IpAddress::parse("10.0.1.2"), *IpAddress::parse("10.0.2.2"), 40000, 8080};

TEST(PacketEmitter, SendsFromTheClientToTheTargetWithFreshIpIds) {
  Output out;
  EngineCounters counters;
  PacketEmitter emitter(out, counters);
  for (int i = 0; i < 2; ++i) {
    TcpSegmentSpec spec = PacketEmitter::spec_for(kKey);
    spec.seq = 1000;
    spec.flags = tcpflag::kSyn;
    EXPECT_EQ(emitter.emit(spec), PacketEmitter::Result::kSent);
    EXPECT_EQ(spec.ip_id, i + 1);
  }
  ASSERT_EQ(out.sent.size(), 2u);
  TcpPacket p;
  ASSERT_EQ(TcpPacket::parse(out.sent[0], p), ParseError::kNone);
  EXPECT_EQ(p.src, kKey.client);
  EXPECT_EQ(p.dst, kKey.target);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 8080);
  EXPECT_EQ(counters.packets_sent, 2u);
}

TEST(PacketEmitter, AFullOutputIsCountedAndATooSmallBufferReported) {
  Output out;
  EngineCounters counters;
  PacketEmitter emitter(out, counters);
  TcpSegmentSpec spec = PacketEmitter::spec_for(kKey);
  out.full = true;
  EXPECT_EQ(emitter.emit(spec), PacketEmitter::Result::kOutputFull);
  EXPECT_EQ(counters.output_full, 1u);
  out.full = false;
  out.size = 10;
  EXPECT_EQ(emitter.emit(spec), PacketEmitter::Result::kUnbuilt);
  EXPECT_EQ(counters.packets_sent, 0u);
  EXPECT_TRUE(out.sent.empty());
}

}  // namespace
}  // namespace tc

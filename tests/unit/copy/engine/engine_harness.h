// In-memory world for the session engine: a fake clock, a packet output
// that records what the engine sends, a registrar that records keys, and
// builders for captured client packets and target reply headers; and the
// fixture that drives an engine in it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/engine/session_engine.h"

namespace tc::test {

struct Sent {
  std::vector<uint8_t> bytes;
  TcpPacket pkt;  // views into `bytes`; refreshed by SentLog
  std::string payload() const { return std::string(pkt.payload.begin(), pkt.payload.end()); }
};

class RecordingOutput : public PacketOutput {
 public:
  std::span<uint8_t> acquire(const IpAddress&) override {
    if (full) return {};
    return buf_;
  }
  void commit(size_t len) override {
    Sent s;
    s.bytes.assign(buf_.begin(), buf_.begin() + static_cast<long>(len));
    packets.push_back(std::move(s));
  }
  // Parsed copies of everything sent since the last take().
  std::vector<Sent> take() {
    std::vector<Sent> out = std::move(packets);
    packets.clear();
    for (Sent& s : out) TcpPacket::parse(s.bytes, s.pkt);
    return out;
  }
  bool full = false;
  std::vector<Sent> packets;

 private:
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
};

class RecordingRegistrar : public SessionRegistrar {
 public:
  bool register_session(const SessionKey& k) override {
    registered.push_back(k);
    return up;
  }
  void unregister_session(const SessionKey& k) override { unregistered.push_back(k); }
  bool up = true;
  std::vector<SessionKey> registered;
  std::vector<SessionKey> unregistered;
};

inline const IpAddress kClient = *IpAddress::parse("10.0.1.2");
inline const IpAddress kOnline = *IpAddress::parse("10.0.1.1");
inline const IpAddress kTarget = *IpAddress::parse("10.0.2.2");
inline constexpr uint16_t kClientPort = 40000;

struct Pkt {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = tcpflag::kAck;
  uint16_t window = 502;
  std::string data;
  bool ts = true;
  uint32_t ts_val = 1000;
  uint32_t ts_ecr = 0;
  uint16_t mss = 0;
  int8_t wscale = -1;
  uint16_t sport = kClientPort;
  IpAddress src = kClient;
};

// A client -> online packet as captured.
inline std::vector<uint8_t> client_packet(const Pkt& p, uint16_t online_port = 80) {
  TcpSegmentSpec s;
  s.src = p.src;
  s.dst = kOnline;
  s.sport = p.sport;
  s.dport = online_port;
  s.seq = p.seq;
  s.ack = p.ack;
  s.flags = p.flags;
  s.window = p.window;
  s.timestamp = p.ts;
  s.ts_val = p.ts_val;
  s.ts_ecr = p.ts_ecr;
  s.mss = p.mss;
  s.wscale = p.wscale;
  s.payload = std::span(reinterpret_cast<const uint8_t*>(p.data.data()), p.data.size());
  std::vector<uint8_t> out(70000);
  out.resize(build_tcp_packet(s, out));
  return out;
}

// A target -> client reply as intercept sends it: the headers, then the
// first `prefix` payload bytes (a tcpcopy's hello may ask for them).
struct Reply {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = tcpflag::kAck;
  uint16_t window = 1000;
  uint32_t payload_len = 0;
  bool ts = true;
  uint32_t ts_val = 5000;
  uint32_t ts_ecr = 0;
  uint16_t mss = 0;
  int8_t wscale = -1;
  uint16_t dport = kClientPort;
  IpAddress dst = kClient;
  uint32_t prefix = 0;  // payload bytes kept after the headers
  std::string head;     // the payload's first bytes, kept after the headers too
};

inline std::vector<uint8_t> reply_header(const Reply& r) {
  TcpSegmentSpec s;
  s.src = kTarget;
  s.dst = r.dst;
  s.sport = 8080;
  s.dport = r.dport;
  s.seq = r.seq;
  s.ack = r.ack;
  s.flags = r.flags;
  s.window = r.window;
  s.timestamp = r.ts;
  s.ts_val = r.ts_val;
  s.ts_ecr = r.ts_ecr;
  s.mss = r.mss;
  s.wscale = r.wscale;
  std::vector<uint8_t> payload(r.payload_len, 'r');
  std::copy_n(r.head.begin(), std::min<size_t>(r.head.size(), payload.size()), payload.begin());
  s.payload = payload;
  std::vector<uint8_t> out(70000);
  const size_t n = build_tcp_packet(s, out);
  const size_t header_len = n - r.payload_len;
  // the IP header keeps the whole length
  out.resize(header_len + std::min<size_t>(std::max<size_t>(r.prefix, r.head.size()), r.payload_len));
  return out;
}

// An online server -> client packet as captured leaving the online host:
// `data` is the whole payload; `keep` of its bytes are present.
inline std::vector<uint8_t> online_answer_packet(uint32_t seq, uint32_t ack, const std::string& data,
                                                 size_t keep = 64, uint8_t flags = tcpflag::kAck | tcpflag::kPsh) {
  TcpSegmentSpec s;
  s.src = kOnline;
  s.dst = kClient;
  s.sport = 80;
  s.dport = kClientPort;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.window = 502;
  s.payload = std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  std::vector<uint8_t> out(70000);
  const size_t n = build_tcp_packet(s, out);
  out.resize(n - data.size() + std::min(keep, data.size()));
  return out;
}

inline EngineConfig default_config() {
  EngineConfig c;
  std::string err = TransferMap::parse("80-10.0.2.2:8080", c.transfers);
  c.max_sessions = 64;
  c.buffer_bytes = 4 << 20;
  return c;
}

using F = uint8_t;
inline constexpr F A = tcpflag::kAck;
inline constexpr F P = tcpflag::kPsh;
inline constexpr F S = tcpflag::kSyn;
inline constexpr F FIN = tcpflag::kFin;
inline constexpr F R = tcpflag::kRst;

// An engine in that world: tests feed it packets and move the clock.
class EngineTest : public ::testing::Test {
 protected:
  void make(EngineConfig c = default_config(), compare::ExchangeTracker* tracker = nullptr) {
    engine = std::make_unique<SessionEngine>(std::move(c), out, reg, now, tracker);
  }
  void capture(const Pkt& p, uint16_t port = 80) {
    auto b = client_packet(p, port);
    engine->on_captured(b, now);
  }
  void reply(const Reply& r) {
    auto b = reply_header(r);
    engine->on_reply(b, now);
    engine->flush();
  }
  void advance(Duration d) {
    now += d;
    engine->on_tick(now);
  }
  const EngineCounters& c() const { return engine->counters(); }
  uint64_t lost(LostReason r) const { return c().sessions_lost[static_cast<size_t>(r)]; }
  uint64_t skipped(SkipReason r) const { return c().skipped[static_cast<size_t>(r)]; }
  uint64_t evicted(EvictReason r) const { return c().sessions_evicted[static_cast<size_t>(r)]; }

  // Client SYN, target SYN-ACK, and the third ACK; the target's ISN is tisn.
  void handshake(uint32_t isn = 1000, uint32_t tisn = 70000, uint16_t target_window = 65535) {
    capture({.seq = isn, .flags = S, .window = 64240, .mss = 1460, .wscale = 7});
    auto syn = out.take();
    ASSERT_EQ(syn.size(), 1u);
    ASSERT_TRUE(syn[0].pkt.syn());
    reply({.seq = tisn, .ack = isn + 1, .flags = S | A, .window = target_window, .mss = 1460, .wscale = 7});
    auto ack = out.take();
    ASSERT_EQ(ack.size(), 1u);
    ASSERT_EQ(ack[0].pkt.flags, A);
    ASSERT_EQ(ack[0].pkt.ack, tisn + 1);
    capture({.seq = isn + 1, .ack = 9001, .flags = A});  // client's handshake ack online
    ASSERT_TRUE(out.take().empty());
  }

  TimePoint now{std::chrono::seconds(1000)};
  RecordingOutput out;
  RecordingRegistrar reg;
  std::unique_ptr<SessionEngine> engine;
};

}  // namespace tc::test

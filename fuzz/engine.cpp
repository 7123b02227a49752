// The session engine driven by the input: captured client packets (raw
// bytes or built from fuzzed fields in a few sessions), target reply
// headers (raw, or built to answer what the engine sent), clock jumps,
// a full output and an unreachable intercept. It must never crash, never
// exceed its caps, and only ever emit well-formed packets to a target.
#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/compare/exchange_tracker.h"
#include "copy/engine/session_engine.h"
#include "fuzz/fuzz_target.h"

namespace {

using namespace tc;

// The addresses of the namespace tests, so seeds captured there replay
// as they happened (fuzz/tools/capture-seeds.sh).
const IpAddress kTarget4 = *IpAddress::parse("10.77.2.2");
const IpAddress kTarget6 = *IpAddress::parse("2001:db8::2");
const IpAddress kOnline4 = *IpAddress::parse("10.77.1.1");
const IpAddress kOnline6 = *IpAddress::parse("2001:db8::1");

// What the engine last sent on a client port: replies are built from it.
struct Seen {
  IpAddress client;
  uint16_t target_port = 0;
  uint32_t seq = 0;
  uint32_t end = 0;  // seq + payload (+1 for SYN/FIN)
  bool v6 = false;
};

class CheckingOutput : public PacketOutput {
 public:
  std::span<uint8_t> acquire(const IpAddress&) override {
    if (full) return {};
    return buf_;
  }
  void commit(size_t len) override {
    TC_FUZZ_CHECK(len > 0 && len <= buf_.size());
    TcpPacket p;
    TC_FUZZ_CHECK(TcpPacket::parse(std::span<const uint8_t>(buf_.data(), len), p) == ParseError::kNone);
    TC_FUZZ_CHECK(p.dst == kTarget4 || p.dst == kTarget6);
    TC_FUZZ_CHECK(p.dport == 80 || p.dport == 6379 || p.dport == 8443);
    TC_FUZZ_CHECK(valid_tcp_flags(p.flags));
    TC_FUZZ_CHECK(len <= mtu || p.syn());
    Seen& s = seen[p.sport];
    s.client = p.src;
    s.target_port = p.dport;
    s.seq = p.seq;
    s.end = p.seq + p.payload_len + (p.syn() || p.fin() ? 1 : 0);
    s.v6 = p.ip_version == 6;
    ++packets;
  }
  bool full = false;
  size_t mtu = 1500;
  uint64_t packets = 0;
  std::map<uint16_t, Seen> seen;

 private:
  std::array<uint8_t, 2048> buf_{};
};

class CheckingRegistrar : public SessionRegistrar {
 public:
  bool register_session(const SessionKey& k) override {
    TC_FUZZ_CHECK(k.target == kTarget4 || k.target == kTarget6);
    if (up) ++live[k.client_port];
    return up;
  }
  void unregister_session(const SessionKey&) override {}
  bool up = true;
  std::map<uint16_t, int> live;
};

// What the comparison reports must be sane whatever the packets were.
class CheckingSink : public compare::ExchangeSink {
 public:
  void on_exchange(const compare::ExchangeRecord& r) override {
    TC_FUZZ_CHECK(r.online.seen || r.online.bytes == 0);
    TC_FUZZ_CHECK(r.target.seen || r.target.bytes == 0);
    TC_FUZZ_CHECK(r.online.ms < 0 || r.online.ms <= 1e9);
    TC_FUZZ_CHECK(r.target.ms < 0 || r.target.ms <= 1e9);
    TC_FUZZ_CHECK(r.request.len <= compare::kRequestPrefix);
    ++records;
  }
  uint64_t records = 0;
};

struct Client {
  IpAddress addr;
  uint16_t port;
  bool v6;
  uint32_t seq;        // the client's next sequence number
  uint32_t ack;        // what it acknowledges of the online server
  uint32_t target_seq; // the target's next sequence number, for replies
};

}  // namespace

TC_FUZZ_TARGET(engine) {
  FuzzInput in(data, size);
  EngineConfig cfg;
  if (!TransferMap::parse("80-10.77.2.2:80,6379-10.77.2.2:6379,443-[2001:db8::2]:8443", cfg.transfers).empty())
    return 0;
  const uint8_t shape = in.u8();
  cfg.max_sessions = 1 + in.u8() % 8;
  cfg.buffer_bytes = (1 + in.u8() % 16) * SegmentPool::kFootprint;
  cfg.mtu = static_cast<uint16_t>(576 + in.u16() % 1000);
  cfg.hold_requests = shape & 1;
  cfg.only_full_sessions = shape & 2;
  cfg.max_retransmits = static_cast<uint8_t>(1 + (shape >> 2) % 6);
  // Short timeouts keep clock jumps (each a turn of the timer wheel) few.
  cfg.idle_timeout = std::chrono::seconds(30);
  cfg.session_timeout = std::chrono::seconds(20);
  cfg.hold_timeout = std::chrono::milliseconds(1 + in.u16() % 5000);

  CheckingOutput out;
  out.mtu = cfg.mtu;
  CheckingRegistrar reg;
  TimePoint now{std::chrono::seconds(1000)};
  CheckingSink sink;
  compare::ExchangeTracker tracker(4, sink, Duration{0}, std::chrono::seconds(3));
  SessionEngine engine(cfg, out, reg, now, &tracker);
  const size_t max_segments = cfg.buffer_bytes / SegmentPool::kFootprint;

  std::array<Client, 4> clients{};
  for (size_t i = 0; i < clients.size(); ++i) {
    const bool v6 = i == 3;
    clients[i] = Client{v6 ? *IpAddress::parse("2001:db8::99") : IpAddress::from_v4_host(0x0a4d0102u + uint32_t(i)),
                        static_cast<uint16_t>(40000 + i), v6, in.u32(), in.u32(), in.u32()};
  }
  std::vector<uint8_t> packet(70000);
  std::vector<uint8_t> payload;

  int ops = 0;
  while (!in.empty() && ++ops < 2000) {
    switch (in.u8() % 10) {
      case 0: {  // raw bytes as a captured packet
        const auto b = in.bytes(in.u16() % 2048);
        engine.on_captured(b, now);
        engine.on_online_answer(b, now);
        break;
      }
      case 1:
      case 2: {  // a client packet built from fuzzed fields
        Client& c = clients[in.u8() % clients.size()];
        TcpSegmentSpec s;
        s.src = c.addr;
        s.dst = c.v6 ? kOnline6 : kOnline4;
        s.sport = c.port;
        const uint8_t port = in.u8();
        s.dport = c.v6 ? 443 : (port % 16 == 0 ? 81 : port % 2 ? 6379 : 80);
        s.flags = in.u8();
        const uint8_t how = in.u8();
        if (how & 1) c.seq = in.u32();                          // a jump anywhere
        else c.seq += static_cast<uint32_t>(static_cast<int16_t>(in.u16()) * ((how & 2) ? 1 : 0));
        if (how & 4) c.ack += in.u16();                         // the online server answered
        s.seq = c.seq;
        s.ack = c.ack;
        s.window = in.u16();
        s.mss = (how & 8) ? in.u16() : 0;
        s.wscale = static_cast<int8_t>((how & 16) ? in.u8() % 16 : -1);
        s.timestamp = how & 32;
        s.ts_val = in.u32();
        payload.assign((how & 64) ? in.u16() % 4000 : in.u8() % 64, 'a');
        s.payload = payload;
        const size_t n = build_tcp_packet(s, packet);
        if (n == 0) break;
        engine.on_captured(std::span<const uint8_t>(packet.data(), n), now);
        if ((s.flags & tcpflag::kSyn) == 0) c.seq += static_cast<uint32_t>(payload.size());
        else c.seq += 1;
        if (how & 128) {  // the online server's answer, as the answer capture sees it
          TcpSegmentSpec a;
          a.src = s.dst;
          a.dst = c.addr;
          a.sport = s.dport;
          a.dport = c.port;
          a.seq = c.ack - in.u8();
          a.ack = c.seq;
          a.flags = in.u8();
          payload.assign(in.u16() % 3000, 'o');
          a.payload = payload;
          const size_t m = build_tcp_packet(a, packet);
          if (m > 0) engine.on_online_answer(std::span<const uint8_t>(packet.data(), m - payload.size() + std::min<size_t>(payload.size(), 64)), now);
        }
        break;
      }
      case 3:
      case 4: {  // the target answers what was sent on a client port
        Client& c = clients[in.u8() % clients.size()];
        Seen last{c.addr, static_cast<uint16_t>(c.v6 ? 8443 : 80), 0, 0, c.v6};
        uint16_t port = c.port;
        if (!out.seen.empty() && in.u8() % 4 == 0) {
          // Some copy the engine sent (moved copies use other ports).
          auto it = std::next(out.seen.begin(), static_cast<long>(in.u8() % out.seen.size()));
          port = it->first;
          last = it->second;
        } else if (auto it = out.seen.find(c.port); it != out.seen.end()) {
          last = it->second;
        }
        TcpSegmentSpec s;
        s.src = last.v6 ? kTarget6 : kTarget4;
        s.dst = last.client;
        s.sport = last.target_port;
        s.dport = port;
        s.flags = in.u8();
        const uint8_t how = in.u8();
        s.seq = (how & 1) ? in.u32() : c.target_seq;
        s.ack = (how & 2) ? in.u32() : last.end - ((how & 4) ? in.u8() : 0u);
        s.window = (how & 8) ? 0 : in.u16();
        s.mss = (how & 16) ? in.u16() : 0;
        s.wscale = static_cast<int8_t>((how & 32) ? in.u8() % 16 : -1);
        s.timestamp = how & 64;
        s.ts_val = in.u32();
        payload.assign(in.u16() % 3000, 'r');
        s.payload = payload;
        const size_t n = build_tcp_packet(s, packet);
        if (n == 0) break;
        c.target_seq += static_cast<uint32_t>(payload.size()) + ((s.flags & (tcpflag::kSyn | tcpflag::kFin)) ? 1 : 0);
        // intercept forwards the headers and the first payload bytes.
        engine.on_reply(std::span<const uint8_t>(packet.data(), n - payload.size() + std::min<size_t>(payload.size(), 64)), now);
        if (in.flag()) engine.flush();
        break;
      }
      case 5: {  // raw bytes as a reply header
        engine.on_reply(in.bytes(in.u8()), now);
        break;
      }
      case 6: {  // time passes: milliseconds, or minutes
        const uint8_t how = in.u8();
        now += (how & 1) ? Duration(std::chrono::seconds(in.u8() % 64)) : Duration(std::chrono::milliseconds(in.u16() % 4096));
        engine.on_tick(now);
        tracker.on_tick(now);
        break;
      }
      case 7: engine.flush(); break;
      case 8: out.full = !out.full; break;
      case 9:
        if (in.flag()) reg.up = !reg.up;
        else engine.reregister_all();
        break;
    }
    TC_FUZZ_CHECK(engine.active_sessions() <= cfg.max_sessions);
    TC_FUZZ_CHECK(engine.buffered_segments() <= max_segments);
  }
  // Given enough time every session ends and every buffer is returned.
  // Checked for a quarter of the inputs: each jump costs a turn of the
  // timer wheel, which dominates the run time.
  if ((shape & 0xc0) != 0xc0) return 0;
  out.full = false;
  for (int i = 0; i < 2; ++i) {
    now += std::chrono::seconds(40);
    engine.on_tick(now);
    now += std::chrono::seconds(5);
    engine.on_tick(now);
  }
  TC_FUZZ_CHECK(engine.active_sessions() == 0);
  TC_FUZZ_CHECK(engine.buffered_segments() == 0);
  TC_FUZZ_CHECK(tracker.counters().tracks_open == 0);  // every compared session ended with its copy
  return 0;
}

// Turns two captures of a namespace test run into fuzz seeds:
//   CLIENT.pcap  the online server's client-side link (requests as captured)
//   TARGET.pcap  its target-side link (replayed packets, the target's
//                replies, the control channel on port 36524)
// Writes OUT/<target>/<name> for the tcp_packet, engine, wire, control and
// nfqueue targets. Only Ethernet and Linux cooked captures are read.
//
//   fuzz_seeds_from_pcap client.pcap target.pcap fuzz/corpus
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/tcp_packet.h"
#include "common/wire.h"

namespace {

using tc::TcpPacket;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kControlPort = 36524;

struct Captured {
  double time = 0;
  Bytes ip;  // from the IP header on
};

std::vector<Captured> read_pcap(const char* path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (!p) {
    std::fprintf(stderr, "%s: %s\n", path, err);
    std::exit(1);
  }
  const int link = pcap_datalink(p);
  std::vector<Captured> out;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) {
    size_t off = 0;
    uint16_t proto = 0;
    if (link == DLT_EN10MB && h->caplen >= 14) {
      off = 14;
      proto = static_cast<uint16_t>(data[12] << 8 | data[13]);
    } else if (link == DLT_LINUX_SLL && h->caplen >= 16) {
      off = 16;
      proto = static_cast<uint16_t>(data[14] << 8 | data[15]);
    } else {
      continue;
    }
    if (proto != 0x0800 && proto != 0x86dd) continue;
    const double t = static_cast<double>(h->ts.tv_sec) + static_cast<double>(h->ts.tv_usec) / 1e6;
    out.push_back({t, Bytes(data + off, data + h->caplen)});
  }
  pcap_close(p);
  return out;
}

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& b) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                    static_cast<std::streamsize>(b.size()));
}

void put16(Bytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}

// One TCP byte stream of a direction, reassembled by sequence number, with
// the capture time at which each byte arrived.
struct Stream {
  Bytes bytes;
  std::vector<double> time;  // per byte
};

Stream reassemble(const std::vector<const Captured*>& packets) {
  std::map<uint32_t, std::pair<Bytes, double>> by_seq;
  uint32_t isn = 0;
  bool have_isn = false;
  for (const Captured* c : packets) {
    TcpPacket t;
    if (TcpPacket::parse(c->ip, t) != tc::ParseError::kNone) continue;
    if (t.syn()) {
      isn = t.seq + 1;
      have_isn = true;
    }
    if (!t.payload.empty()) by_seq.emplace(t.seq, std::make_pair(Bytes(t.payload.begin(), t.payload.end()), c->time));
  }
  Stream out;
  uint32_t next = have_isn ? isn : (by_seq.empty() ? 0 : by_seq.begin()->first);
  for (auto it = by_seq.find(next); it != by_seq.end(); it = by_seq.find(next)) {
    out.bytes.insert(out.bytes.end(), it->second.first.begin(), it->second.first.end());
    out.time.insert(out.time.end(), it->second.first.size(), it->second.second);
    next += static_cast<uint32_t>(it->second.first.size());
  }
  return out;
}

// The reply headers intercept sent in a stream, with the time each arrived.
std::vector<std::pair<double, Bytes>> replies_in(const Stream& s) {
  std::vector<std::pair<double, Bytes>> out;
  tc::wire::FrameDecoder d;
  size_t at = 0;
  while (at < s.bytes.size()) {
    auto space = d.write_space();
    if (space.empty()) break;
    const size_t n = std::min(space.size(), s.bytes.size() - at);
    std::memcpy(space.data(), s.bytes.data() + at, n);
    d.commit(n);
    at += n;
    while (auto f = d.next()) {
      if (f->type != static_cast<uint8_t>(tc::wire::MessageType::kReplies)) continue;
      // The frame was complete when its last byte arrived.
      const size_t end = std::min(at, s.time.size()) - 1;
      tc::wire::read_replies(f->payload, [&](std::span<const uint8_t> h) {
        out.emplace_back(s.time[end], Bytes(h.begin(), h.end()));
      });
    }
  }
  return out;
}

Bytes netlink_packet(uint32_t id, const Bytes& ip) {
  Bytes buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
  auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  gen->nfgen_family = AF_UNSPEC;
  gen->version = NFNETLINK_V0;
  nfqnl_msg_packet_hdr ph{};
  ph.packet_id = htonl(id);
  ph.hw_protocol = htons(0x0800);
  ph.hook = NF_INET_LOCAL_OUT;
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof ph, &ph);
  const size_t copy = std::min<size_t>(ip.size(), 128);  // intercept's copy range
  mnl_attr_put(nlh, NFQA_PAYLOAD, copy, ip.data());
  const uint32_t cap_len = htonl(static_cast<uint32_t>(ip.size()));
  mnl_attr_put(nlh, NFQA_CAP_LEN, sizeof cap_len, &cap_len);
  buf.resize(nlh->nlmsg_len);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CLIENT.pcap TARGET.pcap OUTDIR\n", argv[0]);
    return 2;
  }
  const auto client_side = read_pcap(argv[1]);
  const auto target_side = read_pcap(argv[2]);
  const std::filesystem::path out(argv[3]);

  // tcp_packet: one packet of each shape seen, both captures.
  std::set<std::tuple<uint8_t, int, bool, uint8_t>> shapes;
  int n = 0;
  for (const auto* list : {&client_side, &target_side}) {
    for (const Captured& c : *list) {
      TcpPacket t;
      if (TcpPacket::parse(c.ip, t) != tc::ParseError::kNone || c.ip.size() > 2048) continue;
      const int size_class = t.payload_len == 0 ? 0 : t.payload_len < 100 ? 1 : t.payload_len < 1000 ? 2 : 3;
      if (!shapes.emplace(t.flags, size_class, t.options.has_timestamp, t.ip_version).second) continue;
      write(out / "tcp_packet", "real-" + std::to_string(n++), c.ip);
    }
  }

  // The control channel, each direction reassembled: the reply headers
  // intercept sent come from there (the replies themselves never leave the
  // target).
  std::map<std::pair<uint16_t, bool>, std::vector<const Captured*>> control;  // (tcpcopy port, to intercept)
  for (const Captured& c : target_side) {
    TcpPacket t;
    if (TcpPacket::parse(c.ip, t) != tc::ParseError::kNone) continue;
    if (t.dport == kControlPort) control[{t.sport, true}].push_back(&c);
    if (t.sport == kControlPort) control[{t.dport, false}].push_back(&c);
  }
  std::vector<std::pair<double, Bytes>> replies;
  n = 0;
  for (const auto& [conn, packets] : control) {
    const Stream stream = reassemble(packets);
    if (stream.bytes.empty()) continue;
    if (!conn.second) {
      auto r = replies_in(stream);
      replies.insert(replies.end(), r.begin(), r.end());
    }
    Bytes bytes = stream.bytes;
    if (bytes.size() > 16 * 1024) bytes.resize(16 * 1024);
    const std::string name = std::string(conn.second ? "to-intercept-" : "to-tcpcopy-") + std::to_string(conn.first);
    Bytes wire{1};   // decoder mode
    put16(wire, 1500);
    wire.insert(wire.end(), bytes.begin(), bytes.end());
    write(out / "wire", "real-" + name, wire);
    if (conn.second) {
      Bytes ctl{0};  // no secret
      for (size_t at = 0; at < bytes.size();) {
        const size_t len = std::min<size_t>(bytes.size() - at, 1448);
        put16(ctl, len - 1);
        ctl.insert(ctl.end(), bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + len));
        at += len;
      }
      write(out / "control", "real-" + name, ctl);
    }
  }

  // engine: the requests of each client connection and the target's
  // replies to it, in capture order, with the time between them.
  struct Event {
    double time;
    bool reply;
    const Bytes* ip;
  };
  std::map<uint16_t, std::vector<Event>> by_client_port;
  for (const Captured& c : client_side) {
    TcpPacket t;
    if (TcpPacket::parse(c.ip, t) == tc::ParseError::kNone && (t.dport == 80 || t.dport == 6379))
      by_client_port[t.sport].push_back({c.time, false, &c.ip});
  }
  for (const auto& [time, header] : replies) {
    TcpPacket t;
    if (TcpPacket::parse(header, t, tc::Extent::kHeadersOnly) == tc::ParseError::kNone)
      by_client_port[t.dport].push_back({time, true, &header});
  }
  n = 0;
  for (auto& [port, events] : by_client_port) {
    if (n >= 12) break;
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
    // Header: replay with hold, 8 sessions, 16 segments, MTU 1500, 2 s
    // hold timeout, cleanup checked; then the four clients' counters.
    Bytes seed{0xc9, 7, 15};
    put16(seed, 924);
    put16(seed, 1999);
    for (int i = 0; i < 12; ++i) put32(seed, 0);
    double last = events.empty() ? 0 : events.front().time;
    for (const Event& e : events) {
      TcpPacket t;
      if (TcpPacket::parse(*e.ip, t, tc::Extent::kHeadersOnly) != tc::ParseError::kNone) continue;
      const size_t ms = std::min<size_t>(static_cast<size_t>((e.time - last) * 1000), 4095);
      last = e.time;
      if (ms > 0) {
        seed.push_back(6);
        seed.push_back(0);
        put16(seed, ms);
      }
      if (e.reply) {
        seed.push_back(5);
        seed.push_back(static_cast<uint8_t>(t.headers.size()));
        seed.insert(seed.end(), t.headers.begin(), t.headers.end());
        seed.push_back(7);  // flush: the acks of a batch of replies
      } else if (e.ip->size() < 2048) {
        seed.push_back(0);
        put16(seed, e.ip->size());
        seed.insert(seed.end(), e.ip->begin(), e.ip->end());
      }
      if (seed.size() > 48 * 1024) break;
    }
    write(out / "engine", "real-port-" + std::to_string(port), seed);
    ++n;
  }

  // nfqueue: the target's replies as the queue delivers them.
  Bytes nf{8};
  uint32_t id = 1;
  n = 0;
  for (const auto& [time, header] : replies) {
    const Bytes msg = netlink_packet(id++, header);
    nf.push_back(id % 4 == 0 ? 0x81 : 0x01);  // drain every fourth datagram
    put16(nf, msg.size());
    nf.insert(nf.end(), msg.begin(), msg.end());
    if (id % 64 == 0) {
      write(out / "nfqueue", "real-" + std::to_string(n++), nf);
      nf = {8};
      if (n >= 6) break;
    }
  }
  if (nf.size() > 1) write(out / "nfqueue", "real-" + std::to_string(n), nf);
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}

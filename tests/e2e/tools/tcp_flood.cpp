// Sends a bounded flood of crafted TCP packets through a raw socket, for
// the namespace tests only: it refuses any destination outside the test
// network 10.77.0.0/16 and stops at --count packets or --seconds.
//
//   tcp_flood --mode syn|data|garbage --dst 10.77.1.1 --dport 80
//             [--src-net 10.78.0.0] [--count N] [--rate PPS] [--seconds S]
//
//   syn      SYNs from distinct spoofed clients (half-open sessions)
//   data     mid-stream data segments from distinct spoofed clients
//   garbage  malformed or impossible TCP: bad data offset, bad option
//            lengths, truncated headers, odd flag combinations, wild
//            sequence numbers, random bytes after a valid IP header
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "common/ip_address.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "common/unique_fd.h"

namespace {

using namespace tc;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "tcp_flood: %s\n", why);
  std::exit(2);
}

struct Args {
  std::string mode = "syn";
  IpAddress dst;
  uint16_t dport = 80;
  uint32_t src_net = 0x0a4e0000;  // 10.78.0.0
  uint64_t count = 1000;
  uint64_t rate = 20000;
  double seconds = 30;
};

Args parse(int argc, char** argv) {
  Args a;
  bool have_dst = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") a.mode = v;
    else if (k == "--dst") {
      auto ip = IpAddress::parse(v);
      if (!ip || !ip->is_v4()) usage("--dst: an IPv4 address");
      a.dst = *ip;
      have_dst = true;
    } else if (k == "--dport") a.dport = static_cast<uint16_t>(std::stoul(v));
    else if (k == "--src-net") {
      auto ip = IpAddress::parse(v);
      if (!ip || !ip->is_v4()) usage("--src-net: an IPv4 address");
      a.src_net = ip->v4_host() & 0xffff0000u;
    } else if (k == "--count") a.count = std::stoull(v);
    else if (k == "--rate") a.rate = std::max<uint64_t>(1, std::stoull(v));
    else if (k == "--seconds") a.seconds = std::stod(v);
    else usage(("unknown option " + k).c_str());
  }
  if (!have_dst) usage("--dst is required");
  // Only ever the test network: nothing may leave the namespaces.
  if ((a.dst.v4_host() & 0xffff0000u) != 0x0a4d0000u) usage("--dst must be inside 10.77.0.0/16");
  if (a.mode != "syn" && a.mode != "data" && a.mode != "garbage") usage("--mode: syn, data or garbage");
  if (a.count > 1000000) usage("--count: at most 1000000");
  return a;
}

// Fixes the IP checksum of a packet whose header was edited.
void ip_checksum(std::vector<uint8_t>& p) {
  if (p.size() < 20) return;
  const size_t ihl = std::min<size_t>((p[0] & 0x0f) * 4u, p.size());
  p[10] = p[11] = 0;
  const uint16_t c = checksum_fold(checksum_add(0, std::span(p).first(ihl)));
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
}

std::vector<uint8_t> build(const TcpSegmentSpec& s) {
  std::vector<uint8_t> out(2048);
  out.resize(build_tcp_packet(s, out));
  return out;
}

// The i-th malformed packet; the kernel's IP layer must accept it (a valid
// IPv4 header), so the damage is in TCP.
std::vector<uint8_t> garbage(const Args& a, const TcpSegmentSpec& base, uint64_t i, std::mt19937& rng) {
  TcpSegmentSpec s = base;
  static const std::string junk(300, 'j');
  s.payload = std::span(reinterpret_cast<const uint8_t*>(junk.data()), 20 + i % 200);
  switch (i % 12) {
    case 0: s.flags = tcpflag::kSyn | tcpflag::kFin; break;
    case 1: s.flags = tcpflag::kSyn | tcpflag::kRst; break;
    case 2: s.flags = 0; break;
    case 3: s.flags = 0xff; break;
    case 4: s.flags = tcpflag::kFin | tcpflag::kPsh | tcpflag::kUrg; break;
    case 5: s.seq += 0x80000000u; s.flags = tcpflag::kAck | tcpflag::kPsh; break;  // a wild jump
    case 6: {  // data offset below 5
      auto p = build(s);
      p[20 + 12] = 0x20;
      return p;
    }
    case 7: {  // data offset beyond the packet
      s.payload = {};
      auto p = build(s);
      p[20 + 12] = 0xf0;
      return p;
    }
    case 8: {  // an option whose length runs past the header
      s.mss = 1460;
      auto p = build(s);
      p[20 + 21] = 40;
      return p;
    }
    case 9: {  // an option of length 0 and 1
      s.mss = 1460;
      auto p = build(s);
      p[20 + 21] = static_cast<uint8_t>(i & 1);
      return p;
    }
    case 10: {  // a TCP header cut short: IP says 30 bytes in all
      auto p = build(s);
      p.resize(30);
      p[2] = 0;
      p[3] = 30;
      ip_checksum(p);
      return p;
    }
    case 11: {  // random bytes after a valid IP header
      auto p = build(s);
      for (size_t k = 20; k < p.size(); ++k) p[k] = static_cast<uint8_t>(rng());
      p[22] = static_cast<uint8_t>(a.dport >> 8);  // still to the copied port
      p[23] = static_cast<uint8_t>(a.dport);
      return p;
    }
  }
  return build(s);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!fd) {
    std::perror("tcp_flood: raw socket");
    return 1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  std::memcpy(&to.sin_addr, a.dst.v4_bytes().data(), 4);
  std::mt19937 rng(12345);
  static const std::string body = "GET /flood HTTP/1.1\r\nHost: flood\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  uint64_t sent = 0, errors = 0;
  for (uint64_t i = 0; i < a.count; ++i) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > a.seconds) break;
    const double due = static_cast<double>(i) / static_cast<double>(a.rate);
    if (due > elapsed) std::this_thread::sleep_for(std::chrono::duration<double>(due - elapsed));
    TcpSegmentSpec s;
    // Distinct clients: 64 ports for each of up to 65536 addresses.
    s.src = IpAddress::from_v4_host(a.src_net + 1 + static_cast<uint32_t>(i / 64) % 65534);
    s.dst = a.dst;
    s.sport = static_cast<uint16_t>(20000 + i % 64);
    s.dport = a.dport;
    s.seq = static_cast<uint32_t>(rng());
    s.ack = static_cast<uint32_t>(rng());
    s.window = 64240;
    s.ip_id = static_cast<uint16_t>(i);
    std::vector<uint8_t> p;
    if (a.mode == "syn") {
      s.flags = tcpflag::kSyn;
      s.mss = 1460;
      s.wscale = 7;
      p = build(s);
    } else if (a.mode == "data") {
      s.flags = tcpflag::kAck | tcpflag::kPsh;
      s.payload = std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size());
      p = build(s);
    } else {
      p = garbage(a, s, i, rng);
    }
    if (::sendto(fd.get(), p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++errors;
    else ++sent;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tcp_flood: %s: %llu packets sent, %llu send errors, %.1f s\n", a.mode.c_str(),
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(errors), took);
  return 0;
}

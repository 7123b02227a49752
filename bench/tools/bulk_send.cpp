// The floor of sending, for bench/run.sh: writes --count prebuilt IPv4/TCP
// frames through a PACKET_TX_RING (TPACKET_V2) on --dev as fast as the
// kernel takes them, and prints the CPU time (user + system) the sending
// took. The frames go to a locally administered MAC no host owns
// (02:00:00:00:00:01), from and to addresses of the test network
// 10.77.0.0/16: the receiving host drops them as meant for another host,
// and nothing answers.
//
//   bulk_send --dev ot --count N [--size BYTES] [--seconds S]
//
// --size is the IP packet length (40-1500, default 100). Prints one line:
//   sent=N seconds=S cpu_us=U ns_per_packet=P
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/unique_fd.h"

namespace {

using namespace tc;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "bulk_send: %s\n", why);
  std::exit(2);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bulk_send: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

struct Args {
  std::string dev;
  uint64_t count = 0;
  unsigned size = 100;
  double seconds = 60;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dev") a.dev = v;
    else if (k == "--count") a.count = std::stoull(v);
    else if (k == "--size") a.size = static_cast<unsigned>(std::stoul(v));
    else if (k == "--seconds") a.seconds = std::stod(v);
    else usage(("unknown option " + k).c_str());
  }
  if (a.dev.empty()) usage("--dev is required");
  if (a.count == 0 || a.count > 100000000) usage("--count: 1 to 100000000");
  if (a.size < 40 || a.size > 1500) usage("--size: 40 to 1500 (IP packet length)");
  if (!(a.seconds > 0 && a.seconds <= 600)) usage("--seconds: more than 0, at most 600");
  return a;
}

// One Ethernet frame: IPv4 10.77.1.2:40000 -> 10.77.2.250:80, TCP ACK with
// a payload filling the IP packet to `size` bytes.
std::vector<uint8_t> build_frame(const uint8_t src_mac[6], unsigned size) {
  std::vector<uint8_t> f(14 + size, 0);
  const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(f.data(), dst_mac, 6);
  std::memcpy(f.data() + 6, src_mac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(size >> 8);
  ip[3] = static_cast<uint8_t>(size);
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = IPPROTO_TCP;
  const uint8_t src[4] = {10, 77, 1, 2}, dst[4] = {10, 77, 2, 250};
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  const uint16_t ip_sum = checksum_fold(checksum_add(0, std::span<const uint8_t>(ip, 20)));
  ip[10] = static_cast<uint8_t>(ip_sum >> 8);
  ip[11] = static_cast<uint8_t>(ip_sum);
  uint8_t* tcp = ip + 20;
  tcp[0] = 40000 >> 8;
  tcp[1] = 40000 & 0xff;
  tcp[3] = 80;
  tcp[7] = 1;         // seq 1
  tcp[11] = 1;        // ack 1
  tcp[12] = 5 << 4;   // 20-byte header
  tcp[13] = 0x18;     // PSH ACK
  tcp[14] = 0xff;     // window
  for (unsigned i = 40; i < size; ++i) ip[i] = static_cast<uint8_t>('a' + i % 26);
  // Pseudo header + segment.
  uint32_t sum = checksum_add(0, std::span<const uint8_t>(ip + 12, 8));
  sum += IPPROTO_TCP + (size - 20);
  sum = checksum_add(sum, std::span<const uint8_t>(tcp, size - 20));
  const uint16_t tcp_sum = checksum_fold(sum);
  tcp[16] = static_cast<uint8_t>(tcp_sum >> 8);
  tcp[17] = static_cast<uint8_t>(tcp_sum);
  return f;
}

double cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const long long us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  return static_cast<double>(us);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const unsigned ifindex = if_nametoindex(a.dev.c_str());
  if (ifindex == 0) die(("interface " + a.dev).c_str());

  // Protocol 0: this socket receives nothing.
  UniqueFd fd(socket(AF_PACKET, SOCK_RAW, 0));
  if (!fd) die("socket(AF_PACKET)");
  int version = TPACKET_V2;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) die("PACKET_VERSION");
  int one = 1;
  // No qdisc on the way (veth has none anyway): the cheapest path to the driver.
  (void)setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

  constexpr unsigned kFrameSize = 2048, kBlockSize = 1u << 16, kBlocks = 64;
  tpacket_req req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kBlocks;
  req.tp_frame_size = kFrameSize;
  req.tp_frame_nr = kBlockSize / kFrameSize * kBlocks;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) die("PACKET_TX_RING");
  const size_t ring_len = size_t{req.tp_block_size} * req.tp_block_nr;
  void* map = mmap(nullptr, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) die("mmap");
  auto* ring = static_cast<uint8_t*>(map);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) die("bind");

  // The interface's own MAC as the source.
  uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
  {
    char path[64];
    std::snprintf(path, sizeof path, "/sys/class/net/%s/address", a.dev.c_str());
    if (FILE* f = std::fopen(path, "r")) {
      unsigned m[6];
      if (std::fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
        for (int i = 0; i < 6; ++i) src_mac[i] = static_cast<uint8_t>(m[i]);
      std::fclose(f);
    }
  }

  // Every slot holds the frame from the start; sending only hands slots
  // back to the kernel.
  const std::vector<uint8_t> frame = build_frame(src_mac, a.size);
  const unsigned data_off = TPACKET_ALIGN(sizeof(tpacket2_hdr));
  for (unsigned i = 0; i < req.tp_frame_nr; ++i) {
    auto* hdr = reinterpret_cast<tpacket2_hdr*>(ring + size_t{i} * kFrameSize);
    std::memcpy(ring + size_t{i} * kFrameSize + data_off, frame.data(), frame.size());
    hdr->tp_len = static_cast<uint32_t>(frame.size());
    hdr->tp_status = TP_STATUS_AVAILABLE;
  }

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(a.seconds);
  const double cpu0 = cpu_us();
  uint64_t queued = 0;
  unsigned slot = 0;
  while (queued < a.count) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    while (queued < a.count) {
      auto* hdr = reinterpret_cast<volatile tpacket2_hdr*>(ring + size_t{slot} * kFrameSize);
      if (hdr->tp_status != TP_STATUS_AVAILABLE) {
        if (hdr->tp_status & TP_STATUS_WRONG_FORMAT) {
          std::fprintf(stderr, "bulk_send: the kernel refused a frame (wrong format)\n");
          return 1;
        }
        break;
      }
      hdr->tp_status = TP_STATUS_SEND_REQUEST;
      slot = (slot + 1) % req.tp_frame_nr;
      ++queued;
    }
    // Blocking: returns once the kernel has taken every requested slot.
    if (send(fd.get(), nullptr, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN) die("send");
  }
  // The last slots: wait until the kernel has sent them.
  while (send(fd.get(), nullptr, 0, 0) > 0) {
  }
  const double cpu1 = cpu_us();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sent=%llu seconds=%.3f cpu_us=%.0f ns_per_packet=%.1f\n", static_cast<unsigned long long>(queued),
              secs, cpu1 - cpu0, queued ? (cpu1 - cpu0) * 1000.0 / static_cast<double>(queued) : 0.0);
  munmap(map, ring_len);
  return queued == a.count ? 0 : 1;
}

// Many peers on intercept's control port, for the namespace tests only: it
// refuses any destination outside loopback and the test network
// 10.77.0.0/16, and stops at --seconds, after at most --max-connects
// connections.
//
//   control_peers --dst 10.77.2.2 [--port 36524] [--src 10.77.2.9]
//                 --count N [--hello [--register K]] [--seconds S]
//                 [--max-connects M] [--in-flight W]
//
//   without --hello  N silent peers: connect, say nothing; each one the
//                    server closes is opened again at once, until --seconds
//   with --hello     N peers that complete the handshake (no secret) and
//                    stay idle until --seconds, then all close together;
//                    --register K: each registers K sessions after its hello;
//                    --in-flight W: at most W peers wait for their HelloAck
//                    at a time, the next one connects when one is acked (a
//                    steady arrival instead of one burst)
//
// Prints one line of totals: connects, closed_by_server, turned_away (a
// kTurnedAway frame came before the close), acked (HelloAck received).
// Exit status 0, or 2 for a bad argument or a destination it refuses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/address_prefix.h"
#include "common/ip_address.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/wire.h"

namespace {

using namespace tc;
using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "control_peers: %s\n", why);
  std::exit(2);
}

struct Args {
  IpAddress dst;
  uint16_t port = wire::kDefaultPort;
  std::optional<IpAddress> src;
  size_t count = 0;
  bool hello = false;
  size_t register_keys = 0;
  double seconds = 5;
  size_t max_connects = 100000;
  size_t in_flight = 0;  // 0: no limit
};

Args parse(int argc, char** argv) {
  Args a;
  bool have_dst = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--hello") {
      a.hello = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const char* v = argv[++i];
    if (arg == "--dst") {
      auto ip = IpAddress::parse(v);
      if (!ip) usage("--dst: not an address");
      a.dst = *ip;
      have_dst = true;
    } else if (arg == "--src") {
      a.src = IpAddress::parse(v);
      if (!a.src) usage("--src: not an address");
    } else if (arg == "--port") {
      a.port = static_cast<uint16_t>(std::strtoul(v, nullptr, 10));
    } else if (arg == "--count") {
      a.count = std::strtoul(v, nullptr, 10);
    } else if (arg == "--seconds") {
      a.seconds = std::strtod(v, nullptr);
    } else if (arg == "--register") {
      a.register_keys = std::strtoul(v, nullptr, 10);
    } else if (arg == "--max-connects") {
      a.max_connects = std::strtoul(v, nullptr, 10);
    } else if (arg == "--in-flight") {
      a.in_flight = std::strtoul(v, nullptr, 10);
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (!have_dst || a.count == 0 || a.count > 5000) usage("need --dst and --count 1..5000");
  if (a.register_keys > 1000) usage("--register: 0..1000");
  if (a.seconds <= 0 || a.seconds > 60) usage("--seconds: 0..60");
  std::string err;
  const auto allowed = parse_prefix_list("127.0.0.0/8,::1,10.77.0.0/16", err);
  if (!allowed || !any_contains(*allowed, a.dst)) usage("--dst must be loopback or in 10.77.0.0/16");
  return a;
}

struct Peer {
  UniqueFd fd;
  wire::FrameDecoder decoder;
  bool acked = false;
};

struct Totals {
  size_t connects = 0, closed = 0, turned_away = 0, acked = 0, connect_errors = 0;
};

bool open_peer(const Args& a, Peer& p, Totals& t) {
  p = Peer{};
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(Endpoint{a.dst, a.port}, ss);
  UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  if (a.src) {
    sockaddr_storage src{};
    const socklen_t slen = to_sockaddr(Endpoint{*a.src, 0}, src);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), slen) != 0) usage("--src: cannot bind to it");
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ++t.connect_errors;
    return false;
  }
  ++t.connects;
  if (a.hello) {
    wire::FrameWriter w(64 * 1024);
    w.hello(0x70000000u + static_cast<uint32_t>(t.connects));
    for (size_t k = 0; k < a.register_keys; ++k) {
      SessionKey key;
      key.client = *IpAddress::parse("10.79.0.1");
      key.target = *IpAddress::parse("10.79.1.1");
      key.client_port = static_cast<uint16_t>(1024 + k);
      key.target_port = static_cast<uint16_t>(t.connects);
      w.add_key(wire::MessageType::kRegister, key);
    }
    const auto out = w.pending();
    if (::send(fd.get(), out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return false;
  }
  p.fd = std::move(fd);
  return true;
}

// Reads what `p` got; false when the server closed it.
bool poll_peer(Peer& p, Totals& t) {
  while (true) {
    const auto space = p.decoder.write_space();
    if (space.empty()) return true;
    const ssize_t n = ::recv(p.fd.get(), space.data(), space.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) {
      ++t.closed;
      return false;
    }
    p.decoder.commit(static_cast<size_t>(n));
    while (auto f = p.decoder.next()) {
      if (f->type == static_cast<uint8_t>(wire::MessageType::kHelloAck) && !p.acked) {
        p.acked = true;
        ++t.acked;
      }
      if (f->type == static_cast<uint8_t>(wire::MessageType::kTurnedAway)) ++t.turned_away;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  std::vector<Peer> peers(a.count);
  Totals t;
  size_t next = 0;  // the next peer to open the first time
  // Opens peers in order while the in-flight limit allows.
  auto open_more = [&] {
    while (next < peers.size() && t.connects < a.max_connects && Clock::now() < end) {
      if (a.hello && a.in_flight > 0) {
        const auto waiting = std::count_if(peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(next),
                                           [](const Peer& p) { return p.fd && !p.acked; });
        if (static_cast<size_t>(waiting) >= a.in_flight) return;
      }
      open_peer(a, peers[next++], t);
    }
  };
  open_more();
  while (Clock::now() < end) {
    std::vector<pollfd> pfds;
    for (const Peer& p : peers) pfds.push_back(pollfd{p.fd.get(), POLLIN, 0});
    (void)::poll(pfds.data(), pfds.size(), 20);
    for (Peer& p : peers) {
      if (p.fd && poll_peer(p, t)) continue;
      p.fd.reset();
      // Silent peers come back at once, as a flood refilling the slots would.
      if (!a.hello && t.connects < a.max_connects && Clock::now() < end) open_peer(a, p, t);
    }
    open_more();
  }
  std::printf("connects=%zu closed_by_server=%zu turned_away=%zu acked=%zu connect_errors=%zu\n", t.connects, t.closed,
              t.turned_away, t.acked, t.connect_errors);
  return 0;
}

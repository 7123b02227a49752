// Paced keep-alive HTTP load, for bench/run.sh: --connections keep-alive
// connections to --dst:--port share a total of --rate GET requests per
// second for --seconds, each path unique (/r/PREFIX/CONNECTION/N). A
// connection has one request in flight at a time; a request that comes due
// while every connection waits for an answer waits for the first one free
// (waiting: the most requests that waited at once). Refuses any destination outside the test network
// 10.77.0.0/16. Prints one line at the end:
//   sent=N answered=N waiting=N errors=N seconds=S rate=R
// (rate: requests sent per second of sending).
//
//   paced_http --dst 10.77.1.1 [--port 80] --rate R [--connections N]
//              [--seconds S] [--prefix P]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/unique_fd.h"

namespace {

using namespace tc;
using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "paced_http: %s\n", why);
  std::exit(2);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "paced_http: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

struct Args {
  IpAddress dst;
  uint16_t port = 80;
  uint64_t rate = 0;
  unsigned connections = 50;
  double seconds = 5;
  std::string prefix = "paced";
};

Args parse(int argc, char** argv) {
  Args a;
  bool have_dst = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dst") {
      auto ip = IpAddress::parse(v);
      if (!ip || !ip->is_v4()) usage("--dst: an IPv4 address");
      a.dst = *ip;
      have_dst = true;
    } else if (k == "--port") a.port = static_cast<uint16_t>(std::stoul(v));
    else if (k == "--rate") a.rate = std::stoull(v);
    else if (k == "--connections") a.connections = static_cast<unsigned>(std::stoul(v));
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--prefix") a.prefix = v;
    else usage(("unknown option " + k).c_str());
  }
  if (!have_dst) usage("--dst is required");
  // Only ever the test network: nothing may leave the namespaces.
  if ((a.dst.v4_host() & 0xffff0000u) != 0x0a4d0000u) usage("--dst must be inside 10.77.0.0/16");
  if (a.rate == 0 || a.rate > 1000000) usage("--rate: 1 to 1000000 requests per second");
  if (a.connections == 0 || a.connections > 1000) usage("--connections: 1 to 1000");
  if (!(a.seconds > 0 && a.seconds <= 120)) usage("--seconds: more than 0, at most 120");
  if (a.prefix.empty() || a.prefix.find_first_of(" /\r\n") != std::string::npos) usage("--prefix: a word");
  return a;
}

struct Conn {
  UniqueFd fd;
  bool connected = false;
  bool busy = false;  // a request in flight
  uint64_t n = 0;     // requests sent on it
  std::string out;    // not yet written
  std::string in;     // not yet parsed
};

// One whole response at the front of `in`: its length, or 0 when it is
// not all there; -1 when it cannot be parsed.
long response_length(const std::string& in) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t body = 0;
  const size_t cl = in.find("Content-Length:");
  if (cl != std::string::npos && cl < end) body = std::strtoul(in.c_str() + cl + 15, nullptr, 10);
  else if (in.compare(0, 5, "HTTP/") != 0) return -1;
  const size_t total = end + 4 + body;
  return in.size() >= total ? static_cast<long>(total) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep) die("epoll_create1");

  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a.port);
  sa.sin_addr.s_addr = htonl(a.dst.v4_host());

  std::vector<Conn> conns(a.connections);
  for (unsigned i = 0; i < a.connections; ++i) {
    Conn& c = conns[i];
    c.fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!c.fd) die("socket");
    int one = 1;
    setsockopt(c.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = i;
    if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) < 0) die("epoll_ctl");
  }

  uint64_t sent = 0, answered = 0, waiting = 0, errors = 0, backlog = 0;
  Clock::time_point last_send{};
  unsigned next = 0;
  // send_on: queue the next request on connection i and try to write it.
  auto send_on = [&](unsigned i) {
    Conn& c = conns[i];
    c.out += "GET /r/" + a.prefix + "/" + std::to_string(i) + "/" + std::to_string(++c.n) +
             " HTTP/1.1\r\nHost: bench\r\n\r\n";
    c.busy = true;
    ++sent;
    last_send = Clock::now();
    const ssize_t w = write(c.fd.get(), c.out.data(), c.out.size());
    if (w > 0) c.out.erase(0, static_cast<size_t>(w));
    else if (w < 0 && errno != EAGAIN) ++errors;
  };
  // dispatch: hand the waiting requests to free connections, in turn.
  auto dispatch = [&] {
    for (unsigned tried = 0; backlog > 0 && tried < a.connections; ++tried) {
      const unsigned i = next;
      next = (next + 1) % a.connections;
      if (conns[i].connected && !conns[i].busy && conns[i].fd) {
        send_on(i);
        --backlog;
        tried = 0;
      }
    }
  };

  // Wait (at most 5 s) for the connections to be established.
  const auto connect_deadline = Clock::now() + std::chrono::seconds(5);
  unsigned up = 0;
  epoll_event events[256];
  while (up < a.connections && Clock::now() < connect_deadline) {
    const int n = epoll_wait(ep.get(), events, 256, 100);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[k].data.u32];
      if (c.connected || !(events[k].events & EPOLLOUT)) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        die("connect");
      }
      c.connected = true;
      ++up;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = events[k].data.u32;
      epoll_ctl(ep.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    }
  }
  if (up < a.connections) {
    std::fprintf(stderr, "paced_http: %u of %u connections established in 5 s\n", up, a.connections);
    return 1;
  }

  const auto start = Clock::now();
  const auto send_end = start + std::chrono::duration<double>(a.seconds);
  const auto drain_end = send_end + std::chrono::seconds(5);
  const uint64_t total = static_cast<uint64_t>(static_cast<double>(a.rate) * a.seconds);
  uint64_t due_so_far = 0;
  last_send = start;
  for (;;) {
    const auto now = Clock::now();
    if (now < send_end) {
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const uint64_t due = std::min(total, static_cast<uint64_t>(elapsed * static_cast<double>(a.rate)));
      if (due > due_so_far) {
        backlog += due - due_so_far;
        due_so_far = due;
      }
    } else if (due_so_far < total) {
      backlog += total - due_so_far;
      due_so_far = total;
    }
    dispatch();
    waiting = std::max(waiting, backlog);  // due, yet no free connection
    if (answered + errors >= sent && backlog == 0 && due_so_far >= total) break;
    if (now >= drain_end) break;
    const int n = epoll_wait(ep.get(), events, 256, 1);
    for (int k = 0; k < n; ++k) {
      const unsigned i = events[k].data.u32;
      Conn& c = conns[i];
      char buf[16384];
      for (;;) {
        const ssize_t r = read(c.fd.get(), buf, sizeof buf);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0 || errno != EAGAIN) {
          // Closed or failed: its request in flight is lost.
          if (c.busy) ++errors;
          c.busy = false;
          epoll_ctl(ep.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
          c.fd = UniqueFd();
        }
        break;
      }
      long len;
      while (c.fd && (len = response_length(c.in)) != 0) {
        if (len < 0) {
          ++errors;
          c.in.clear();
          break;
        }
        c.in.erase(0, static_cast<size_t>(len));
        if (c.busy) {
          ++answered;
          c.busy = false;
        }
      }
      if (c.fd && !c.out.empty()) {
        const ssize_t w = write(c.fd.get(), c.out.data(), c.out.size());
        if (w > 0) c.out.erase(0, static_cast<size_t>(w));
      }
    }
  }
  const double secs = std::chrono::duration<double>(last_send - start).count();
  std::printf("sent=%llu answered=%llu waiting=%llu errors=%llu seconds=%.3f rate=%.0f\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(answered),
              static_cast<unsigned long long>(waiting), static_cast<unsigned long long>(errors), secs,
              secs > 0 ? static_cast<double>(sent) / secs : 0.0);
  return 0;
}

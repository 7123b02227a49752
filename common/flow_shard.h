// How tcpcopy's workers (--workers) share the traffic: a client connection
// belongs to the worker that a hash of its client port names. The capture
// hands each worker its own connections (the kernel does it for the packet
// ring, the worker itself for other captures), and every port a worker
// gives a copy hashes to the same worker, so:
//   - two workers never put copies on one connection to the target, as each
//     connection's port names the only worker that may use it;
//   - a reply tells its worker by its destination port alone.
// The port is hashed, not taken modulo the workers: Linux picks even ports
// for connect(), so a remainder would put every Linux client on the even
// workers. The hash is one multiplication and a shift, which the kernel's
// fanout program computes as well (build_fanout_program).
#pragma once

#include <cstdint>

namespace tc {

struct FlowShard {
  uint16_t index = 0;  // this worker, 0 .. count-1
  uint16_t count = 1;  // workers in all

  static constexpr uint32_t kMultiplier = 40503;  // odd; port * it fits 32 bits
  static constexpr uint32_t kShift = 8;

  // The worker of a connection on `client_port`.
  static uint16_t worker_of(uint16_t client_port, uint16_t count) {
    if (count <= 1) return 0;
    return static_cast<uint16_t>(((client_port * kMultiplier) >> kShift) % count);
  }
  bool sharded() const { return count > 1; }
  // Whether a connection on `client_port` is this worker's.
  bool owns(uint16_t client_port) const { return worker_of(client_port, count) == index; }
  static bool same_worker(uint16_t a, uint16_t b, uint16_t count) { return worker_of(a, count) == worker_of(b, count); }

  // The first port from `port` on (1024-65535, wrapping round) whose worker
  // is `like`'s: a copy's port never falls among the privileged ones.
  static uint16_t align(uint16_t port, uint16_t like, uint16_t count) {
    if (count <= 1) return port;
    const uint16_t want = worker_of(like, count);
    uint32_t p = port < 1024 ? 1024 : port;
    for (uint32_t tries = 0; tries < 65536; ++tries) {
      if (worker_of(static_cast<uint16_t>(p), count) == want) break;
      p = p == 65535 ? 1024 : p + 1;
    }
    return static_cast<uint16_t>(p);
  }
};

}  // namespace tc

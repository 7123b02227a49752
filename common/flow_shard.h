// How tcpcopy's workers (--workers) share the traffic: a client connection
// belongs to the worker numbered by its client port modulo the number of
// workers. The capture hands each worker its own connections (the kernel
// does it for the packet ring, the worker itself for other captures), and
// every port a worker gives a copy keeps that remainder, so:
//   - two workers never put copies on one connection to the target, as each
//     connection's remainder names the only worker that may use it;
//   - a reply tells its worker by its destination port alone.
#pragma once

#include <cstdint>

namespace tc {

struct FlowShard {
  uint16_t index = 0;  // this worker, 0 .. count-1
  uint16_t count = 1;  // workers in all

  bool sharded() const { return count > 1; }
  // Whether a connection on `client_port` is this worker's.
  bool owns(uint16_t client_port) const { return count <= 1 || client_port % count == index; }
  static bool same_worker(uint16_t a, uint16_t b, uint16_t count) { return count <= 1 || a % count == b % count; }

  // `port` moved to the nearest port with `like`'s remainder, kept within
  // 1024-65535 (a copy's port never falls among the privileged ones).
  static uint16_t align(uint16_t port, uint16_t like, uint16_t count) {
    if (count <= 1) return port;
    uint32_t p = port - port % count + like % count;
    if (p < 1024) p += count * ((1024 - p + count - 1) / count);
    if (p > 65535) p -= count;
    return static_cast<uint16_t>(p);
  }
};

}  // namespace tc

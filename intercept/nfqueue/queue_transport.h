// The seam between the NFQUEUE logic and the netlink socket, so tests can
// feed crafted messages and make receive fail with ENOBUFS or EAGAIN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tc::intercept {

struct ReceivedDatagram {
  std::span<uint8_t> buffer;  // where the datagram may be written
  size_t length = 0;          // bytes received
  bool truncated = false;     // larger than `buffer`; its tail is lost
};

class QueueTransport {
 public:
  virtual ~QueueTransport() = default;
  // Receives up to slots.size() datagrams without blocking. Returns how many
  // were received, or a negative errno (-EAGAIN when nothing is waiting).
  virtual int receive(std::span<ReceivedDatagram> slots) = 0;
  // Sends one buffer of netlink messages. Returns 0 or a negative errno.
  virtual int send(std::span<const uint8_t> messages) = 0;
};

}  // namespace tc::intercept

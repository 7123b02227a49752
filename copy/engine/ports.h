// The seams between the session engine (pure logic) and the I/O shells.
// Tests implement these with in-memory fakes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/session_key.h"

namespace tc {

// Where rewritten packets go (a raw socket, a transmit ring, or a test vector).
class PacketOutput {
 public:
  virtual ~PacketOutput() = default;
  // A buffer for one IP packet to `dst` (an output that sends by
  // destination picks its path here, so the packet is built in place).
  // Empty when the output cannot take more now: the engine counts the
  // packet as dropped (retransmission recovers it).
  virtual std::span<uint8_t> acquire(const IpAddress& dst) = 0;
  // Queues the first `len` bytes of the buffer from the last acquire().
  virtual void commit(size_t len) = 0;
};

// The control channel, as the engine sees it.
class SessionRegistrar {
 public:
  virtual ~SessionRegistrar() = default;
  // Announces a session to the intercepts before its SYN is sent. False
  // when no intercept can be reached: the session is not started.
  virtual bool register_session(const SessionKey& key) = 0;
  virtual void unregister_session(const SessionKey& key) = 0;
};

}  // namespace tc

// What the I/O shell needs of a sender (raw sockets or a transmit ring): the
// engine's PacketOutput, plus sending what is queued, the hook that puts
// session registrations ahead of the packets, and counters.
#pragma once

#include <cstddef>
#include <functional>

#include "common/counters.h"
#include "copy/engine/ports.h"

namespace tc {

class PacketSender : public PacketOutput {
 public:
  // Sends every queued packet. Returns the number sent; the rest were
  // counted as dropped.
  virtual size_t flush() = 0;
  // Runs before every send, including one that acquire() starts because
  // every buffer is queued.
  virtual void set_before_send(std::function<void()> hook) = 0;
  virtual void report(CounterSink& sink) const = 0;
  // A descriptor the event loop polls for the sender (the default sender
  // follows routes and neighbours on it), or -1; on_readable() when it is.
  virtual int event_fd() const { return -1; }
  virtual void on_readable() {}
};

}  // namespace tc

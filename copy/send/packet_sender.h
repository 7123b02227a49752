// What the I/O shell needs of a sender (raw sockets or a transmit ring): the
// engine's PacketOutput, plus sending what is queued, the hook that puts
// session registrations ahead of the packets, and counters.
#pragma once

#include <cstddef>
#include <functional>

#include "common/counters.h"
#include "copy/engine/ports.h"

namespace tc {

// The counters every sender reports alike (raw sockets, transmit rings);
// a sender's stats hold TC_COUNTER_FIELDS(TC_SEND_COUNTERS).
#define TC_SEND_COUNTERS(COUNTER, GAUGE, REASONS)                                                              \
  COUNTER(packets_sent, "send_packets", "", "Packets the sender handed to the kernel")                         \
  COUNTER(bytes_sent, "send_bytes", "", "Bytes of those packets")                                              \
  COUNTER(refused_destination, "send_refused_destination", "",                                                 \
          "Packets to an address that is no -x target: refused, never sent")                                   \
  COUNTER(malformed, "send_malformed", "",                                                                     \
          "Packets the sender could not read a destination from, or too large for a send slot: not sent")

// Reported by every transmit ring, and by the default sender before its
// first ring opens.
inline constexpr const char* kRingFullHelp =
    "Copies dropped because every frame of the transmit ring was still held by the device";

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

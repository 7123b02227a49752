// A source of captured request packets, delivered at the IP layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/counters.h"

namespace tc {

class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  // `packet` starts at the IP header and is valid only during the call.
  virtual void on_packet(std::span<const uint8_t> packet) = 0;
  // A source with an end (a capture file) delivered the last packet of a
  // pass: no packet of the sessions still open will follow.
  virtual void on_capture_end() {}
};

class CaptureSource {
 public:
  virtual ~CaptureSource() = default;
  // The descriptor to poll for readability.
  virtual int fd() const = 0;
  // Reads what is ready (in batches) without blocking and hands each packet
  // to `handler`. Returns the number of packets delivered.
  virtual size_t drain(PacketHandler& handler) = 0;
  virtual void report(CounterSink& sink) const = 0;
  // True once a source with an end (a capture file) has delivered
  // everything; live sources never finish.
  virtual bool finished() const { return false; }
};

}  // namespace tc

// The one place packets leave the session engine: a segment described by a
// TcpSegmentSpec is built into the output's next buffer and committed. The
// emitter numbers the IP ids and counts what went out and what could not.
#pragma once

#include <cstdint>

#include "common/session_key.h"
#include "common/tcp_builder.h"
#include "copy/engine/engine_counters.h"
#include "copy/engine/ports.h"

namespace tc {

class PacketEmitter {
 public:
  enum class Result : uint8_t {
    kSent,
    kOutputFull,  // the output took no more (counted)
    kUnbuilt,     // the packet did not fit the output's buffer (not counted here)
  };

  PacketEmitter(PacketOutput& out, EngineCounters& counters) : out_(out), counters_(counters) {}

  // A spec addressed from the client to the target of `key`.
  static TcpSegmentSpec spec_for(const SessionKey& key) {
    TcpSegmentSpec spec;
    spec.src = key.client;
    spec.dst = key.target;
    spec.sport = key.client_port;
    spec.dport = key.target_port;
    return spec;
  }

  // Builds and sends `spec` (its ip_id is set here).
  Result emit(TcpSegmentSpec& spec) {
    std::span<uint8_t> buf = out_.acquire(spec.dst);
    if (buf.empty()) {
      ++counters_.output_full;
      return Result::kOutputFull;
    }
    spec.ip_id = ++ip_id_;
    const size_t n = build_tcp_packet(spec, buf);
    if (n == 0) return Result::kUnbuilt;
    out_.commit(n);
    ++counters_.packets_sent;
    return Result::kSent;
  }

 private:
  PacketOutput& out_;
  EngineCounters& counters_;
  uint16_t ip_id_ = 0;
};

}  // namespace tc

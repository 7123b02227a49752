// Where intercept takes the target's replies from: NFQUEUE on the target
// (nfqueue mode) or libpcap on an assistant host the target routes its
// replies to (assistant mode). Both hand each reply to the same
// ReplyDispatcher; only NFQUEUE gives verdicts.
#pragma once

#include <cstddef>
#include <string>

#include "common/counters.h"
#include "intercept/packet_decider.h"

namespace tc::intercept {

class ReplySource {
 public:
  virtual ~ReplySource() = default;
  // The descriptor to poll for readability.
  virtual int fd() const = 0;
  // Handles what is waiting, without blocking. Returns the packets handled.
  virtual size_t drain(PacketDecider& decider) = 0;
  virtual void report(CounterSink& sink) const = 0;
  // For the start-up log line.
  virtual std::string describe() const = 0;
  // Something the operator should know once running (empty: nothing).
  virtual std::string start_warning() const { return {}; }
};

}  // namespace tc::intercept

// Where routed reply headers go: the control server, or a fake in tests.
#pragma once

#include <cstdint>
#include <span>

namespace tc::intercept {

// Names one control connection for the life of the process (never reused,
// unlike file descriptors).
using ConnId = uint64_t;

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Queues `header` on connection `conn`. False when it cannot take it
  // (output buffer full); the header is then shed.
  virtual bool deliver(ConnId conn, std::span<const uint8_t> header) = 0;
};

}  // namespace tc::intercept

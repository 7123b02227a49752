// Counters of the control channel.
#pragma once

#include <array>
#include <cstdint>

#include "common/counters.h"

namespace tc::intercept {

enum class CloseReason : uint8_t {
  kPeerClosed,
  kReadError,
  kWriteError,
  kBadMagic,
  kBadVersion,
  kFrameTooLong,
  kBadPayload,
  kNoHello,         // a frame other than Hello came first
  kDuplicateHello,
  kShutdown,
  kHelloTimeout,    // the handshake did not complete in time
  kAuthFailed,      // wrong proof, or an auth frame out of turn
  kCount
};
const char* to_string(CloseReason r);

// Why a connection was closed right after accept, before reading from it.
enum class RefuseReason : uint8_t {
  kNotAllowed,      // the peer address is not on --allow
  kTooManyPending,  // too many connections still in the handshake
  kTooMany,         // the connection cap is reached
  kCount
};
const char* to_string(RefuseReason r);

struct ControlCounters {
  uint64_t accepted = 0;
  uint64_t accept_errors = 0;
  std::array<uint64_t, static_cast<size_t>(CloseReason::kCount)> closed{};
  std::array<uint64_t, static_cast<size_t>(RefuseReason::kCount)> refused{};
  uint64_t hellos = 0;
  uint64_t authenticated = 0;      // handshakes that proved the shared secret
  uint64_t frames_unknown = 0;     // a type this version does not know: skipped
  uint64_t frames_unexpected = 0;  // a known type that only intercept sends: skipped

  void report(CounterSink& sink) const;
};

}  // namespace tc::intercept

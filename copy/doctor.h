// tcpcopy --check: is this online host ready to replicate? Privileges,
// every intercept answering the control channel's hello, a route and a
// large enough MTU toward every target, and the capture interfaces'
// receive offloads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/doctor.h"
#include "common/ip_address.h"
#include "copy/options.h"

namespace tc {

struct InterceptProbe {
  // kChallenged: intercept answered the hello with a challenge (it has a
  // shared secret; the probe does not go on with it).
  enum class Outcome : uint8_t { kOk, kChallenged, kRefused, kTimeout, kUnreachable, kNotIntercept, kOtherVersion, kClosed, kError };
  Outcome outcome = Outcome::kError;
  std::string detail;  // the system's words, for kUnreachable and kError
  uint8_t version = 0; // kOtherVersion: the control protocol version intercept speaks
  Duration elapsed{};
};

// Connects to an intercept and does the hello exchange of the control
// channel (common/wire.h), within `timeout` for the connect and again for
// the answer. Sends nothing else; closes at once.
InterceptProbe probe_intercept(const Endpoint& intercept, Duration timeout);

using InterceptProber = std::function<InterceptProbe(const Endpoint&)>;

doctor::Report check_copy(const CopyOptions& options, doctor::Host& host, const InterceptProber& probe);

}  // namespace tc

// One exchange of a replicated session, as both servers answered it: the
// online server (seen on the online host) and the target (seen through the
// intercept). An exchange is a request, or a pipelined batch of requests,
// followed by the server's answer. The session engine fills one record per
// exchange of copy 0 when comparison is on; the judge, the logs, the
// statistics and the report read it. Fixed-size: no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/session_key.h"

namespace tc::compare {

// How the answers of a transfer are read (--compare-protocol).
enum class Protocol : uint8_t {
  kBytes,  // any TCP protocol: sizes and the first bytes
  kHttp,   // HTTP/1.x
  kRedis,  // Redis RESP
};

inline constexpr size_t kAnswerPrefix = 64;    // first bytes of an answer kept per side
inline constexpr size_t kRequestPrefix = 120;  // first bytes of a request kept

// The first bytes of a stream, as far as they were seen.
template <size_t N>
struct Prefix {
  std::array<uint8_t, N> bytes{};
  uint8_t len = 0;  // 0..N
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), len}; }
};

// One side's answer to one exchange.
struct Answer {
  bool seen = false;            // at least one answer byte arrived
  uint64_t bytes = 0;           // payload bytes of the answer
  double ms = -1;               // request's last byte to answer's first byte; < 0: unknown
  bool reset = false;           // the server reset the connection during this exchange
  Prefix<kAnswerPrefix> prefix; // the answer's first bytes
};

struct ExchangeRecord {
  int64_t unix_us = 0;          // wall-clock time of the request's first byte online
  SessionKey origin;            // the client connection as captured online
  uint32_t index = 0;           // 0 for the session's first exchange
  Protocol protocol = Protocol::kBytes;
  Prefix<kRequestPrefix> request;
  Answer online;
  Answer target;
};

}  // namespace tc::compare

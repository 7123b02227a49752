// Reading and judging an exchange: what each answer says (a protocol-aware
// status), what the request was (a label to group by), and the verdict
// under the user's tolerances. Pure functions of the record: any bytes in,
// never a crash, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "copy/compare/exchange.h"

namespace tc::compare {

// Verdicts, most severe first: an exchange gets the first that applies.
#define TC_COMPARE_VERDICTS(X)                                                     \
  X(kTargetSilent, "target_silent", "online answered, the target sent nothing")   \
  X(kTargetReset, "target_reset", "the target reset the connection")              \
  X(kStatusDiffers, "status_differs", "the answers' statuses differ")             \
  X(kSizeDiffers, "size_differs", "the answers' sizes differ beyond tolerance")   \
  X(kSlower, "slower", "the target answered slower beyond tolerance")             \
  X(kMatch, "match", "the target answered like production")

enum class Verdict : uint8_t {
#define TC_VERDICT_ENUM(id, name, help) id,
  TC_COMPARE_VERDICTS(TC_VERDICT_ENUM)
#undef TC_VERDICT_ENUM
  kCount
};

inline constexpr std::string_view to_string(Verdict v) {
  switch (v) {
#define TC_VERDICT_NAME(id, name, help) \
  case Verdict::id: return name;
    TC_COMPARE_VERDICTS(TC_VERDICT_NAME)
#undef TC_VERDICT_NAME
    case Verdict::kCount: break;
  }
  return "unknown";
}

inline constexpr std::string_view help(Verdict v) {
  switch (v) {
#define TC_VERDICT_HELP(id, name, help) \
  case Verdict::id: return help;
    TC_COMPARE_VERDICTS(TC_VERDICT_HELP)
#undef TC_VERDICT_HELP
    case Verdict::kCount: break;
  }
  return "";
}

inline constexpr std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::kBytes: return "bytes";
    case Protocol::kHttp: return "http";
    case Protocol::kRedis: return "redis";
  }
  return "bytes";
}

// A short printable text; empty means none (JSON null).
template <size_t N>
struct ShortText {
  std::array<char, N> text{};
  uint8_t len = 0;
  std::string_view view() const { return {text.data(), len}; }
  bool present() const { return len != 0; }
};

// An answer's status: "200" for HTTP, "+OK", ":", "$", "*", "-ERR" (the
// error's first word) for RESP, "bytes" for other protocols. Empty when
// there was no answer. Answers the parser does not recognise are read as
// generic bytes.
using Status = ShortText<24>;
// What the request was, to group differences by: "GET /path" (HTTP method
// and path, no query), "GET" (the Redis command, upper case), or the first
// printable bytes of anything else.
using RequestLabel = ShortText<64>;

// Which protocol a transfer speaks, from its first request bytes: an HTTP
// method followed by a space, or a RESP array ('*'); anything else is kBytes.
Protocol detect_protocol(std::span<const uint8_t> request_prefix);

Status answer_status(Protocol protocol, std::span<const uint8_t> answer_prefix);
RequestLabel request_label(Protocol protocol, std::span<const uint8_t> request_prefix);

struct Tolerances {
  // Sizes differ when |target - online| exceeds both of these.
  double size_ratio = 0.10;       // --compare-size-tolerance (a share of online's size)
  uint64_t size_bytes = 64;       //   and at least this many bytes
  // Slower when target_ms exceeds online_ms by both of these.
  double slower_ratio = 2.0;      // --compare-slower (target/online)
  double slower_ms = 50;          //   and at least this many milliseconds
};

struct Judgement {
  Verdict verdict = Verdict::kMatch;
  Status online_status;
  Status target_status;
  RequestLabel label;
};

Judgement judge(const ExchangeRecord& record, const Tolerances& tolerances);

}  // namespace tc::compare

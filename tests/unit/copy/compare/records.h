// Exchange records and judgements built by hand for the statistics and
// report tests (the judge is not called).
#pragma once

#include <algorithm>
#include <string_view>

#include "copy/compare/exchange.h"
#include "copy/compare/judge.h"

namespace tc::compare::testing {

template <size_t N>
ShortText<N> short_text(std::string_view s) {
  ShortText<N> t;
  t.len = static_cast<uint8_t>(std::min(s.size(), N));
  std::copy_n(s.data(), t.len, t.text.data());
  return t;
}

template <size_t N>
Prefix<N> prefix(std::string_view s) {
  Prefix<N> p;
  p.len = static_cast<uint8_t>(std::min(s.size(), N));
  std::copy_n(s.data(), p.len, reinterpret_cast<char*>(p.bytes.data()));
  return p;
}

// One exchange: `ms` < 0 for an unknown time; an answer of 0 bytes was not seen.
inline ExchangeRecord exchange(std::string_view request, uint64_t online_bytes, double online_ms,
                               uint64_t target_bytes, double target_ms) {
  ExchangeRecord r;
  r.protocol = Protocol::kHttp;
  r.request = prefix<kRequestPrefix>(request);
  r.online.seen = online_bytes > 0;
  r.online.bytes = online_bytes;
  r.online.ms = online_ms;
  r.target.seen = target_bytes > 0;
  r.target.bytes = target_bytes;
  r.target.ms = target_ms;
  return r;
}

inline Judgement judgement(Verdict verdict, std::string_view online_status, std::string_view target_status,
                           std::string_view label) {
  Judgement j;
  j.verdict = verdict;
  j.online_status = short_text<24>(online_status);
  j.target_status = short_text<24>(target_status);
  j.label = short_text<64>(label);
  return j;
}

}  // namespace tc::compare::testing

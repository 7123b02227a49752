// Builds exchange records from text for the compare tests.
#pragma once

#include <cstring>
#include <span>
#include <string_view>

#include "copy/compare/exchange.h"

namespace tc::compare::test {

inline std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <size_t N>
void fill(Prefix<N>& p, std::string_view s) {
  p.len = static_cast<uint8_t>(s.size() < N ? s.size() : N);
  std::memcpy(p.bytes.data(), s.data(), p.len);
}

inline Answer answer(std::string_view prefix, uint64_t size, double ms) {
  Answer a;
  a.seen = true;
  a.bytes = size;
  a.ms = ms;
  fill(a.prefix, prefix);
  return a;
}

inline ExchangeRecord record(Protocol p, std::string_view request, const Answer& online, const Answer& target) {
  ExchangeRecord r;
  r.protocol = p;
  fill(r.request, request);
  r.online = online;
  r.target = target;
  return r;
}

}  // namespace tc::compare::test

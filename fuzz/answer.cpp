// Answer comparison: the request and both sides' answer prefixes taken
// from the input, read and judged under each protocol, and logged as a
// JSON line. Statuses and labels stay short and printable, the verdict
// follows its first rules, and the line is one line of printable ASCII.
#include <cmath>
#include <limits>
#include <string>

#include "copy/compare/exchange_json.h"
#include "copy/compare/judge.h"
#include "fuzz/fuzz_target.h"

namespace {

using namespace tc;
using namespace tc::compare;

template <size_t N>
void check_text(const ShortText<N>& t) {
  TC_FUZZ_CHECK(t.len <= N);
  for (char c : t.view()) TC_FUZZ_CHECK(c >= 0x20 && c < 0x7f);
}

template <size_t N>
void fill(Prefix<N>& p, tc::fuzz::FuzzInput& in) {
  const auto b = in.bytes(in.u8() % (N + 1));
  p.len = static_cast<uint8_t>(b.size());
  std::copy(b.begin(), b.end(), p.bytes.begin());
}

double milliseconds(uint16_t v) {
  switch (v & 3) {
    case 0: return -1;  // unknown
    case 1: return std::numeric_limits<double>::quiet_NaN();
    default: return (v >> 2) / 8.0;
  }
}

void fill(Answer& a, tc::fuzz::FuzzInput& in) {
  const uint8_t flags = in.u8();
  a.seen = flags & 1;
  a.reset = flags & 2;
  a.bytes = (flags & 4) ? std::numeric_limits<uint64_t>::max() - in.u16() : in.u32();
  a.ms = milliseconds(in.u16());
  fill(a.prefix, in);
}

void check_statuses_and_labels(std::span<const uint8_t> b) {
  for (Protocol p : {Protocol::kHttp, Protocol::kRedis, Protocol::kBytes}) {
    const Status s = answer_status(p, b);
    check_text(s);
    TC_FUZZ_CHECK(s.present() == !b.empty());
    check_text(request_label(p, b));
  }
  const Protocol p = detect_protocol(b);
  TC_FUZZ_CHECK(p == Protocol::kHttp || p == Protocol::kRedis || p == Protocol::kBytes);
}

}  // namespace

TC_FUZZ_TARGET(answer) {
  tc::fuzz::FuzzInput in(data, size);
  ExchangeRecord r;
  r.unix_us = static_cast<int64_t>(uint64_t{in.u32()} << 32 | in.u32());
  std::array<uint8_t, 16> addr{};
  const auto a = in.bytes(16);
  std::copy(a.begin(), a.end(), addr.begin());
  r.origin.client = IpAddress::from_bytes16(addr);
  r.origin.client_port = in.u16();
  r.index = in.u32();
  fill(r.request, in);
  fill(r.online, in);
  fill(r.target, in);
  Tolerances tol;
  tol.size_ratio = in.u8() / 16.0;
  tol.size_bytes = in.u16();
  tol.slower_ratio = in.u8() / 16.0;
  tol.slower_ms = in.u16() / 4.0;

  check_statuses_and_labels(std::span<const uint8_t>(r.request.bytes.data(), r.request.len));
  // The rest of the input, of any length, as one answer and one request.
  check_statuses_and_labels(in.bytes(in.remaining()));

  std::string out;
  for (Protocol p : {detect_protocol(std::span<const uint8_t>(r.request.bytes.data(), r.request.len)),
                     Protocol::kHttp, Protocol::kRedis, Protocol::kBytes}) {
    r.protocol = p;
    const Judgement j = judge(r, tol);
    TC_FUZZ_CHECK(j.verdict < Verdict::kCount);
    check_text(j.online_status);
    check_text(j.target_status);
    check_text(j.label);
    if (!r.online.seen && !r.target.seen) TC_FUZZ_CHECK(j.verdict == Verdict::kMatch);
    if (r.online.seen && !r.target.seen) TC_FUZZ_CHECK(j.verdict == Verdict::kTargetSilent);

    out.clear();
    append_json_line(out, r, j);
    TC_FUZZ_CHECK(out.size() >= 3 && out.front() == '{' && out.compare(out.size() - 2, 2, "}\n") == 0);
    for (size_t i = 0; i + 1 < out.size(); ++i) TC_FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f);
    TC_FUZZ_CHECK(out.find(to_string(j.verdict)) != std::string::npos);
  }
  return 0;
}

#include "copy/compare/judge.h"

#include <cstring>

#include "copy/compare/resp_request.h"

namespace tc::compare {

namespace {

using Bytes = std::span<const uint8_t>;

constexpr std::string_view kHttpMethods[] = {"GET",     "POST",  "PUT",   "DELETE",  "HEAD",
                                             "OPTIONS", "PATCH", "TRACE", "CONNECT"};

bool is_printable(uint8_t c) { return c >= 0x20 && c < 0x7f; }
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

bool starts_with(Bytes b, size_t at, std::string_view s) {
  return at <= b.size() && b.size() - at >= s.size() && std::memcmp(b.data() + at, s.data(), s.size()) == 0;
}

template <size_t N>
void put(ShortText<N>& t, char c) {
  if (t.len < N) t.text[t.len++] = c;
}

template <size_t N>
void put(ShortText<N>& t, std::string_view s) {
  for (char c : s) put(t, c);
}

Status text_status(std::string_view s) {
  Status st;
  put(st, s);
  return st;
}

// ---- HTTP -----------------------------------------------------------------

// Reads "HTTP/1.x NNN" at `at`: the code's three digits, followed by a
// space, a line end or the prefix's end. `end` is set past the code.
bool http_status_line(Bytes b, size_t at, std::array<char, 3>& code, size_t& end) {
  if (!starts_with(b, at, "HTTP/1.")) return false;
  size_t p = at + 7;
  if (p + 5 > b.size() || !is_digit(b[p]) || b[p + 1] != ' ') return false;
  p += 2;
  for (size_t i = 0; i < 3; ++i) {
    if (!is_digit(b[p + i])) return false;
    code[i] = static_cast<char>(b[p + i]);
  }
  p += 3;
  if (p < b.size() && b[p] != ' ' && b[p] != '\r' && b[p] != '\n') return false;
  end = p;
  return true;
}

// Where the header block that continues at `from` ends (past its blank
// line), or 0 when it does not end within the prefix.
size_t header_block_end(Bytes b, size_t from) {
  for (size_t i = from; i < b.size(); ++i) {
    if (b[i] != '\n') continue;
    if (i + 1 < b.size() && b[i + 1] == '\n') return i + 2;
    if (i + 2 < b.size() && b[i + 1] == '\r' && b[i + 2] == '\n') return i + 3;
  }
  return 0;
}

bool is_interim(const std::array<char, 3>& code) {
  // 1xx answers precede the final one, except 101 (the protocol switches).
  return code[0] == '1' && !(code[1] == '0' && code[2] == '1');
}

Status http_status(Bytes b) {
  std::array<char, 3> code{};
  size_t end = 0;
  if (!http_status_line(b, 0, code, end)) return text_status("bytes");
  // Interim answers: the final status, when the prefix reaches it.
  while (is_interim(code)) {
    const size_t next = header_block_end(b, end);
    std::array<char, 3> final_code{};
    size_t final_end = 0;
    if (next == 0 || !http_status_line(b, next, final_code, final_end)) break;
    code = final_code;
    end = final_end;
  }
  return text_status(std::string_view(code.data(), code.size()));
}

// ---- Redis ----------------------------------------------------------------

// The type character followed by the first word after it (at most 16
// printable characters up to a space or the line's end).
Status resp_word_status(Bytes b) {
  Status st;
  put(st, static_cast<char>(b[0]));
  for (size_t i = 1; i < b.size() && i <= 16; ++i) {
    const uint8_t c = b[i];
    if (!is_printable(c) || c == ' ') break;
    put(st, static_cast<char>(c));
  }
  return st;
}

// After a length type ('$' or '*'): "-1" is nil, a digit a value; a cut
// right after the type character still names the type.
Status resp_length_status(Bytes b) {
  const char type = static_cast<char>(b[0]);
  if (b.size() == 1 || is_digit(b[1])) return text_status(std::string_view(&type, 1));
  if (b[1] == '-' && (b.size() == 2 || (b[2] == '1' && (b.size() == 3 || b[3] == '\r')))) {
    Status st;
    put(st, type);
    put(st, "-1");
    return st;
  }
  return text_status("bytes");
}

Status resp_status(Bytes b) {
  switch (b[0]) {
    case '+':
    case '-':
      return resp_word_status(b);
    case ':':
      if (b.size() == 1 || is_digit(b[1]) || b[1] == '-' || b[1] == '+') return text_status(":");
      return text_status("bytes");
    case '$':
    case '*':
      return resp_length_status(b);
    case '_':
      return text_status("_");
    // The other RESP3 types, by their type character.
    case '%':  // map
    case '~':  // set
    case '#':  // boolean
    case ',':  // double
    case '(':  // big number
    case '!':  // blob error
    case '=':  // verbatim string
    case '>':  // push
    {
      const char type = static_cast<char>(b[0]);
      return text_status(std::string_view(&type, 1));
    }
    default:
      return text_status("bytes");
  }
}

// ---- Request labels -------------------------------------------------------

// The first bytes, non-printable ones as '.'.
RequestLabel bytes_label(Bytes b) {
  RequestLabel l;
  for (size_t i = 0; i < b.size() && i < 32; ++i) put(l, is_printable(b[i]) ? static_cast<char>(b[i]) : '.');
  return l;
}

// A method token (1..16 upper-case letters, '-' or '_') and a space; the
// target follows up to its query, fragment, a space or the line's end.
RequestLabel http_label(Bytes b) {
  size_t m = 0;
  while (m < b.size() && m < 16 && ((b[m] >= 'A' && b[m] <= 'Z') || b[m] == '-' || b[m] == '_')) ++m;
  if (m == 0 || m >= b.size() || b[m] != ' ') return bytes_label(b);
  RequestLabel l;
  for (size_t i = 0; i <= m; ++i) put(l, static_cast<char>(b[i]));
  for (size_t i = m + 1; i < b.size(); ++i) {
    const uint8_t c = b[i];
    if (c == '?' || c == '#' || c <= ' ') break;
    put(l, c < 0x7f ? static_cast<char>(c) : '.');
  }
  return l;
}

RequestLabel redis_label(Bytes b) {
  RequestLabel l;
  bool first = true;
  for_each_resp_argument(b, [&](Bytes name) {
    if (!first) return;
    first = false;
    for (uint8_t c : name) {
      if (c >= 'a' && c <= 'z') c = static_cast<uint8_t>(c - 'a' + 'A');
      put(l, is_printable(c) ? static_cast<char>(c) : '.');
    }
  });
  return l.present() ? l : bytes_label(b);
}

bool bytes_differ(const Answer& online, const Answer& target) {
  const size_t o = online.prefix.len, t = target.prefix.len;
  if ((o == 0) != (t == 0)) return true;
  size_t n = o < t ? o : t;
  if (n > 16) n = 16;
  return std::memcmp(online.prefix.bytes.data(), target.prefix.bytes.data(), n) != 0;
}

bool sizes_differ(const Answer& online, const Answer& target, const Tolerances& tol) {
  const uint64_t diff = target.bytes > online.bytes ? target.bytes - online.bytes : online.bytes - target.bytes;
  return diff > tol.size_bytes &&
         static_cast<double>(diff) > tol.size_ratio * static_cast<double>(online.bytes);
}

bool slower(const Answer& online, const Answer& target, const Tolerances& tol) {
  if (!(online.ms >= 0) || !(target.ms >= 0)) return false;  // unknown (or NaN)
  return target.ms > online.ms * tol.slower_ratio && target.ms - online.ms > tol.slower_ms;
}

Bytes span_of(const Prefix<kAnswerPrefix>& p) {
  return {p.bytes.data(), p.len <= kAnswerPrefix ? p.len : kAnswerPrefix};
}

Bytes span_of(const Prefix<kRequestPrefix>& p) {
  return {p.bytes.data(), p.len <= kRequestPrefix ? p.len : kRequestPrefix};
}

}  // namespace

Protocol detect_protocol(std::span<const uint8_t> request_prefix) {
  const Bytes b = request_prefix;
  for (std::string_view m : kHttpMethods)
    if (starts_with(b, 0, m) && b.size() > m.size() && b[m.size()] == ' ') return Protocol::kHttp;
  if (b.size() >= 2 && b[0] == '*' && is_digit(b[1])) return Protocol::kRedis;
  return Protocol::kBytes;
}

Status answer_status(Protocol protocol, std::span<const uint8_t> answer_prefix) {
  if (answer_prefix.empty()) return {};
  switch (protocol) {
    case Protocol::kHttp:
      return http_status(answer_prefix);
    case Protocol::kRedis:
      return resp_status(answer_prefix);
    case Protocol::kBytes:
      break;
  }
  return text_status("bytes");
}

RequestLabel request_label(Protocol protocol, std::span<const uint8_t> request_prefix) {
  switch (protocol) {
    case Protocol::kHttp:
      return http_label(request_prefix);
    case Protocol::kRedis:
      return redis_label(request_prefix);
    case Protocol::kBytes:
      break;
  }
  return bytes_label(request_prefix);
}

Judgement judge(const ExchangeRecord& record, const Tolerances& tolerances) {
  const Answer& online = record.online;
  const Answer& target = record.target;
  Judgement j;
  j.online_status = answer_status(record.protocol, span_of(online.prefix));
  j.target_status = answer_status(record.protocol, span_of(target.prefix));
  j.label = request_label(record.protocol, span_of(record.request));

  if (!online.seen && !target.seen)
    j.verdict = Verdict::kMatch;
  else if (online.seen && !target.seen)
    j.verdict = Verdict::kTargetSilent;
  else if (target.reset && !online.reset)
    j.verdict = Verdict::kTargetReset;
  else if (record.protocol == Protocol::kBytes ? bytes_differ(online, target)
                                               : j.online_status.view() != j.target_status.view())
    j.verdict = Verdict::kStatusDiffers;
  else if (sizes_differ(online, target, tolerances))
    j.verdict = Verdict::kSizeDiffers;
  else if (slower(online, target, tolerances))
    j.verdict = Verdict::kSlower;
  else
    j.verdict = Verdict::kMatch;
  return j;
}

}  // namespace tc::compare

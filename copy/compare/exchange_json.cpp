#include "copy/compare/exchange_json.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <span>

#include "copy/compare/resp_request.h"

namespace tc::compare {

namespace {

using Bytes = std::span<const uint8_t>;

void append_escaped(std::string& out, Bytes b) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t c : b) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        }
    }
  }
}

void append_escaped(std::string& out, std::string_view s) {
  append_escaped(out, Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

void append_key(std::string& out, std::string_view key) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

// Days since 1970-01-01 to a proleptic Gregorian date.
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;                                  // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                   // [0, 11]
  d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

void append_time(std::string& out, int64_t unix_us) {
  int64_t secs = unix_us / 1000000;
  int64_t us = unix_us % 1000000;
  if (us < 0) {
    us += 1000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "\"%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ\"", y, m, d,
                              static_cast<unsigned>(sod / 3600), static_cast<unsigned>(sod / 60 % 60),
                              static_cast<unsigned>(sod % 60), static_cast<unsigned>(us / 1000));
  out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

void append_status(std::string& out, const Status& s) {
  if (s.present())
    append_string(out, s.view());
  else
    out += "null";
}

void append_ms(std::string& out, double ms) {
  if (!(ms >= 0) || !std::isfinite(ms)) {
    out += "null";
    return;
  }
  char buf[400];  // "%.3f" of the largest double is 313 characters
  const int n = std::snprintf(buf, sizeof buf, "%.3f", ms);
  out.append(buf, n > 0 && static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : 0);
}

// The request as a line of text: HTTP's request line, Redis's command with
// its arguments separated by spaces, or the first bytes of anything else.
void append_request(std::string& out, Protocol protocol, Bytes b) {
  out += '"';
  if (protocol == Protocol::kHttp) {
    size_t n = 0;
    while (n < b.size() && b[n] != '\r' && b[n] != '\n') ++n;
    append_escaped(out, b.first(n));
  } else if (protocol == Protocol::kRedis &&
             for_each_resp_argument(b, [](Bytes) {}) > 0) {
    bool first = true;
    for_each_resp_argument(b, [&](Bytes arg) {
      if (!first) out += ' ';
      first = false;
      append_escaped(out, arg);
    });
  } else {
    append_escaped(out, b);
  }
  out += '"';
}

}  // namespace

void append_json_line(std::string& out, const ExchangeRecord& r, const Judgement& j) {
  out += '{';
  append_key(out, "time");
  append_time(out, r.unix_us);
  append_key(out, "client");
  append_string(out, Endpoint{r.origin.client, r.origin.client_port}.to_string());
  append_key(out, "index");
  out += std::to_string(r.index);
  append_key(out, "protocol");
  append_string(out, to_string(r.protocol));
  append_key(out, "label");
  append_string(out, j.label.view());
  append_key(out, "request");
  append_request(out, r.protocol,
                 Bytes(r.request.bytes.data(), r.request.len <= kRequestPrefix ? r.request.len : kRequestPrefix));
  append_key(out, "verdict");
  append_string(out, to_string(j.verdict));
  append_key(out, "online_status");
  append_status(out, j.online_status);
  append_key(out, "target_status");
  append_status(out, j.target_status);
  append_key(out, "online_bytes");
  out += std::to_string(r.online.bytes);
  append_key(out, "target_bytes");
  out += std::to_string(r.target.bytes);
  append_key(out, "online_ms");
  append_ms(out, r.online.ms);
  append_key(out, "target_ms");
  append_ms(out, r.target.ms);
  out += "}\n";
}

}  // namespace tc::compare

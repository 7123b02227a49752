#include "copy/compare/exchange_json.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "compare_test_util.h"

namespace tc::compare {
namespace {

using test::answer;
using test::record;

// A strict JSON checker, enough for one line of the exchange log: an object
// of string keys and values that are strings, numbers, or null. Strings
// may hold only printable ASCII and the escapes JSON defines.
class JsonLineChecker {
 public:
  explicit JsonLineChecker(std::string_view s) : s_(s) {}

  bool valid() {
    if (s_.empty() || s_.back() != '\n') return false;
    s_.remove_suffix(1);
    if (!take('{')) return false;
    if (take('}')) return pos_ == s_.size();
    do {
      if (!string() || !take(':') || !value()) return false;
    } while (take(','));
    return take('}') && pos_ == s_.size();
  }

 private:
  bool take(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  bool string() {
    if (!take('"')) return false;
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20 || c >= 0x7f) return false;
      if (c != '\\') continue;
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i)
          if (pos_ >= s_.size() || !hex(s_[pos_++])) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    const size_t start = pos_;
    take('-');
    if (take('0')) {
    } else if (pos_ < s_.size() && s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    } else {
      return false;
    }
    if (take('.')) {
      const size_t frac = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == frac) return false;
    }
    return pos_ > start;
  }
  bool value() {
    if (pos_ < s_.size() && s_[pos_] == '"') return string();
    if (s_.substr(pos_, 4) == "null") {
      pos_ += 4;
      return true;
    }
    return number();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool valid_json_line(std::string_view s) { return JsonLineChecker(s).valid(); }

ExchangeRecord http_record() {
  ExchangeRecord r = record(Protocol::kHttp, "GET /api/items?id=7 HTTP/1.1\r\nHost: a\r\n\r\n",
                            answer("HTTP/1.1 200 OK\r\nContent-Length: 1800\r\n\r\n", 1834, 3.2141),
                            answer("HTTP/1.1 500 Internal Server Error\r\n", 212, 41.0066));
  r.unix_us = 1796475845123456;  // 2026-12-05T13:04:05.123456Z
  r.origin.client = *IpAddress::parse("10.0.0.7");
  r.origin.client_port = 51234;
  r.index = 3;
  return r;
}

std::string line_of(const ExchangeRecord& r) {
  std::string out;
  append_json_line(out, r, judge(r, {}));
  return out;
}

// The value text of `key` in a line (a string's quotes included).
std::string field(const std::string& line, std::string_view key) {
  const std::string k = "\"" + std::string(key) + "\":";
  const size_t at = line.find(k);
  if (at == std::string::npos) return "<missing>";
  size_t end = at + k.size();
  if (line[end] == '"') {
    ++end;
    while (line[end] != '"') end += line[end] == '\\' ? 2 : 1;
    ++end;
  } else {
    while (line[end] != ',' && line[end] != '}') ++end;
  }
  return line.substr(at + k.size(), end - at - k.size());
}

TEST(ExchangeJson, HttpLineExactly) {
  EXPECT_EQ(line_of(http_record()),
            "{\"time\":\"2026-12-05T13:04:05.123Z\",\"client\":\"10.0.0.7:51234\",\"index\":3,"
            "\"protocol\":\"http\",\"label\":\"GET /api/items\",\"request\":\"GET /api/items?id=7 HTTP/1.1\","
            "\"verdict\":\"status_differs\",\"online_status\":\"200\",\"target_status\":\"500\","
            "\"online_bytes\":1834,\"target_bytes\":212,\"online_ms\":3.214,\"target_ms\":41.007}\n");
}

TEST(ExchangeJson, AppendsOneLinePerCall) {
  std::string out;
  const ExchangeRecord r = http_record();
  append_json_line(out, r, judge(r, {}));
  append_json_line(out, r, judge(r, {}));
  const size_t first = out.find('\n');
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(out.substr(0, first + 1), out.substr(first + 1));
  EXPECT_TRUE(valid_json_line(out.substr(0, first + 1)));
}

TEST(ExchangeJson, NullStatusesAndTimes) {
  ExchangeRecord r = http_record();
  r.target = Answer{};
  r.online.ms = -1;
  const std::string line = line_of(r);
  EXPECT_TRUE(valid_json_line(line)) << line;
  EXPECT_EQ(field(line, "verdict"), "\"target_silent\"");
  EXPECT_EQ(field(line, "target_status"), "null");
  EXPECT_EQ(field(line, "online_ms"), "null");
  EXPECT_EQ(field(line, "target_ms"), "null");
  EXPECT_EQ(field(line, "target_bytes"), "0");
}

TEST(ExchangeJson, NonFiniteTimesAreNull) {
  ExchangeRecord r = http_record();
  r.online.ms = std::numeric_limits<double>::quiet_NaN();
  r.target.ms = std::numeric_limits<double>::infinity();
  const std::string line = line_of(r);
  EXPECT_TRUE(valid_json_line(line)) << line;
  EXPECT_EQ(field(line, "online_ms"), "null");
  EXPECT_EQ(field(line, "target_ms"), "null");
  r.online.ms = 0;
  r.target.ms = 1e300;
  const std::string big = line_of(r);
  EXPECT_TRUE(valid_json_line(big)) << big;
  EXPECT_EQ(field(big, "online_ms"), "0.000");
}

TEST(ExchangeJson, Ipv6Client) {
  ExchangeRecord r = http_record();
  r.origin.client = *IpAddress::parse("::1");
  r.origin.client_port = 5678;
  EXPECT_EQ(field(line_of(r), "client"), "\"[::1]:5678\"");
  r.origin.client = *IpAddress::parse("2001:db8::7");
  EXPECT_EQ(field(line_of(r), "client"), "\"[2001:db8::7]:5678\"");
}

TEST(ExchangeJson, Times) {
  ExchangeRecord r = http_record();
  r.unix_us = 0;
  EXPECT_EQ(field(line_of(r), "time"), "\"1970-01-01T00:00:00.000Z\"");
  r.unix_us = 951782400999999;  // a leap day, the milliseconds truncated
  EXPECT_EQ(field(line_of(r), "time"), "\"2000-02-29T00:00:00.999Z\"");
  r.unix_us = -1;
  EXPECT_EQ(field(line_of(r), "time"), "\"1969-12-31T23:59:59.999Z\"");
  for (int64_t us : {INT64_MIN, INT64_MAX}) {
    r.unix_us = us;
    EXPECT_TRUE(valid_json_line(line_of(r))) << us;
  }
}

TEST(ExchangeJson, RequestEscaping) {
  ExchangeRecord r = http_record();
  r.protocol = Protocol::kBytes;
  test::fill(r.request, std::string_view("a\"b\\c\td\x01\x7f\x80\xff/", 12));
  const std::string line = line_of(r);
  EXPECT_TRUE(valid_json_line(line)) << line;
  EXPECT_EQ(field(line, "request"), "\"a\\\"b\\\\c\\td\\u0001\\u007f\\u0080\\u00ff/\"");
  EXPECT_EQ(field(line, "label"), "\"a\\\"b\\\\c.d..../\"");
  EXPECT_EQ(field(line, "protocol"), "\"bytes\"");
}

TEST(ExchangeJson, HttpRequestIsTheWholeFirstLine) {
  ExchangeRecord r = http_record();
  test::fill(r.request, "POST /a?b=\"c\" HTTP/1.0\nHost: x\n\n");
  const std::string line = line_of(r);
  EXPECT_TRUE(valid_json_line(line)) << line;
  EXPECT_EQ(field(line, "request"), "\"POST /a?b=\\\"c\\\" HTTP/1.0\"");
  EXPECT_EQ(field(line, "label"), "\"POST /a\"");
}

TEST(ExchangeJson, RedisRequestIsTheCommandLine) {
  ExchangeRecord r = record(Protocol::kRedis, "*3\r\n$3\r\nset\r\n$3\r\nk\"1\r\n$4\r\nv\r\nx\r\n",
                            answer("+OK\r\n", 5, 0.25), answer("-ERR no\r\n", 9, 0.5));
  const std::string line = line_of(r);
  EXPECT_TRUE(valid_json_line(line)) << line;
  EXPECT_EQ(field(line, "request"), "\"set k\\\"1 v\\r\\nx\"");
  EXPECT_EQ(field(line, "label"), "\"SET\"");
  EXPECT_EQ(field(line, "protocol"), "\"redis\"");
  EXPECT_EQ(field(line, "online_status"), "\"+OK\"");
  EXPECT_EQ(field(line, "target_status"), "\"-ERR\"");
  EXPECT_EQ(field(line, "online_ms"), "0.250");
}

TEST(ExchangeJson, RedisRequestThatIsNoArrayIsItsBytes) {
  ExchangeRecord r = record(Protocol::kRedis, "PING\r\n", answer("+PONG\r\n", 7, 1), answer("+PONG\r\n", 7, 1));
  EXPECT_EQ(field(line_of(r), "request"), "\"PING\\r\\n\"");
}

TEST(ExchangeJson, EveryByteValueGivesValidJson) {
  for (int c = 0; c < 256; ++c) {
    ExchangeRecord r = http_record();
    for (Protocol p : {Protocol::kHttp, Protocol::kRedis, Protocol::kBytes}) {
      r.protocol = p;
      const char byte = static_cast<char>(c);
      const std::string text = std::string("GET /") + byte + " " + byte + "\r\n";
      test::fill(r.request, text);
      test::fill(r.online.prefix, std::string("+") + byte + "\r\n");
      const std::string line = line_of(r);
      EXPECT_TRUE(valid_json_line(line)) << c << ": " << line;
    }
  }
}

TEST(JsonLineChecker, RejectsInvalidLines) {
  EXPECT_TRUE(valid_json_line("{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":0.5}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":1}"));
  EXPECT_FALSE(valid_json_line("{\"a\":01}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":\"\x01\"}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":\"\xc3\xa9\"}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":\"\\x41\"}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":1,}\n"));
  EXPECT_FALSE(valid_json_line("{\"a\":nan}\n"));
}

}  // namespace
}  // namespace tc::compare

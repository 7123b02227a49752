#include "copy/compare/judge.h"

#include <gtest/gtest.h>

#include <string>

#include "compare_test_util.h"

namespace tc::compare {
namespace {

using test::answer;
using test::bytes;
using test::record;

std::string http_status(std::string_view a) { return std::string(answer_status(Protocol::kHttp, bytes(a)).view()); }
std::string redis_status(std::string_view a) { return std::string(answer_status(Protocol::kRedis, bytes(a)).view()); }
std::string label(Protocol p, std::string_view r) { return std::string(request_label(p, bytes(r)).view()); }

constexpr std::string_view kGet = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

// ---- detect_protocol --------------------------------------------------------

TEST(DetectProtocol, HttpMethodsFollowedByASpace) {
  for (std::string_view m : {"GET /", "POST /x", "PUT /", "DELETE /", "HEAD /", "OPTIONS *", "PATCH /", "TRACE /",
                             "CONNECT host:443"})
    EXPECT_EQ(detect_protocol(bytes(m)), Protocol::kHttp) << m;
  EXPECT_EQ(detect_protocol(bytes("GET")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes("GETX /")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes("get /")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes("PROPFIND /")), Protocol::kBytes);
}

TEST(DetectProtocol, RespArrays) {
  EXPECT_EQ(detect_protocol(bytes("*1\r\n$4\r\nPING\r\n")), Protocol::kRedis);
  EXPECT_EQ(detect_protocol(bytes("*")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes("*x")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes("PING\r\n")), Protocol::kBytes);
}

TEST(DetectProtocol, AnythingElseIsBytes) {
  EXPECT_EQ(detect_protocol(bytes("")), Protocol::kBytes);
  EXPECT_EQ(detect_protocol(bytes(std::string_view("\x16\x03\x01\x02\x00", 5))), Protocol::kBytes);
}

// ---- answer_status: HTTP ----------------------------------------------------

TEST(HttpStatus, StatusLines) {
  EXPECT_EQ(http_status(kOk), "200");
  EXPECT_EQ(http_status("HTTP/1.1 404 Not Found\r\n\r\n"), "404");
  EXPECT_EQ(http_status("HTTP/1.0 503 Service Unavailable\r\n"), "503");
  EXPECT_EQ(http_status("HTTP/1.1 204\r\n\r\n"), "204");  // no reason phrase
  EXPECT_EQ(http_status("HTTP/1.1 200"), "200");          // the prefix ends after the code
}

TEST(HttpStatus, ChunkedAnswersGiveTheirStatusOnly) {
  EXPECT_EQ(http_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nabcdefghij"), "200");
  EXPECT_EQ(http_status("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "500");
}

TEST(HttpStatus, ContinueThenTheFinalStatus) {
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"), "201");
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\n\nHTTP/1.1 413 Too Large\n"), "413");
  // The final status beyond the prefix, or cut: the interim one.
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\r\n\r\n"), "100");
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\r\n"), "100");
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2"), "100");
  // Several interim answers.
  EXPECT_EQ(http_status("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\n"),
            "200");
  // 101 switches protocols: it is the final answer.
  EXPECT_EQ(http_status("HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"), "101");
}

TEST(HttpStatus, UnrecognisedAnswersAreBytes) {
  EXPECT_EQ(http_status("HTTP/1.1 20"), "bytes");  // cut mid status line
  EXPECT_EQ(http_status("HTTP/1."), "bytes");
  EXPECT_EQ(http_status("HTTP/1.1 2000 OK\r\n"), "bytes");
  EXPECT_EQ(http_status("HTTP/1.1 2x0 OK\r\n"), "bytes");
  EXPECT_EQ(http_status("HTTP/2 200\r\n"), "bytes");
  EXPECT_EQ(http_status(std::string_view("\x00\x00\x12\x04\x00\x00\x00\x00\x00", 9)), "bytes");  // HTTP/2 frame
  EXPECT_EQ(http_status("\xff\xfe\x80garbage"), "bytes");
  EXPECT_EQ(http_status("<html>"), "bytes");
}

TEST(HttpStatus, NoAnswerIsEmpty) {
  EXPECT_FALSE(answer_status(Protocol::kHttp, {}).present());
  EXPECT_FALSE(answer_status(Protocol::kRedis, {}).present());
  EXPECT_FALSE(answer_status(Protocol::kBytes, {}).present());
}

// ---- answer_status: Redis ---------------------------------------------------

TEST(RedisStatus, SimpleStrings) {
  EXPECT_EQ(redis_status("+OK\r\n"), "+OK");
  EXPECT_EQ(redis_status("+PONG\r\n"), "+PONG");
  EXPECT_EQ(redis_status("+QUEUED more words\r\n"), "+QUEUED");
  EXPECT_EQ(redis_status("+\r\n"), "+");
  EXPECT_EQ(redis_status("+ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"), "+ABCDEFGHIJKLMNOP");  // 16 characters
}

TEST(RedisStatus, ErrorsByTheirFirstWord) {
  EXPECT_EQ(redis_status("-ERR unknown command 'FOO'\r\n"), "-ERR");
  EXPECT_EQ(redis_status("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), "-WRONGTYPE");
  EXPECT_EQ(redis_status("-MOVED 3999 127.0.0.1:6381\r\n"), "-MOVED");
  EXPECT_EQ(redis_status("-NOAUTH"), "-NOAUTH");
}

TEST(RedisStatus, OtherTypes) {
  EXPECT_EQ(redis_status(":1000\r\n"), ":");
  EXPECT_EQ(redis_status(":-1\r\n"), ":");
  EXPECT_EQ(redis_status("$5\r\nhello\r\n"), "$");
  EXPECT_EQ(redis_status("$0\r\n\r\n"), "$");
  EXPECT_EQ(redis_status("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), "*");
  EXPECT_EQ(redis_status("*0\r\n"), "*");
  EXPECT_EQ(redis_status("_\r\n"), "_");
  EXPECT_EQ(redis_status("%1\r\n+a\r\n:1\r\n"), "%");
  EXPECT_EQ(redis_status("#t\r\n"), "#");
}

TEST(RedisStatus, Nil) {
  EXPECT_EQ(redis_status("$-1\r\n"), "$-1");
  EXPECT_EQ(redis_status("*-1\r\n"), "*-1");
  EXPECT_EQ(redis_status("$-1"), "$-1");
}

TEST(RedisStatus, UnrecognisedAnswersAreBytes) {
  EXPECT_EQ(redis_status("HTTP/1.1 200 OK\r\n"), "bytes");
  EXPECT_EQ(redis_status("$abc\r\n"), "bytes");
  EXPECT_EQ(redis_status("$-2\r\n"), "bytes");
  EXPECT_EQ(redis_status(":x\r\n"), "bytes");
  EXPECT_EQ(redis_status(std::string_view("\x00\x01", 2)), "bytes");
}

TEST(BytesStatus, AnyAnswerIsBytes) {
  EXPECT_EQ(std::string(answer_status(Protocol::kBytes, bytes("HTTP/1.1 200 OK\r\n")).view()), "bytes");
  EXPECT_EQ(std::string(answer_status(Protocol::kBytes, bytes("\x01")).view()), "bytes");
}

// ---- request_label ----------------------------------------------------------

TEST(RequestLabel, HttpMethodAndPathWithoutQuery) {
  EXPECT_EQ(label(Protocol::kHttp, kGet), "GET /a");
  EXPECT_EQ(label(Protocol::kHttp, "GET /search?q=x&y=2 HTTP/1.1\r\n"), "GET /search");
  EXPECT_EQ(label(Protocol::kHttp, "POST /form#frag HTTP/1.1\r\n"), "POST /form");
  EXPECT_EQ(label(Protocol::kHttp, "OPTIONS * HTTP/1.1\r\n"), "OPTIONS *");
  EXPECT_EQ(label(Protocol::kHttp, "GET /cut"), "GET /cut");
  EXPECT_EQ(label(Protocol::kHttp, "PROPFIND /dav HTTP/1.1\r\n"), "PROPFIND /dav");
}

TEST(RequestLabel, LongPathsAreTruncated) {
  const std::string path(200, 'p');
  const std::string l = label(Protocol::kHttp, "GET /" + path + " HTTP/1.1\r\n");
  EXPECT_EQ(l.size(), RequestLabel{}.text.size());
  EXPECT_EQ(l, ("GET /" + path).substr(0, l.size()));
}

TEST(RequestLabel, NonPrintablesInPaths) {
  EXPECT_EQ(label(Protocol::kHttp, "GET /caf\xc3\xa9 HTTP/1.1\r\n"), "GET /caf..");
  EXPECT_EQ(label(Protocol::kHttp, std::string_view("GET /a\x01z HTTP/1.1", 17)), "GET /a");
}

TEST(RequestLabel, HttpWithoutAMethodFallsBackToBytes) {
  EXPECT_EQ(label(Protocol::kHttp, "\r\nGET / HTTP/1.1"), "..GET / HTTP/1.1");
  EXPECT_EQ(label(Protocol::kHttp, "get / HTTP/1.1"), "get / HTTP/1.1");
}

TEST(RequestLabel, RedisCommandNameUpperCased) {
  EXPECT_EQ(label(Protocol::kRedis, "*2\r\n$3\r\nget\r\n$3\r\nkey\r\n"), "GET");
  EXPECT_EQ(label(Protocol::kRedis, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), "SET");
  EXPECT_EQ(label(Protocol::kRedis, "*1\r\n$4\r\nPiNg\r\n"), "PING");
  EXPECT_EQ(label(Protocol::kRedis, "*1\r\n$10\r\nCLI"), "CLI");  // cut by the prefix
}

TEST(RequestLabel, RedisThatIsNoArrayFallsBackToBytes) {
  EXPECT_EQ(label(Protocol::kRedis, "PING\r\n"), "PING..");
  EXPECT_EQ(label(Protocol::kRedis, "*1\r\n:4\r\n"), "*1..:4..");
  EXPECT_EQ(label(Protocol::kRedis, "*x"), "*x");
}

TEST(RequestLabel, BytesFirstPrintablesUpTo32) {
  EXPECT_EQ(label(Protocol::kBytes, std::string_view("\x00\x01hello\xff", 8)), "..hello.");
  EXPECT_EQ(label(Protocol::kBytes, std::string(50, 'x')), std::string(32, 'x'));
  EXPECT_EQ(label(Protocol::kBytes, ""), "");
}

// ---- judge --------------------------------------------------------------------

ExchangeRecord http(const Answer& online, const Answer& target) {
  return record(Protocol::kHttp, kGet, online, target);
}

TEST(Judge, MatchFillsStatusesAndLabel) {
  const Judgement j = judge(http(answer(kOk, 1000, 5), answer(kOk, 1000, 5)), {});
  EXPECT_EQ(j.verdict, Verdict::kMatch);
  EXPECT_EQ(j.online_status.view(), "200");
  EXPECT_EQ(j.target_status.view(), "200");
  EXPECT_EQ(j.label.view(), "GET /a");
}

TEST(Judge, NeitherSideAnsweredIsAMatch) {
  ExchangeRecord r = record(Protocol::kHttp, kGet, Answer{}, Answer{});
  const Judgement j = judge(r, {});
  EXPECT_EQ(j.verdict, Verdict::kMatch);
  EXPECT_FALSE(j.online_status.present());
  EXPECT_FALSE(j.target_status.present());
}

TEST(Judge, TargetSilent) {
  const Judgement j = judge(http(answer(kOk, 1000, 5), Answer{}), {});
  EXPECT_EQ(j.verdict, Verdict::kTargetSilent);
  EXPECT_FALSE(j.target_status.present());
}

TEST(Judge, TargetSilentBeatsTargetReset) {
  Answer reset;
  reset.reset = true;
  EXPECT_EQ(judge(http(answer(kOk, 1000, 5), reset), {}).verdict, Verdict::kTargetSilent);
}

TEST(Judge, TargetReset) {
  Answer t = answer(kOk, 1000, 5);
  t.reset = true;
  EXPECT_EQ(judge(http(answer(kOk, 1000, 5), t), {}).verdict, Verdict::kTargetReset);
  // Both reset: not the target's doing.
  Answer o = answer(kOk, 1000, 5);
  o.reset = true;
  EXPECT_EQ(judge(http(o, t), {}).verdict, Verdict::kMatch);
}

TEST(Judge, TargetResetBeatsStatus) {
  Answer t = answer("HTTP/1.1 500 Oops\r\n", 10, 500);
  t.reset = true;
  EXPECT_EQ(judge(http(answer(kOk, 1000, 5), t), {}).verdict, Verdict::kTargetReset);
}

TEST(Judge, StatusDiffers) {
  const Judgement j = judge(http(answer(kOk, 1000, 5), answer("HTTP/1.1 404 Not Found\r\n", 1000, 5)), {});
  EXPECT_EQ(j.verdict, Verdict::kStatusDiffers);
  EXPECT_EQ(j.target_status.view(), "404");
}

TEST(Judge, StatusBeatsSizeAndTime) {
  EXPECT_EQ(judge(http(answer(kOk, 1000, 5), answer("HTTP/1.1 500 E\r\n", 10, 900)), {}).verdict,
            Verdict::kStatusDiffers);
}

TEST(Judge, OnlyTheTargetAnsweredIsAStatusDifference) {
  EXPECT_EQ(judge(http(Answer{}, answer(kOk, 1000, 5)), {}).verdict, Verdict::kStatusDiffers);
}

TEST(Judge, RedisStatuses) {
  auto redis = [](std::string_view o, std::string_view t) {
    return judge(record(Protocol::kRedis, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", answer(o, o.size(), 1),
                        answer(t, t.size(), 1)),
                 {})
        .verdict;
  };
  EXPECT_EQ(redis("$3\r\nabc\r\n", "$3\r\nxyz\r\n"), Verdict::kMatch);
  EXPECT_EQ(redis("$3\r\nabc\r\n", "$-1\r\n"), Verdict::kStatusDiffers);
  EXPECT_EQ(redis("-ERR x\r\n", "-WRONGTYPE x\r\n"), Verdict::kStatusDiffers);
  EXPECT_EQ(redis("-ERR one\r\n", "-ERR two\r\n"), Verdict::kMatch);
}

TEST(Judge, BytesProtocolComparesTheFirstBytes) {
  auto bytes_verdict = [](std::string_view o, std::string_view t) {
    return judge(record(Protocol::kBytes, "hello", answer(o, 100, 1), answer(t, 100, 1)), {}).verdict;
  };
  EXPECT_EQ(bytes_verdict("abcdef", "abcdef"), Verdict::kMatch);
  EXPECT_EQ(bytes_verdict("abcdef", "abcxef"), Verdict::kStatusDiffers);
  // Only the first 16 bytes count, and only as far as both sides reach.
  EXPECT_EQ(bytes_verdict("0123456789abcdefXXX", "0123456789abcdefYYY"), Verdict::kMatch);
  EXPECT_EQ(bytes_verdict("0123456789abcdeX", "0123456789abcdeY"), Verdict::kStatusDiffers);
  EXPECT_EQ(bytes_verdict("abc", "abcdef"), Verdict::kMatch);
  // One side with bytes, the other without.
  ExchangeRecord r = record(Protocol::kBytes, "hello", answer("abc", 3, 1), answer("", 3, 1));
  EXPECT_EQ(judge(r, {}).verdict, Verdict::kStatusDiffers);
}

TEST(Judge, SizeToleranceEdges) {
  const Tolerances tol;  // 10% and 64 bytes
  auto sizes = [&](uint64_t o, uint64_t t) { return judge(http(answer(kOk, o, 5), answer(kOk, t, 5)), tol).verdict; };
  // Large answers: the ratio decides. 10% of 10000 is 1000.
  EXPECT_EQ(sizes(10000, 11000), Verdict::kMatch);
  EXPECT_EQ(sizes(10000, 11001), Verdict::kSizeDiffers);
  EXPECT_EQ(sizes(10000, 9000), Verdict::kMatch);
  EXPECT_EQ(sizes(10000, 8999), Verdict::kSizeDiffers);
  // Small answers: the byte floor decides.
  EXPECT_EQ(sizes(100, 164), Verdict::kMatch);
  EXPECT_EQ(sizes(100, 165), Verdict::kSizeDiffers);
  EXPECT_EQ(sizes(0, 64), Verdict::kMatch);
  EXPECT_EQ(sizes(0, 65), Verdict::kSizeDiffers);
  EXPECT_EQ(sizes(165, 100), Verdict::kSizeDiffers);
  EXPECT_EQ(sizes(UINT64_MAX, 0), Verdict::kSizeDiffers);
}

TEST(Judge, SizeBeatsSlower) {
  EXPECT_EQ(judge(http(answer(kOk, 1000, 5), answer(kOk, 5000, 500)), {}).verdict, Verdict::kSizeDiffers);
}

TEST(Judge, SlowerToleranceEdges) {
  const Tolerances tol;  // twice as long and 50 ms more
  auto times = [&](double o, double t) { return judge(http(answer(kOk, 100, o), answer(kOk, 100, t)), tol).verdict; };
  // Fast answers: the 50 ms floor decides.
  EXPECT_EQ(times(10, 60), Verdict::kMatch);
  EXPECT_EQ(times(10, 60.5), Verdict::kSlower);
  // Slow answers: the ratio decides.
  EXPECT_EQ(times(100, 200), Verdict::kMatch);
  EXPECT_EQ(times(100, 200.5), Verdict::kSlower);
  EXPECT_EQ(times(0, 50.001), Verdict::kSlower);
  // Faster is never slower.
  EXPECT_EQ(times(500, 10), Verdict::kMatch);
}

TEST(Judge, UnknownTimesAreNeverSlower) {
  EXPECT_EQ(judge(http(answer(kOk, 100, -1), answer(kOk, 100, 1000)), {}).verdict, Verdict::kMatch);
  EXPECT_EQ(judge(http(answer(kOk, 100, 1), answer(kOk, 100, -1)), {}).verdict, Verdict::kMatch);
}

TEST(Judge, CustomTolerances) {
  Tolerances tol;
  tol.size_ratio = 0;
  tol.size_bytes = 0;
  EXPECT_EQ(judge(http(answer(kOk, 100, 5), answer(kOk, 101, 5)), tol).verdict, Verdict::kSizeDiffers);
  EXPECT_EQ(judge(http(answer(kOk, 100, 5), answer(kOk, 100, 5)), tol).verdict, Verdict::kMatch);
  tol.slower_ratio = 1;
  tol.slower_ms = 0;
  EXPECT_EQ(judge(http(answer(kOk, 100, 5), answer(kOk, 100, 5.001)), tol).verdict, Verdict::kSlower);
}

TEST(Verdicts, NamesAndHelp) {
  EXPECT_EQ(to_string(Verdict::kTargetSilent), "target_silent");
  EXPECT_EQ(to_string(Verdict::kMatch), "match");
  EXPECT_EQ(to_string(Verdict::kCount), "unknown");
  for (int v = 0; v < static_cast<int>(Verdict::kCount); ++v) EXPECT_FALSE(help(static_cast<Verdict>(v)).empty());
  EXPECT_EQ(to_string(Protocol::kHttp), "http");
  EXPECT_EQ(to_string(Protocol::kRedis), "redis");
  EXPECT_EQ(to_string(Protocol::kBytes), "bytes");
}

}  // namespace
}  // namespace tc::compare

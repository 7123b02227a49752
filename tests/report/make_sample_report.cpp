// Writes the comparison report of a fixed set of exchanges to the file
// named by its argument, and prints the figures the page must show as JSON
// Lines on standard output, tallied here apart from ComparisonStats:
//
//   {"kind":"verdict","verdict":"match","count":40}
//   {"kind":"status","online":"200","target":"404","count":1}
//   {"kind":"side","side":"online","samples":57}
//   {"kind":"group","label":"GET /api/users","total":6}
//   {"kind":"ledger","id":"requests-sent","count":57}
//
// tests/report/render_check.sh renders the page in a browser and compares.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "copy/compare/compare_report.h"
#include "tests/unit/copy/compare/records.h"

namespace {

using tc::compare::Verdict;

std::string json(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", b);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + '"';
}

struct Sample {
  tc::compare::ComparisonStats stats;
  std::map<Verdict, uint64_t> verdicts;
  std::map<std::pair<std::string, std::string>, uint64_t> statuses;
  std::map<std::string, uint64_t> groups;
  uint64_t compared = 0;
  uint64_t timed[2] = {0, 0};  // answers with a known time, online and target

  // `n` exchanges of one kind; latencies spread over a decade or so,
  // deterministically.
  void add(int n, std::string_view request, std::string_view label, Verdict verdict, std::string_view online_status,
           std::string_view target_status, double online_ms, double target_ms, uint64_t target_bytes) {
    for (int i = 0; i < n; ++i) {
      const double spread = std::exp(std::sin(i * 1.7) * 1.2);
      const double on = online_ms * spread;
      const double tg = target_ms < 0 ? -1 : target_ms * spread;
      stats.add(tc::compare::testing::exchange(request, 512, on, target_bytes, tg),
                tc::compare::testing::judgement(verdict, online_status, target_status, label));
      ++compared;
      ++verdicts[verdict];
      const std::string target(target_status.empty() ? "none" : target_status);
      ++statuses[{std::string(online_status), target}];
      if (verdict != Verdict::kMatch) ++groups[std::string(label)];
      ++timed[0];
      if (tg >= 0) ++timed[1];
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_sample_report OUT.html\n");
    return 2;
  }
  Sample s;
  s.add(40, "GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n", "GET /index.html", Verdict::kMatch, "200", "200", 2, 2.5,
        512);
  s.add(6, "GET /api/users?page=2 HTTP/1.1\r\n", "GET /api/users", Verdict::kStatusDiffers, "200", "500", 8, 3, 120);
  s.add(3, "POST /login HTTP/1.1\r\n", "POST /login", Verdict::kTargetSilent, "200", "", 15, -1, 0);
  s.add(2, "GET /search?q=a HTTP/1.1\r\n", "GET /search", Verdict::kSizeDiffers, "200", "200", 30, 32, 9000);
  s.add(4, "GET /report HTTP/1.1\r\n", "GET /report", Verdict::kSlower, "200", "200", 40, 900, 512);
  s.add(1, "PUT /upload HTTP/1.1\r\n", "PUT /upload", Verdict::kTargetReset, "201", "", 5, 1, 0);
  s.add(1, "GET /<b>&\"x\" HTTP/1.1\r\n", "GET /<b>&\"x\"", Verdict::kStatusDiffers, "200", "404", 1, 1, 90);

  tc::compare::ReportLedger ledger;
  ledger.packets_captured = 731;
  ledger.requests_captured = 60;
  ledger.sessions_replicated = 12;
  ledger.requests_sent = 57;
  ledger.lost = {{"no_intercept", 2}, {"<timeout>", 1}};

  std::string error;
  if (!tc::compare::write_report_file(argv[1], tc::compare::render_report(s.stats, ledger), error)) {
    std::fprintf(stderr, "make_sample_report: %s\n", error.c_str());
    return 1;
  }

  for (size_t v = 0; v < tc::compare::kVerdicts; ++v) {
    const auto verdict = static_cast<Verdict>(v);
    const auto it = s.verdicts.find(verdict);
    std::printf("{\"kind\":\"verdict\",\"verdict\":%s,\"count\":%llu}\n", json(to_string(verdict)).c_str(),
                static_cast<unsigned long long>(it == s.verdicts.end() ? 0 : it->second));
  }
  std::printf("{\"kind\":\"verdict\",\"verdict\":\"compared\",\"count\":%llu}\n",
              static_cast<unsigned long long>(s.compared));
  for (const auto& [pair, count] : s.statuses)
    std::printf("{\"kind\":\"status\",\"online\":%s,\"target\":%s,\"count\":%llu}\n", json(pair.first).c_str(),
                json(pair.second).c_str(), static_cast<unsigned long long>(count));
  std::printf("{\"kind\":\"side\",\"side\":\"online\",\"samples\":%llu}\n", static_cast<unsigned long long>(s.timed[0]));
  std::printf("{\"kind\":\"side\",\"side\":\"target\",\"samples\":%llu}\n", static_cast<unsigned long long>(s.timed[1]));
  for (const auto& [label, total] : s.groups)
    std::printf("{\"kind\":\"group\",\"label\":%s,\"total\":%llu}\n", json(label).c_str(),
                static_cast<unsigned long long>(total));
  const std::pair<const char*, uint64_t> rows[] = {{"packets-captured", ledger.packets_captured},
                                                   {"requests-captured", ledger.requests_captured},
                                                   {"sessions-replicated", ledger.sessions_replicated},
                                                   {"requests-sent", ledger.requests_sent},
                                                   {"lost", 3}};
  for (const auto& [id, count] : rows)
    std::printf("{\"kind\":\"ledger\",\"id\":\"%s\",\"count\":%llu}\n", id, static_cast<unsigned long long>(count));
  return 0;
}

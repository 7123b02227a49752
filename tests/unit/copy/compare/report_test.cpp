#include "copy/compare/compare_report.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/copy/compare/records.h"

namespace tc::compare {
namespace {

using testing::exchange;
using testing::judgement;

bool has(const std::string& html, const std::string& part) { return html.find(part) != std::string::npos; }

ComparisonStats sample_stats() {
  ComparisonStats stats;
  for (int i = 0; i < 3; ++i)
    stats.add(exchange("GET /a HTTP/1.1\r\n", 100, 1 + i, 100, 2 + i), judgement(Verdict::kMatch, "200", "200", "GET /a"));
  stats.add(exchange("GET /b HTTP/1.1\r\n", 100, 1, 30, 2), judgement(Verdict::kStatusDiffers, "200", "404", "GET /b"));
  stats.add(exchange("GET /b HTTP/1.1\r\n", 100, 1, 30, 2), judgement(Verdict::kStatusDiffers, "200", "404", "GET /b"));
  stats.add(exchange("POST /c HTTP/1.1\r\n", 100, 1, 0, -1), judgement(Verdict::kTargetSilent, "200", "", "POST /c"));
  return stats;
}

TEST(CompareReport, ShowsTheTotalsByVerdict) {
  const std::string html = render_report(sample_stats(), {});
  EXPECT_TRUE(has(html, "<td class=\"n\" id=\"verdict-match\" data-count=\"3\">3</td>"));
  EXPECT_TRUE(has(html, "id=\"verdict-status_differs\" data-count=\"2\">2<"));
  EXPECT_TRUE(has(html, "id=\"verdict-target_silent\" data-count=\"1\">1<"));
  EXPECT_TRUE(has(html, "id=\"verdict-slower\" data-count=\"0\">0<"));
  EXPECT_TRUE(has(html, "id=\"verdict-compared\" data-count=\"6\">6<"));
}

TEST(CompareReport, ShowsTheStatusMatrix) {
  const std::string html = render_report(sample_stats(), {});
  EXPECT_TRUE(has(html, "data-online=\"200\" data-target=\"200\" data-count=\"3\">3</td>"));
  EXPECT_TRUE(has(html, "data-online=\"200\" data-target=\"404\" data-count=\"2\">2</td>"));
  EXPECT_TRUE(has(html, "data-online=\"200\" data-target=\"none\" data-count=\"1\">1</td>"));
  EXPECT_TRUE(has(html, "<span id=\"status-other\" data-count=\"0\">0</span>"));
}

TEST(CompareReport, PlotsBothSidesAndTheirPercentiles) {
  const std::string html = render_report(sample_stats(), {});
  EXPECT_TRUE(has(html, "<svg id=\"latency-plot\""));
  EXPECT_TRUE(has(html, "<path id=\"series-online\" class=\"series online\" data-side=\"online\" data-samples=\"6\""));
  EXPECT_TRUE(has(html, "<path id=\"series-target\" class=\"series target\" data-side=\"target\" data-samples=\"5\""));
  // online: 1, 1, 1, 1, 2, 3 ms
  EXPECT_TRUE(has(html, "id=\"latency-online-p50\" data-ms=\"1\">1.00 ms<"));
  EXPECT_TRUE(has(html, "id=\"latency-online-p99\" data-ms=\"3\">3.00 ms<"));
  EXPECT_TRUE(has(html, "id=\"latency-target-count\" data-count=\"5\""));
}

TEST(CompareReport, ShowsTheDifferencesByLabelWithAnExample) {
  const std::string html = render_report(sample_stats(), {});
  EXPECT_TRUE(has(html, "<tr class=\"group\" data-label=\"GET /b\">"));
  EXPECT_TRUE(has(html, "<tr class=\"group\" data-label=\"POST /c\">"));
  EXPECT_FALSE(has(html, "data-label=\"GET /a\""));  // matched only
  EXPECT_TRUE(has(html, "<span data-verdict=\"status_differs\" data-count=\"2\">status_differs&nbsp;2</span>"));
  EXPECT_TRUE(has(html, "<code>GET /b HTTP/1.1\\r\\n</code>"));
  // The larger group comes first.
  EXPECT_LT(html.find("data-label=\"GET /b\""), html.find("data-label=\"POST /c\""));
  EXPECT_FALSE(has(html, "id=\"group-other\""));
}

TEST(CompareReport, ShowsTheLedger) {
  ReportLedger ledger;
  ledger.packets_captured = 1234;
  ledger.requests_captured = 56;
  ledger.sessions_replicated = 7;
  ledger.requests_sent = 50;
  ledger.lost = {{"no_intercept", 4}, {"timeout", 2}};
  ledger.generated_unix_s = 1764892800;  // 2025-12-05 00:00:00 UTC
  const std::string html = render_report(sample_stats(), ledger);
  EXPECT_TRUE(has(html, "id=\"ledger-packets-captured\" data-count=\"1234\""));
  EXPECT_TRUE(has(html, "id=\"ledger-requests-captured\" data-count=\"56\""));
  EXPECT_TRUE(has(html, "id=\"ledger-sessions-replicated\" data-count=\"7\""));
  EXPECT_TRUE(has(html, "id=\"ledger-requests-sent\" data-count=\"50\""));
  EXPECT_TRUE(has(html, "id=\"ledger-exchanges-compared\" data-count=\"6\""));
  EXPECT_TRUE(has(html, "id=\"ledger-lost\" data-count=\"6\""));
  EXPECT_TRUE(has(html, "<tr class=\"lost\" data-reason=\"no_intercept\">"));
  EXPECT_TRUE(has(html, "2025-12-05 00:00:00 UTC"));
}

TEST(CompareReport, EscapesTextFromTraffic) {
  ComparisonStats stats;
  stats.add(exchange("GET /<script>alert('x')</script>&\"\x01\xff", 10, 1, 10, 1),
            judgement(Verdict::kStatusDiffers, "<b>", "\"q\"", "GET /<script>"));
  ReportLedger ledger;
  ledger.lost = {{"<i>reason</i>", 1}};
  const std::string html = render_report(stats, ledger);
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_FALSE(has(html, "<b>"));
  EXPECT_FALSE(has(html, "<i>reason"));
  EXPECT_TRUE(has(html, "GET /&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\\x01\\xff"));
  EXPECT_TRUE(has(html, "data-label=\"GET /&lt;script&gt;\""));
  EXPECT_TRUE(has(html, "data-online=\"&lt;b&gt;\" data-target=\"&quot;q&quot;\""));
  EXPECT_TRUE(has(html, "data-reason=\"&lt;i&gt;reason&lt;/i&gt;\""));
}

TEST(CompareReport, IsSelfContained) {
  const std::string html = render_report(sample_stats(), {});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(has(html, "</html>"));
  for (const char* external : {"http:", "https:", "//", "src=", "<link", "@import", "url("})
    EXPECT_FALSE(has(html, external)) << external;
}

TEST(CompareReport, RendersWithNothingCompared) {
  const std::string html = render_report(ComparisonStats(), {});
  EXPECT_TRUE(has(html, "id=\"verdict-compared\" data-count=\"0\""));
  EXPECT_TRUE(has(html, "data-samples=\"0\""));
  EXPECT_TRUE(has(html, "id=\"latency-online-p50\" data-ms=\"-1\">-<"));
  EXPECT_TRUE(has(html, "No difference."));
}

TEST(CompareReport, ShowsTheOtherLabels) {
  ComparisonStats stats;
  for (size_t i = 0; i <= ComparisonStats::kMaxGroups; ++i) {
    const std::string label = "GET /" + std::to_string(i);
    stats.add(exchange(label, 1, 1, 2, 1), judgement(Verdict::kSizeDiffers, "200", "200", label));
  }
  const std::string html = render_report(stats, {});
  EXPECT_TRUE(has(html, "<tr class=\"group\" id=\"group-other\">"));
}

class ReportFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/report_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ReportFile, ReplacesThePageWhole) {
  const std::string path = (dir_ / "report.html").string();
  std::string error;
  ASSERT_TRUE(write_report_file(path, "old", error)) << error;
  ASSERT_TRUE(write_report_file(path, "<html>new</html>", error)) << error;
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "<html>new</html>");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);  // no temp file left
}

TEST_F(ReportFile, FailsWithAReason) {
  std::string error;
  EXPECT_FALSE(write_report_file((dir_ / "missing" / "report.html").string(), "x", error));
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
  // A directory where the page should be: rename fails, the temp file goes.
  std::filesystem::create_directory(dir_ / "page.html");
  std::filesystem::create_directory(dir_ / "page.html" / "full");
  error.clear();
  EXPECT_FALSE(write_report_file((dir_ / "page.html").string(), "x", error));
  EXPECT_FALSE(error.empty());
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace tc::compare

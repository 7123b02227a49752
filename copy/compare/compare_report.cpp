#include "copy/compare/compare_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>

#include "common/unique_fd.h"

namespace tc::compare {
namespace {

// Text for an HTML element or a double-quoted attribute.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Bytes from traffic as printable ASCII, then escaped for HTML.
std::string shown(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += c;
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", b);
      out += hex;
    }
  }
  return escape(out);
}

std::string status_text(const Status& s) { return s.present() ? shown(s.view()) : std::string("none"); }

std::string num(uint64_t v) { return std::to_string(v); }

// A number for an attribute: enough digits to read back.
std::string real(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string ms_text(double ms) {
  if (ms < 0) return "-";
  char buf[32];
  const int decimals = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  std::snprintf(buf, sizeof buf, "%.*f ms", decimals, ms);
  return buf;
}

std::string share(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

constexpr std::string_view kStyle = R"(
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
#differences{overflow-x:auto}
th{background:#f3f3f3}
td.same{background:#eaf6ea}td.cell:not(.same):not(.empty){background:#fbeaea}
tr.bad td:first-child{color:#a00}
code{font-size:.9em;word-break:break-all}
td.label,td.verdicts{white-space:nowrap}td.example{min-width:22em}
details{font-size:.85em;color:#555}
svg text{font-size:11px;fill:#444}
.online{stroke:#1f77b4}.target{stroke:#d62728}
.key-online{color:#1f77b4}.key-target{color:#d62728}
.muted{color:#777}
)";

// Both sides' latency CDFs on one log-scale axis.
class LatencyPlot {
 public:
  explicit LatencyPlot(const ComparisonStats& stats) : stats_(stats) {
    double lo = 0.1, hi = 10000;  // 0.1 ms .. 10 s at least
    for (Side side : {Side::kOnline, Side::kTarget}) {
      const LatencyQuantiles& q = stats.quantiles(side);
      if (q.count() == 0) continue;
      lo = std::min(lo, std::max(q.min_ms(), 0.001));
      hi = std::max(hi, q.max_ms());
    }
    lo_decade_ = static_cast<int>(std::floor(std::log10(lo)));
    hi_decade_ = static_cast<int>(std::ceil(std::log10(hi)));
  }

  void write(std::string& out) const {
    out += "<svg id=\"latency-plot\" width=\"" + real(kWidth) +
           "\" height=\"" + real(kHeight) + "\" viewBox=\"0 0 " + real(kWidth) + ' ' + real(kHeight) +
           "\" role=\"img\" aria-label=\"latency distributions, online and target\">\n";
    // Frame, grid and ticks.
    out += "<rect x=\"" + real(kLeft) + "\" y=\"" + real(kTop) + "\" width=\"" + real(plot_w()) + "\" height=\"" +
           real(plot_h()) + "\" fill=\"none\" stroke=\"#999\"/>\n";
    for (int d = lo_decade_; d <= hi_decade_; ++d) {
      const double x = x_of(std::pow(10.0, d));
      out += "<line x1=\"" + real(x) + "\" y1=\"" + real(kTop) + "\" x2=\"" + real(x) + "\" y2=\"" +
             real(kTop + plot_h()) + "\" stroke=\"#e5e5e5\"/>";
      out += "<text x=\"" + real(x) + "\" y=\"" + real(kTop + plot_h() + 16) + "\" text-anchor=\"middle\">" +
             decade_label(d) + "</text>\n";
    }
    for (int pct = 0; pct <= 100; pct += 25) {
      const double y = y_of(pct / 100.0);
      out += "<line x1=\"" + real(kLeft) + "\" y1=\"" + real(y) + "\" x2=\"" + real(kLeft + plot_w()) + "\" y2=\"" +
             real(y) + "\" stroke=\"#e5e5e5\"/>";
      out += "<text x=\"" + real(kLeft - 6) + "\" y=\"" + real(y + 4) + "\" text-anchor=\"end\">" +
             std::to_string(pct) + "%</text>\n";
    }
    out += "<text x=\"" + real(kLeft + plot_w() / 2) + "\" y=\"" + real(kHeight - 4) +
           "\" text-anchor=\"middle\">latency (log scale); share of answers at or below</text>\n";
    // The series.
    double key_y = kTop + 14;
    for (Side side : {Side::kOnline, Side::kTarget}) {
      const std::string name(to_string(side));
      const LatencyQuantiles& q = stats_.quantiles(side);
      out += "<path id=\"series-" + name + "\" class=\"series " + name + "\" data-side=\"" + name +
             "\" data-samples=\"" + num(q.count()) + "\" fill=\"none\" stroke-width=\"2\" d=\"" + path(q) + "\"/>\n";
      out += "<line class=\"" + name + "\" x1=\"" + real(kLeft + 10) + "\" y1=\"" + real(key_y - 4) + "\" x2=\"" +
             real(kLeft + 30) + "\" y2=\"" + real(key_y - 4) + "\" stroke-width=\"2\"/>";
      out += "<text x=\"" + real(kLeft + 36) + "\" y=\"" + real(key_y) + "\">" + name + " (" + num(q.count()) +
             (q.count() == 0 ? " answers timed: no data" : " answers timed") + ")</text>\n";
      key_y += 16;
    }
    out += "</svg>\n";
  }

 private:
  static constexpr double kWidth = 760, kHeight = 320;
  static constexpr double kLeft = 52, kRight = 16, kTop = 12, kBottom = 44;
  static double plot_w() { return kWidth - kLeft - kRight; }
  static double plot_h() { return kHeight - kTop - kBottom; }

  double x_of(double ms) const {
    const double l = std::log10(std::max(ms, 1e-9));
    const double t = (l - lo_decade_) / static_cast<double>(hi_decade_ - lo_decade_);
    return kLeft + std::clamp(t, 0.0, 1.0) * plot_w();
  }
  static double y_of(double fraction) { return kTop + (1 - fraction) * plot_h(); }

  static std::string decade_label(int d) {
    const double ms = std::pow(10.0, d);
    if (d >= 3) return real(ms / 1000) + " s";
    return real(ms) + " ms";
  }

  // The cumulative share at each bucket's upper bound, from the smallest
  // value seen to the largest; empty without data.
  std::string path(const LatencyQuantiles& q) const {
    if (q.count() == 0) return "";
    const double total = static_cast<double>(q.count());
    std::string d = "M" + real(x_of(q.min_ms())) + ' ' + real(y_of(0));
    uint64_t seen = 0;
    for (size_t i = 0; i < LatencyQuantiles::kBuckets; ++i) {
      if (q.in_bucket(i) == 0) continue;
      seen += q.in_bucket(i);
      const double upper = std::min(LatencyQuantiles::upper_bound_ms(i), q.max_ms());
      d += " L" + real(x_of(upper)) + ' ' + real(y_of(static_cast<double>(seen) / total));
      if (seen == q.count()) break;
    }
    return d;
  }

  const ComparisonStats& stats_;
  int lo_decade_ = -1;
  int hi_decade_ = 4;
};

void write_verdicts(std::string& out, const ComparisonStats& stats) {
  out += "<section id=\"verdicts\"><h2>Verdicts</h2>\n<table>\n"
         "<tr><th>verdict</th><th class=\"n\">exchanges</th><th class=\"n\">share</th><th>meaning</th></tr>\n";
  for (size_t v = 0; v < kVerdicts; ++v) {
    const auto verdict = static_cast<Verdict>(v);
    const std::string name(to_string(verdict));
    const uint64_t count = stats.count(verdict);
    out += "<tr data-verdict=\"" + name + "\"" + (verdict != Verdict::kMatch && count > 0 ? " class=\"bad\"" : "") +
           "><td>" + name + "</td><td class=\"n\" id=\"verdict-" + name + "\" data-count=\"" + num(count) + "\">" +
           num(count) + "</td><td class=\"n\">" + share(count, stats.compared()) + "</td><td>" +
           escape(help(verdict)) + "</td></tr>\n";
  }
  out += "<tr><th>compared</th><th class=\"n\" id=\"verdict-compared\" data-count=\"" + num(stats.compared()) +
         "\">" + num(stats.compared()) + "</th><th></th><th></th></tr>\n</table></section>\n";
}

void write_latency(std::string& out, const ComparisonStats& stats) {
  out += "<section id=\"latency\"><h2>Latency</h2>\n"
         "<p class=\"muted\">From the request's last byte to the answer's first byte. Percentiles are read from "
         "logarithmic buckets 2% wide: within 1% of the exact value.</p>\n";
  LatencyPlot(stats).write(out);
  out += "<table id=\"percentiles\">\n<tr><th>side</th><th class=\"n\">answers timed</th><th class=\"n\">p50</th>"
         "<th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">max</th></tr>\n";
  constexpr std::pair<double, std::string_view> kPoints[] = {{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}};
  for (Side side : {Side::kOnline, Side::kTarget}) {
    const std::string name(to_string(side));
    const LatencyQuantiles& q = stats.quantiles(side);
    out += "<tr data-side=\"" + name + "\"><td class=\"key-" + name + "\">" + name + "</td><td class=\"n\" id=\"latency-" +
           name + "-count\" data-count=\"" + num(q.count()) + "\">" + num(q.count()) + "</td>";
    for (const auto& [p, label] : kPoints) {
      const double ms = q.percentile(p);
      out += "<td class=\"n\" id=\"latency-" + name + '-' + std::string(label) + "\" data-ms=\"" + real(ms) + "\">" +
             ms_text(ms) + "</td>";
    }
    const double max = q.count() ? q.max_ms() : -1;
    out += "<td class=\"n\" id=\"latency-" + name + "-max\" data-ms=\"" + real(max) + "\">" + ms_text(max) +
           "</td></tr>\n";
  }
  out += "</table></section>\n";
}

template <size_t N>
bool same_text(const ShortText<N>& a, const ShortText<N>& b) {
  return a.view() == b.view();
}

void write_statuses(std::string& out, const ComparisonStats& stats) {
  const auto cells = stats.status_matrix();
  std::vector<Status> rows, cols;
  auto note = [](std::vector<Status>& list, const Status& s) {
    for (const Status& t : list)
      if (same_text(t, s)) return;
    list.push_back(s);
  };
  for (const StatusCell& c : cells) {
    note(rows, c.online);
    note(cols, c.target);
  }
  out += "<section id=\"statuses\"><h2>Status matrix</h2>\n";
  if (cells.empty()) {
    out += "<p class=\"muted\">No exchange compared yet.</p>\n";
  } else {
    out += "<table id=\"status-matrix\">\n<tr><th>online \\ target</th>";
    for (const Status& c : cols) out += "<th class=\"n\">" + status_text(c) + "</th>";
    out += "</tr>\n";
    for (const Status& r : rows) {
      out += "<tr><th>" + status_text(r) + "</th>";
      for (const Status& c : cols) {
        const StatusCell* found = nullptr;
        for (const StatusCell& cell : cells)
          if (same_text(cell.online, r) && same_text(cell.target, c)) found = &cell;
        if (!found) {
          out += "<td class=\"cell empty\"></td>";
          continue;
        }
        out += std::string("<td class=\"cell n") + (same_text(r, c) ? " same" : "") + "\" data-online=\"" +
               status_text(r) + "\" data-target=\"" + status_text(c) + "\" data-count=\"" + num(found->count) + "\">" +
               num(found->count) + "</td>";
      }
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
  out += "<p>Pairs beyond the first " + num(ComparisonStats::kMaxStatusPairs) +
         ": <span id=\"status-other\" data-count=\"" + num(stats.status_other()) + "\">" + num(stats.status_other()) +
         "</span></p>\n</section>\n";
}

std::string answer_cells(const Answer& a, const Status& status) {
  std::string out = "<td>" + status_text(status) + "</td><td class=\"n\">" + (a.seen ? num(a.bytes) : "-") +
                    "</td><td class=\"n\">" + ms_text(a.ms) + (a.reset ? " (reset)" : "") + "</td>";
  return out;
}

void write_group(std::string& out, const DifferenceGroup& g, bool other) {
  const ExchangeRecord& r = g.example;
  const Judgement& j = g.example_judgement;
  out += other ? std::string("<tr class=\"group\" id=\"group-other\"><td class=\"label\"><i>other labels</i></td>")
               : "<tr class=\"group\" data-label=\"" + shown(g.label.view()) + "\"><td class=\"label\"><code>" +
                     shown(g.label.view()) + "</code></td>";
  out += "<td class=\"n\" data-total=\"" + num(g.total()) + "\">" + num(g.total()) + "</td><td class=\"verdicts\">";
  for (size_t v = 0; v < kVerdicts; ++v) {
    if (g.counts[v] == 0) continue;
    const std::string name(to_string(static_cast<Verdict>(v)));
    out += "<span data-verdict=\"" + name + "\" data-count=\"" + num(g.counts[v]) + "\">" + name + "&nbsp;" +
           num(g.counts[v]) + "</span> ";
  }
  out += "</td><td>" + std::string(to_string(j.verdict)) + "</td><td class=\"example\"><code>" +
         shown(r.request.view()) + "</code><details><summary>answers' first bytes</summary>online: <code>" +
         shown(r.online.prefix.view()) + "</code><br>target: <code>" + shown(r.target.prefix.view()) +
         "</code></details></td>";
  out += answer_cells(r.online, j.online_status) + answer_cells(r.target, j.target_status) + "</tr>\n";
}

void write_differences(std::string& out, const ComparisonStats& stats) {
  out += "<section id=\"differences\"><h2>Differences by request</h2>\n";
  std::vector<const DifferenceGroup*> groups;
  for (const DifferenceGroup& g : stats.groups()) groups.push_back(&g);
  std::stable_sort(groups.begin(), groups.end(),
                   [](const DifferenceGroup* a, const DifferenceGroup* b) { return a->total() > b->total(); });
  const bool other = stats.other_group().total() > 0;
  if (groups.empty() && !other) {
    out += "<p class=\"muted\">No difference.</p>\n</section>\n";
    return;
  }
  out += "<table id=\"difference-groups\">\n<tr><th rowspan=\"2\">request</th><th rowspan=\"2\" class=\"n\">differing</th>"
         "<th rowspan=\"2\">by verdict</th><th colspan=\"2\">first difference</th><th colspan=\"3\">online</th>"
         "<th colspan=\"3\">target</th></tr>\n"
         "<tr><th>verdict</th><th>request</th><th>status</th><th class=\"n\">bytes</th><th class=\"n\">time</th>"
         "<th>status</th><th class=\"n\">bytes</th><th class=\"n\">time</th></tr>\n";
  for (const DifferenceGroup* g : groups) write_group(out, *g, false);
  if (other) write_group(out, stats.other_group(), true);
  out += "</table>\n<p class=\"muted\">At most " + num(ComparisonStats::kMaxGroups) +
         " request labels are kept; the differences of later ones are counted under other labels.</p>\n</section>\n";
}

void write_ledger(std::string& out, const ReportLedger& ledger, const ComparisonStats& stats) {
  out += "<section id=\"ledger\"><h2>Replication</h2>\n<table>\n";
  const std::pair<std::string_view, uint64_t> rows[] = {
      {"packets-captured", ledger.packets_captured},
      {"requests-captured", ledger.requests_captured},
      {"sessions-replicated", ledger.sessions_replicated},
      {"requests-sent", ledger.requests_sent},
      {"exchanges-compared", stats.compared()},
  };
  for (const auto& [id, value] : rows) {
    std::string name(id);
    std::replace(name.begin(), name.end(), '-', ' ');
    out += "<tr><th>" + name + "</th><td class=\"n\" id=\"ledger-" + std::string(id) + "\" data-count=\"" +
           num(value) + "\">" + num(value) + "</td></tr>\n";
  }
  uint64_t lost = 0;
  for (const auto& [reason, count] : ledger.lost) lost += count;
  out += "<tr><th>lost</th><td class=\"n\" id=\"ledger-lost\" data-count=\"" + num(lost) + "\">" + num(lost) +
         "</td></tr>\n";
  for (const auto& [reason, count] : ledger.lost)
    out += "<tr class=\"lost\" data-reason=\"" + escape(reason) + "\"><td>&nbsp;&nbsp;" + escape(reason) +
           "</td><td class=\"n\" data-count=\"" + num(count) + "\">" + num(count) + "</td></tr>\n";
  out += "</table></section>\n";
}

}  // namespace

std::string render_report(const ComparisonStats& stats, const ReportLedger& ledger) {
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>tcpcopy: online and target answers compared</title>\n<style>";
  out += kStyle;
  out += "</style></head>\n<body>\n<h1>tcpcopy: online and target answers compared</h1>\n";
  if (ledger.generated_unix_s != 0) {
    const auto t = static_cast<time_t>(ledger.generated_unix_s);
    tm utc{};
    gmtime_r(&t, &utc);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &utc);
    out += "<p id=\"generated\" data-unix=\"" + std::to_string(ledger.generated_unix_s) + "\">Figures as of " +
           when + "</p>\n";
  }
  write_verdicts(out, stats);
  write_latency(out, stats);
  write_statuses(out, stats);
  write_differences(out, stats);
  write_ledger(out, ledger, stats);
  out += "</body></html>\n";
  return out;
}

bool write_report_file(const std::string& path, const std::string& html, std::string& error) {
  std::string temp = path + ".tmp.XXXXXX";
  UniqueFd fd(mkstemp(temp.data()));
  if (!fd) {
    error = "cannot create a temp file beside " + path + ": " + std::strerror(errno);
    return false;
  }
  auto fail = [&](std::string_view what) {
    error = std::string(what) + ' ' + temp + ": " + std::strerror(errno);
    fd.reset();
    unlink(temp.c_str());
    return false;
  };
  if (fchmod(fd.get(), 0644) != 0) return fail("cannot set the mode of");
  size_t done = 0;
  while (done < html.size()) {
    const ssize_t n = write(fd.get(), html.data() + done, html.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd.release()) != 0) return fail("cannot close");
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    unlink(temp.c_str());
    error = "cannot rename " + temp + " to " + path + ": " + std::strerror(saved);
    return false;
  }
  return true;
}

}  // namespace tc::compare

// The comparison report: one self-contained HTML page (inline CSS and an
// SVG drawn here; no script, no external asset) with the totals by
// verdict, both sides' latency distributions on one log-scale plot and
// their percentiles, the status matrix, the differences grouped by request
// label with an example each, and the replication ledger. Every figure is
// also in a data attribute (data-count, data-ms) beside a stable id or
// class, for tests and scrapers. Text from traffic is HTML-escaped, and
// bytes that are not printable ASCII are shown as \r, \n, \t or \xNN.
// Control plane: renders on demand, allocates freely.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "copy/compare/comparison_stats.h"

namespace tc::compare {

// The replication figures the comparison sits on, from the engine's
// counters (the caller fills it).
struct ReportLedger {
  uint64_t packets_captured = 0;
  uint64_t requests_captured = 0;
  uint64_t sessions_replicated = 0;
  uint64_t requests_sent = 0;  // requests sent to the target
  // Losses by reason ("no_intercept", ...), in the order to show them.
  std::vector<std::pair<std::string, uint64_t>> lost;
  int64_t generated_unix_s = 0;  // when the figures were taken; 0: not shown
};

std::string render_report(const ComparisonStats& stats, const ReportLedger& ledger);

// Writes `html` to `path` atomically: a temp file in the same directory,
// then rename(), so a reader sees the old page or the new one, never half
// of one. The file is readable by all (0644). On failure returns false,
// sets `error` and leaves no temp file behind.
bool write_report_file(const std::string& path, const std::string& html, std::string& error);

}  // namespace tc::compare

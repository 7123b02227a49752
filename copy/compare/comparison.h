// The answer comparison as tcpcopy runs it: the exchange tracker the engine
// feeds, and what becomes of each finished exchange: judged, counted in the
// statistics, written to the JSON Lines files, and shown in the HTML
// report. The files are written from a buffer on each tick, never per
// exchange.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/counters.h"
#include "common/unique_fd.h"
#include "copy/compare/compare_options.h"
#include "copy/compare/compare_report.h"
#include "copy/compare/comparison_stats.h"
#include "copy/compare/exchange_tracker.h"

namespace tc::compare {

// The comparison's own counters; the tracker's are in exchange_tracker.h.
#define TC_COMPARISON_COUNTERS(COUNTER, GAUGE, REASONS) \
  COUNTER(write_errors, "compare_write_errors", "", "Failed writes of the comparison files (their lines are lost)")

struct ComparisonCounters {
  TC_COUNTER_FIELDS(TC_COMPARISON_COUNTERS)

  void report(CounterSink& sink) const;
};

// With --workers, every worker feeds a tracker of its own (workers_tracker)
// from its thread; their exchanges meet here under a lock, and the thread
// that owns the comparison writes the files and the report (flush,
// finish). Without workers, one thread does all, through tracker().
class Comparison final : public ExchangeSink {
 public:
  // Opens (appends to) the JSON Lines files; throws std::system_error
  // naming the file when one cannot be opened. `wall_offset`: Unix time
  // minus the monotonic clock. `own_tracker`: false when only workers'
  // trackers feed it.
  Comparison(const CompareOptions& options, Duration wall_offset, bool own_tracker = true);
  ~Comparison() override;

  ExchangeTracker& tracker() { return *tracker_; }
  // A tracker for one of `workers` workers, with its share of the
  // sessions; it may be used from that worker's thread.
  std::unique_ptr<ExchangeTracker> worker_tracker(uint16_t workers);
  void on_exchange(const ExchangeRecord& record) override;

  // Reports quiet sessions' exchanges (of the own tracker), writes the
  // files, and rewrites the report when it is due. `ledger`: the
  // replication figures for the page.
  void on_tick(TimePoint now, const ReportLedger& ledger);
  // Writes the files, and the report when it is due.
  void flush(TimePoint now, const ReportLedger& ledger);
  // At exit: every exchange in flight is reported and everything written.
  void finish(const ReportLedger& ledger);

  void report(CounterSink& sink) const;
  const ComparisonStats& stats() const { return stats_; }
  std::string summary_line() const;
  void write_prometheus(std::string& out) const;
  // The last failure to write a file (empty: none), for the log.
  std::string take_error();

 private:
  struct Output {
    std::string path;
    UniqueFd fd;
    std::string pending;
  };
  void open_output(Output& out, const std::string& path);
  void write_out(Output& out);
  void write_report(const ReportLedger& ledger);

  CompareOptions options_;
  Duration wall_offset_;
  mutable std::mutex mu_;  // workers' exchanges against the files, statistics and counters
  ComparisonStats stats_;
  std::unique_ptr<ExchangeTracker> tracker_;
  Output differ_;
  Output all_;
  TimePoint next_report_{};
  ComparisonCounters counters_;
  std::string error_;
};

}  // namespace tc::compare

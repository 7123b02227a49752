#include "copy/compare/comparison.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "copy/compare/exchange_json.h"
#include "copy/compare/judge.h"

namespace tc::compare {

namespace {

// Sessions quiet this long have their last exchange reported.
constexpr Duration kQuiet = 3s;
// The report is rewritten this often.
constexpr Duration kReportEvery = 5s;
// Lines kept before a write is forced between ticks.
constexpr size_t kMaxPending = 4u << 20;

}  // namespace

Comparison::Comparison(const CompareOptions& options, Duration wall_offset, bool own_tracker)
    : options_(options), wall_offset_(wall_offset) {
  if (own_tracker) tracker_ = worker_tracker(1);
  open_output(differ_, options.log_file);
  open_output(all_, options.all_file);
}

Comparison::~Comparison() = default;

void Comparison::open_output(Output& out, const std::string& path) {
  if (path.empty()) return;
  out.path = path;
  out.fd = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!out.fd) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  out.pending.reserve(64 * 1024);
}

std::unique_ptr<ExchangeTracker> Comparison::worker_tracker(uint16_t workers) {
  const uint32_t share = std::max<uint32_t>(1, options_.sessions / std::max<uint16_t>(1, workers));
  auto t = std::make_unique<ExchangeTracker>(share, *this, wall_offset_, kQuiet);
  t->set_protocols(options_.protocol, options_.protocol_by_port);
  return t;
}

void Comparison::on_exchange(const ExchangeRecord& record) {
  const Judgement j = judge(record, options_.tolerances);
  std::lock_guard lock(mu_);
  stats_.add(record, j);
  if (all_.fd) append_json_line(all_.pending, record, j);
  if (differ_.fd && j.verdict != Verdict::kMatch) append_json_line(differ_.pending, record, j);
  if (all_.pending.size() > kMaxPending) write_out(all_);
  if (differ_.pending.size() > kMaxPending) write_out(differ_);
}

void Comparison::write_out(Output& out) {
  size_t done = 0;
  while (done < out.pending.size()) {
    const ssize_t n = ::write(out.fd.get(), out.pending.data() + done, out.pending.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++counters_.write_errors;
      error_ = "cannot write " + out.path + ": " + std::strerror(errno) + "; lines dropped";
      break;
    }
    done += static_cast<size_t>(n);
  }
  out.pending.clear();
}

void Comparison::write_report(const ReportLedger& ledger) {
  if (options_.report_file.empty()) return;
  std::string err;
  if (!write_report_file(options_.report_file, render_report(stats_, ledger), err)) {
    ++counters_.write_errors;
    error_ = err;
  }
}

void Comparison::on_tick(TimePoint now, const ReportLedger& ledger) {
  if (tracker_) tracker_->on_tick(now);
  flush(now, ledger);
}

void Comparison::flush(TimePoint now, const ReportLedger& ledger) {
  std::lock_guard lock(mu_);
  if (!all_.pending.empty()) write_out(all_);
  if (!differ_.pending.empty()) write_out(differ_);
  if (now >= next_report_) {
    write_report(ledger);
    next_report_ = now + kReportEvery;
  }
}

void Comparison::finish(const ReportLedger& ledger) {
  if (tracker_) tracker_->close_all();
  std::lock_guard lock(mu_);
  if (all_.fd) write_out(all_);
  if (differ_.fd) write_out(differ_);
  write_report(ledger);
}

void Comparison::report(CounterSink& sink) const {
  if (tracker_) tracker_->counters().report(sink);
  std::lock_guard lock(mu_);
  counters_.report(sink);
}

std::string Comparison::summary_line() const {
  std::lock_guard lock(mu_);
  return stats_.summary_line();
}

void Comparison::write_prometheus(std::string& out) const {
  std::lock_guard lock(mu_);
  stats_.write_prometheus(out);
}

void ComparisonCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_COMPARISON_COUNTERS, sink); }

std::string Comparison::take_error() {
  std::lock_guard lock(mu_);
  return std::exchange(error_, std::string{});
}

}  // namespace tc::compare

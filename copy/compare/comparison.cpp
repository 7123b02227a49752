#include "copy/compare/comparison.h"

#include <fcntl.h>
#include <unistd.h>

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

Comparison::Comparison(const CompareOptions& options, Duration wall_offset)
    : options_(options), tracker_(options.sessions, *this, wall_offset, kQuiet) {
  tracker_.set_protocols(options.protocol, options.protocol_by_port);
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

void Comparison::on_exchange(const ExchangeRecord& record) {
  const Judgement j = judge(record, options_.tolerances);
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
  tracker_.on_tick(now);
  if (!all_.pending.empty()) write_out(all_);
  if (!differ_.pending.empty()) write_out(differ_);
  if (now >= next_report_) {
    write_report(ledger);
    next_report_ = now + kReportEvery;
  }
}

void Comparison::finish(const ReportLedger& ledger) {
  tracker_.close_all();
  if (all_.fd) write_out(all_);
  if (differ_.fd) write_out(differ_);
  write_report(ledger);
}

void Comparison::report(CounterSink& sink) const {
  tracker_.counters().report(sink);
  counters_.report(sink);
}

void ComparisonCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_COMPARISON_COUNTERS, sink); }

std::string Comparison::take_error() { return std::exchange(error_, std::string{}); }

}  // namespace tc::compare

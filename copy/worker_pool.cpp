#include "copy/worker_pool.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

namespace tc {

namespace {

void add_ledger(compare::ReportLedger& sum, const compare::ReportLedger& one) {
  sum.packets_captured += one.packets_captured;
  sum.requests_captured += one.requests_captured;
  sum.sessions_replicated += one.sessions_replicated;
  sum.requests_sent += one.requests_sent;
  sum.generated_unix_s = std::max(sum.generated_unix_s, one.generated_unix_s);
  for (const auto& [why, n] : one.lost) {
    bool found = false;
    for (auto& [have, total] : sum.lost) {
      if (have == why) {
        total += n;
        found = true;
      }
    }
    if (!found) sum.lost.emplace_back(why, n);
  }
}

void add_histogram(std::optional<Histogram>& sum, const std::optional<Histogram>& one) {
  if (!one) return;
  if (!sum) sum = one;
  else sum->merge(*one);
}

}  // namespace

WorkerPool::WorkerPool(const CopyOptions& options, Logger& log)
    : options_(options), log_(log), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!wake_) throw std::system_error(errno, std::generic_category(), "eventfd");
  if (options.compare.enabled) {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    comparison_ = std::make_unique<compare::Comparison>(
        options.compare, std::chrono::duration_cast<Duration>(wall) - monotonic_now(), false);
  }
  WorkerSetup setup;
  setup.shard.count = options.workers;
  setup.comparison = comparison_.get();
  for (uint16_t i = 0; i < options.workers; ++i) {
    setup.shard.index = i;
    workers_.push_back(std::make_unique<TcpcopyApp>(options, log, setup));
    // The first worker's ring founds the group the others join.
    if (i == 0) setup.fanout_group = workers_.front()->fanout_group();
  }
  // The wake-up only ends a wait: each loop checks the stop flag after it.
  for (auto& w : workers_) wake_watch_.push_back(w->loop().add(wake_.get(), EPOLLIN, [](uint32_t) {}));
  wake_watch_.push_back(loop_.add(wake_.get(), EPOLLIN, [](uint32_t) {}));
  if (options.metrics) {
    MetricsServer::AppendText append = [this](std::string& out) {
      const WorkerFigures t = totals();
      if (t.hold_wait)
        t.hold_wait->write_text(out, "tcpcopy_hold_wait_seconds",
                                "How long held requests waited for the target's previous answer");
      if (t.link_rtt)
        t.link_rtt->write_text(out, "tcpcopy_link_rtt_seconds",
                               "Round trip of the control channel to intercept, measured about once a second");
      if (comparison_) comparison_->write_prometheus(out);
    };
    metrics_ = std::make_unique<MetricsServer>(loop_, MetricsServerConfig{.listen = *options.metrics}, "tcpcopy",
                                               [this](CounterSink& sink) { report(sink); }, std::move(append));
    TC_LOG(log_, kInfo, "metrics at http://%s/metrics (the %u workers summed)", options.metrics->to_string().c_str(),
           options.workers + 0u);
  }
}

WorkerPool::~WorkerPool() { stop_workers(); }

void WorkerPool::run_worker(TcpcopyApp& worker, uint16_t index) {
  // "tcpcopy/1", ... in top -H and ps -L (at most 15 characters).
  const std::string name = "tcpcopy/" + std::to_string(index + 1);
  pthread_setname_np(pthread_self(), name.c_str());
  try {
    worker.run_until(stop_);
  } catch (const std::exception& e) {
    std::lock_guard lock(failure_mu_);
    if (failure_.empty()) failure_ = std::string("a worker stopped: ") + e.what();
  }
  // One worker's end is every worker's: the others would miss its share.
  stop_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void WorkerPool::stop_workers() {
  stop_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::run_until(const std::atomic<bool>& stop_flag) {
  for (uint16_t i = 0; i < workers_.size(); ++i) threads_.emplace_back([this, i] { run_worker(*workers_[i], i); });
  TimePoint next_stats = monotonic_now() + options_.stats_interval;
  while (!stop_flag && !stop_) {
    TimePoint now = monotonic_now();
    Duration timeout = 1s;
    if (options_.stats_interval.count() > 0) timeout = std::min(timeout, std::max(Duration{0}, next_stats - now));
    loop_.run_once(timeout);
    now = monotonic_now();
    if (comparison_) {
      comparison_->flush(now, totals().ledger);
      log_comparison_errors();
    }
    if (options_.stats_interval.count() > 0 && now >= next_stats) {
      TC_LOG(log_, kInfo, "counters: %s", counters_line(false).c_str());
      if (comparison_) TC_LOG(log_, kInfo, "comparison: %s", comparison_->summary_line().c_str());
      next_stats = now + options_.stats_interval;
    }
  }
  stop_workers();
  if (comparison_) {
    comparison_->finish(totals().ledger);
    log_comparison_errors();
    TC_LOG(log_, kInfo, "comparison: %s", comparison_->summary_line().c_str());
  }
}

WorkerFigures WorkerPool::totals() const {
  WorkerFigures sum;
  for (const auto& w : workers_) {
    const WorkerFigures one = w->figures();
    one.counters.report(sum.counters);
    add_histogram(sum.hold_wait, one.hold_wait);
    add_histogram(sum.link_rtt, one.link_rtt);
    add_ledger(sum.ledger, one.ledger);
  }
  return sum;
}

void WorkerPool::report(CounterSink& sink) const {
  totals().counters.report(sink);
  if (comparison_) comparison_->report(sink);
}

std::string WorkerPool::counters_line(bool include_zero) const {
  CounterText text;
  report(text);
  return text.line(include_zero);
}

void WorkerPool::log_comparison_errors() {
  if (std::string err = comparison_->take_error(); !err.empty()) TC_LOG(log_, kError, "comparison: %s", err.c_str());
}

int WorkerPool::exit_status() const {
  std::lock_guard lock(failure_mu_);
  return failure_.empty() ? 0 : 1;
}

std::string WorkerPool::ending_line() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

}  // namespace tc

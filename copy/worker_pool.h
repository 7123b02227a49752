// --workers N (N > 1): N session engines, each a TcpcopyApp on a thread of
// its own, with its own share of the connections (by client port, see
// FlowShard), its own packet ring in one fanout group, its own sender and
// its own control connections, so intercept returns each reply to the
// worker that registered its session. This thread keeps what is the
// process's: signals (through loop()), the metrics endpoint, the counters
// log line and the comparison's files and report, all summed over the
// workers.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/metrics_server.h"
#include "common/unique_fd.h"
#include "copy/compare/comparison.h"
#include "copy/options.h"
#include "copy/tcpcopy_app.h"

namespace tc {

class WorkerPool {
 public:
  // Opens every worker's sockets (in worker order: the ring's fanout group
  // numbers its members by joining order); throws as TcpcopyApp does.
  WorkerPool(const CopyOptions& options, Logger& log);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  EventLoop& loop() { return loop_; }
  // Starts the workers' threads (in the process that stays after
  // daemonize()) and runs until `stop_flag` is set or a worker fails; then
  // stops and joins them.
  void run_until(const std::atomic<bool>& stop_flag);
  // The workers' counters summed, as a log line.
  std::string counters_line(bool include_zero) const;
  // 0, or 1 when a worker failed (ending_line() says why).
  int exit_status() const;
  std::string ending_line() const;

  // The workers' figures summed.
  WorkerFigures totals() const;

 private:
  void run_worker(TcpcopyApp& worker, uint16_t index);
  void stop_workers();
  void report(CounterSink& sink) const;
  void log_comparison_errors();

  const CopyOptions& options_;
  Logger& log_;
  EventLoop loop_;
  std::unique_ptr<compare::Comparison> comparison_;  // --compare*: the workers' exchanges meet here
  std::vector<std::unique_ptr<TcpcopyApp>> workers_;
  UniqueFd wake_;  // an eventfd, readable once the workers must stop
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex failure_mu_;
  std::string failure_;
  std::unique_ptr<MetricsServer> metrics_;
  // The wake-up in every loop; declared last, so they end before the
  // eventfd closes and before the loops.
  std::vector<EventLoop::Registration> wake_watch_;
};

}  // namespace tc

// Wires intercept together: the reply source (NFQUEUE, or libpcap in
// assistant mode) feeds the reply dispatcher, which routes headers through
// the route table into the control server; one epoll loop drives the
// source, the control connections and timers; the start-up path
// (common/process/startup.h) runs it as a Daemon and adds the signals. With
// --queue-balance, queue threads take the place of the source and hand
// the headers over to this loop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/turn_pacer.h"
#include "common/clock.h"
#include "common/counters.h"
#include "common/event_loop.h"
#include "common/log.h"
#include "common/metrics_server.h"
#include "intercept/control/control_server.h"
#include "intercept/multiqueue/queue_worker.h"
#include "common/process/startup.h"
#include "intercept/options.h"
#include "intercept/reply_dispatcher.h"
#include "intercept/reply_source.h"
#include "intercept/routing/route_table.h"

namespace tc::intercept {

class InterceptApp final : public Daemon {
 public:
  // Opens the control sockets and the reply source (binds the queue, or
  // opens the capture). Throws std::exception with a message fit for the
  // operator when something cannot be set up.
  InterceptApp(const Options& options, Logger& log);

  EventLoop& loop() override { return loop_; }
  // Runs until `stop` is set (SIGTERM or SIGINT) or a queue thread fails.
  // Call it in the process that stays (after daemonize()): it starts the
  // queue threads.
  void run_until(const std::atomic<bool>& stop) override;
  // Every counter, "all zero" when none moved.
  std::string counters_line() const override;
  // 1 when a queue thread failed (the log says why), else 0.
  int exit_status() const override { return exit_status_; }
  std::string ending_line() const override { return {}; }

  void report(CounterSink& sink) const;

 private:
  void on_replies_readable();
  void on_worker_headers(QueueWorker& worker);
  std::string describe_source() const;
  void warn_if_forwarding();
  void log_start() const;

  Options options_;
  Logger& log_;
  EventLoop loop_;
  TurnPacer pacer_;
  size_t turn_handled_ = 0;  // replies (or headers from the queue threads) this turn
  RouteTable routes_;
  ControlServer control_;
  ReplyDispatcher dispatcher_;
  std::unique_ptr<ReplySource> source_;              // one queue, or assistant mode
  std::vector<std::unique_ptr<QueueWorker>> workers_;  // --queue-balance: a thread per queue
  std::unique_ptr<MetricsServer> metrics_;  // --metrics
  // The loop's watch on the source or the queue threads; ends before them.
  std::vector<EventLoop::Registration> registrations_;
  bool done_ = false;  // the run is over: stopped, or a queue thread failed
  int exit_status_ = 0;
};

}  // namespace tc::intercept

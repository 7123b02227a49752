// tcpcopy as the start-up path runs it (common/process/startup.h): one
// engine on the loop's thread, or with --workers the pool of them; its
// start line, its counters with the zeros, its exit status and last words.
#pragma once

#include <memory>
#include <string>

#include "common/log.h"
#include "common/process/startup.h"
#include "copy/options.h"
#include "copy/tcpcopy_app.h"
#include "copy/worker_pool.h"

namespace tc {

class TcpcopyDaemon final : public Daemon {
 public:
  // Opens every socket (see TcpcopyApp, WorkerPool); `options` and `log`
  // outlive it.
  TcpcopyDaemon(const CopyOptions& options, Logger& log) : options_(options), log_(log) {
    if (options.workers > 1) pool_ = std::make_unique<WorkerPool>(options, log);
    else app_ = std::make_unique<TcpcopyApp>(options, log);
  }

  EventLoop& loop() override { return pool_ ? pool_->loop() : app_->loop(); }
  void run_until(const std::atomic<bool>& stop) override {
    const std::string workers = pool_ ? ", " + std::to_string(options_.workers) + " workers" : "";
    TC_LOG(log_, kInfo, "tcpcopy %s started: %zu transfer(s), %zu intercept(s)%s%s", TCPCOPY_VERSION,
           options_.engine.transfers.transfers().size(), options_.intercepts.size(),
           options_.reply_interfaces.empty() ? "" : ", replies captured here", workers.c_str());
    if (pool_) pool_->run_until(stop);
    else app_->run_until(stop);
  }
  std::string counters_line() const override { return pool_ ? pool_->counters_line(true) : app_->counters_line(true); }
  int exit_status() const override { return pool_ ? pool_->exit_status() : app_->exit_status(); }
  std::string ending_line() const override { return pool_ ? pool_->ending_line() : app_->ending_line(); }

 private:
  const CopyOptions& options_;
  Logger& log_;
  std::unique_ptr<TcpcopyApp> app_;
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace tc

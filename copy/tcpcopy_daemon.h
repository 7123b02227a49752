// TcpcopyApp as the start-up path runs it (common/process/startup.h): its
// start line, its counters with the zeros, its exit status and last words.
#pragma once

#include <string>

#include "common/log.h"
#include "common/process/startup.h"
#include "copy/options.h"
#include "copy/tcpcopy_app.h"

namespace tc {

class TcpcopyDaemon final : public Daemon {
 public:
  // Opens every socket (see TcpcopyApp); `options` and `log` outlive it.
  TcpcopyDaemon(const CopyOptions& options, Logger& log) : options_(options), log_(log), app_(options, log) {}

  EventLoop& loop() override { return app_.loop(); }
  void run_until(const bool& stop) override {
    TC_LOG(log_, kInfo, "tcpcopy %s started: %zu transfer(s), %zu intercept(s)%s", TCPCOPY_VERSION,
           options_.engine.transfers.transfers().size(), options_.intercepts.size(),
           options_.reply_interfaces.empty() ? "" : ", replies captured here");
    app_.run_until(stop);
  }
  std::string counters_line() const override { return app_.counters_line(true); }
  int exit_status() const override { return app_.exit_status(); }
  std::string ending_line() const override { return app_.ending_line(); }

 private:
  const CopyOptions& options_;
  Logger& log_;
  TcpcopyApp app_;
};

}  // namespace tc

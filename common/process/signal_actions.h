// What both daemons do on a signal, as an event of their loop: SIGHUP
// reopens the log (rotation), SIGTERM and SIGINT ask the loop to stop.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/process/signal_watch.h"

namespace tc {

class SignalActions {
 public:
  // Watches the signals from `loop`. Create it in the process that polls
  // the loop, after daemonize() (see SignalWatch). `program` names the
  // process on `err`, where a log that cannot be reopened is reported.
  // Throws std::system_error.
  SignalActions(EventLoop& loop, Logger& log, std::string program, std::FILE* err = stderr);
  SignalActions(const SignalActions&) = delete;
  SignalActions& operator=(const SignalActions&) = delete;

  // Set once SIGTERM or SIGINT came; the loop's runner reads it.
  // Read by the loops of other threads too (tcpcopy's workers).
  const std::atomic<bool>& stop_requested() const { return stop_; }

  // What one signal does; the watch calls it for every pending signal.
  void on_signal(int sig);

 private:
  Logger& log_;
  std::string program_;
  std::FILE* err_;
  std::atomic<bool> stop_{false};
  SignalWatch watch_;
  EventLoop::Registration watching_;  // after watch_: ends before its fd closes
};

}  // namespace tc

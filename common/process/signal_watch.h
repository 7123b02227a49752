// Signals as events of the loop (signalfd), so no handler touches global
// state. What each one does (SIGTERM/SIGINT stop, SIGHUP reopens the log)
// is SignalActions' (signal_actions.h).
#pragma once

#include "common/unique_fd.h"

namespace tc {

class SignalWatch {
 public:
  // Blocks SIGTERM, SIGINT and SIGHUP so they wait for a SignalWatch
  // instead of killing the process. Call first, before any thread starts.
  static void block();
  // Watches the blocked signals. Create it in the process that polls it: a
  // signalfd polled through epoll after fork() is woken by the parent's
  // signals, not the child's. Throws std::system_error.
  SignalWatch();
  int fd() const { return fd_.get(); }
  // The next pending signal number, or 0 when none is pending.
  int next();

 private:
  UniqueFd fd_;
};

}  // namespace tc

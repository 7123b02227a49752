#include "common/process/signal_actions.h"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tc {

SignalActions::SignalActions(EventLoop& loop, Logger& log, std::string program, std::FILE* err)
    : log_(log), program_(std::move(program)), err_(err) {
  watching_ = loop.add(watch_.fd(), EPOLLIN, [this](uint32_t) {
    while (const int sig = watch_.next()) on_signal(sig);
  });
}

void SignalActions::on_signal(int sig) {
  if (sig == SIGHUP) {
    if (log_.reopen()) {
      TC_LOG(log_, kInfo, "SIGHUP: log reopened");
      return;
    }
    // The previous file stays open: the line reaches it.
    const int err = errno;
    TC_LOG(log_, kError, "SIGHUP: cannot reopen log: %s", std::strerror(err));
    std::fprintf(err_, "%s: cannot reopen log file: %s\n", program_.c_str(), std::strerror(err));
    return;
  }
  const char* name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : nullptr;
  if (name != nullptr) TC_LOG(log_, kInfo, "%s: shutting down", name);
  else TC_LOG(log_, kInfo, "signal %d: shutting down", sig);
  stop_ = true;
}

}  // namespace tc

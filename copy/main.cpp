// tcpcopy: replays live TCP sessions from this online server to a target.
#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "common/doctor.h"
#include "common/log.h"
#include "common/process/capabilities.h"
#include "common/process/daemon.h"
#include "common/process/sched_policy.h"
#include "common/process/signal_watch.h"
#include "copy/doctor.h"
#include "copy/options.h"
#include "copy/tcpcopy_app.h"

int main(int argc, char* argv[]) {
  using namespace tc;
  CopyOptions options;
  const ParseResult parsed = parse_copy_options(argc, argv, options);
  switch (parsed.action) {
    case ParseResult::Action::kHelp:
      std::fputs(copy_usage().c_str(), stdout);
      return 0;
    case ParseResult::Action::kVersion:
      std::printf("tcpcopy %s\n", TCPCOPY_VERSION);
      return 0;
    case ParseResult::Action::kError:
      std::fprintf(stderr, "tcpcopy: %s\nTry 'tcpcopy --help'.\n", parsed.error.c_str());
      return 2;
    case ParseResult::Action::kRun:
      break;
  }
  if (options.check) {
    doctor::SystemHost host;
    const doctor::Report report = check_copy(options, host, [](const Endpoint& ep) { return probe_intercept(ep, 2s); });
    std::fputs(report.text("tcpcopy").c_str(), stdout);
    return report.exit_status();
  }

  if (const std::string err = load_secret(options); !err.empty()) {
    std::fprintf(stderr, "tcpcopy: %s\nTry 'tcpcopy --help'.\n", err.c_str());
    return 2;
  }
  make_paths_absolute(options);

  Logger log;
  log.set_level(options.log_level);
  if (!log.open(options.log_file)) {
    std::perror(("tcpcopy: cannot open log file " + options.log_file).c_str());
    return 1;
  }
  try {
    SignalWatch::block();
    TcpcopyApp app(options, log);  // sockets first: start-up errors reach the shell
    TC_LOG(log, kInfo, "%s", apply_sched_policy(options.sched_policy).c_str());
    if (options.daemon) daemonize();
    std::optional<PidFile> pid;
    if (!options.pid_file.empty()) pid.emplace(options.pid_file);
    // Every socket is open: the raw sockets keep working without CAP_NET_RAW.
    TC_LOG(log, kInfo, "%s", drop_capabilities({}).c_str());
    // Created after fork: a signalfd only wakes epoll for its creator's signals.
    SignalWatch signals;

    bool stop = false;
    const EventLoop::Registration watching_signals = app.loop().add(signals.fd(), EPOLLIN, [&](uint32_t) {
      while (int sig = signals.next()) {
        if (sig == SIGHUP) {
          if (!log.reopen()) std::perror("tcpcopy: cannot reopen log file");
          TC_LOG(log, kInfo, "log reopened");
        } else {
          TC_LOG(log, kInfo, "signal %d: shutting down", sig);
          stop = true;
        }
      }
    });
    TC_LOG(log, kInfo, "tcpcopy %s started: %zu transfer(s), %zu intercept(s)%s", TCPCOPY_VERSION,
           options.engine.transfers.transfers().size(), options.intercepts.size(),
           options.reply_interfaces.empty() ? "" : ", replies captured here");
    app.run_until(stop);
    TC_LOG(log, kInfo, "final counters: %s", app.counters_line(true).c_str());
    if (const int status = app.exit_status(); status != 0) {
      // Last, after the counters, and on stderr too: what a script or an
      // operator reads first.
      const std::string why = app.ending_line();
      TC_LOG(log, kError, "%s", why.c_str());
      std::fprintf(stderr, "tcpcopy: %s\n", why.c_str());
      return status;
    }
  } catch (const std::exception& e) {
    TC_LOG(log, kError, "%s", e.what());
    std::fprintf(stderr, "tcpcopy: %s\n", e.what());
    return 1;
  }
  return 0;
}

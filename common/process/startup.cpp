#include "common/process/startup.h"

#include <cerrno>
#include <cstring>
#include <exception>

#include "common/process/capabilities.h"
#include "common/process/daemon.h"
#include "common/process/sched_policy.h"
#include "common/process/signal_actions.h"
#include "common/process/signal_watch.h"

namespace tc {

namespace {

int refuse(const Program& p, const std::string& error) {
  std::fprintf(p.err, "%s: %s\nTry '%s --help'.\n", p.name.c_str(), error.c_str(), p.name.c_str());
  return 2;
}

// From the sockets to the final counters; throws what a step throws.
int start_and_run(Program& p, Logger& log) {
  ProcessOptions& o = *p.options;
  // Before any thread starts, so every thread has them blocked.
  SignalWatch::block();
  const std::unique_ptr<Daemon> daemon = p.open(log);  // sockets first: start-up errors reach the shell
  // Threads the daemon starts later inherit it.
  TC_LOG(log, kInfo, "%s", apply_sched_policy(o.sched_policy).c_str());
  if (o.daemon) daemonize();
  std::optional<PidFile> pid_file;
  if (!o.pid_file.empty()) pid_file.emplace(o.pid_file);
  // Every socket is open: what they do needs no more than what is kept.
  TC_LOG(log, kInfo, "%s", drop_capabilities(p.keep_capabilities).c_str());
  // After fork: a signalfd only wakes epoll for its creator's signals.
  const SignalActions signals(daemon->loop(), log, p.name, p.err);
  daemon->run_until(signals.stop_requested());
  TC_LOG(log, kInfo, "final counters: %s", daemon->counters_line().c_str());
  const int status = daemon->exit_status();
  if (status != 0) {
    // Last, after the counters, and on stderr too: what a script or an
    // operator reads first.
    if (const std::string why = daemon->ending_line(); !why.empty()) {
      TC_LOG(log, kError, "%s", why.c_str());
      std::fprintf(p.err, "%s: %s\n", p.name.c_str(), why.c_str());
    }
  }
  return status;
}

}  // namespace

std::optional<int> prepare(Program& p) {
  switch (p.parsed.action) {
    case ParseResult::Action::kHelp:
      std::fputs(p.usage().c_str(), p.out);
      return 0;
    case ParseResult::Action::kVersion:
      std::fprintf(p.out, "%s %s\n", p.name.c_str(), p.version.c_str());
      return 0;
    case ParseResult::Action::kError:
      return refuse(p, p.parsed.error);
    case ParseResult::Action::kRun:
      break;
  }
  if (p.options->check) return p.check(p.out);
  if (const std::string err = load_secret(*p.options); !err.empty()) return refuse(p, err);
  make_paths_absolute(*p.options);
  return std::nullopt;
}

int run_program(Program& p) {
  if (const std::optional<int> status = prepare(p)) return *status;
  Logger log;
  log.set_level(p.options->log_level);
  if (!log.open(p.options->log_file)) {
    std::fprintf(p.err, "%s: cannot open log file %s: %s\n", p.name.c_str(), p.options->log_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  try {
    return start_and_run(p, log);
  } catch (const std::exception& e) {
    TC_LOG(log, kError, "%s", e.what());
    std::fprintf(p.err, "%s: %s\n", p.name.c_str(), e.what());
    return 1;
  }
}

}  // namespace tc

// The one start-up path of both daemons, from a parsed command line to the
// exit status:
//
//   --help, --version, a refused command line (status 2), --check, the
//   secret file, absolute -l/-P paths; then the log opens, the signals are
//   blocked, the program's sockets open (so their errors reach the shell),
//   the scheduling policy is set, the process detaches (-d), writes its
//   pid file (-P) and drops the capabilities it does not keep; the signal
//   watch starts in the process that stays (SIGHUP reopens the log,
//   SIGTERM/SIGINT stop), the daemon runs, and its final counters and,
//   when it failed, the reason are logged. An exception ends it with
//   status 1 and its message on stderr.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/options/option_table.h"
#include "common/options/process_options.h"

namespace tc {

// A daemon whose sockets are open, as the start-up path drives it.
class Daemon {
 public:
  virtual ~Daemon() = default;
  // The loop the signal watch joins.
  virtual EventLoop& loop() = 0;
  // Runs in the process that stays until `stop` is set (SIGTERM, SIGINT)
  // or the daemon is done by itself.
  virtual void run_until(const std::atomic<bool>& stop) = 0;
  // Every counter, for the last log line.
  virtual std::string counters_line() const = 0;
  // What the process exits with once run_until() returned; when not 0,
  // ending_line() says why (empty: the log said it already).
  virtual int exit_status() const = 0;
  virtual std::string ending_line() const = 0;
};

// What the start-up path needs to know of a program.
struct Program {
  std::string name;                        // "tcpcopy": --version and every message
  std::string version = TCPCOPY_VERSION;
  std::function<std::string()> usage;      // the --help text
  ParseResult parsed;                      // the command line, read into *options
  ProcessOptions* options = nullptr;       // the shared part of the program's options
  // --check: prints its report on `out` and returns the exit status.
  std::function<int(std::FILE* out)> check;
  std::vector<int> keep_capabilities;      // CAP_* kept once the sockets are open
  // Opens the daemon's sockets with the log open; throws std::exception
  // with a message for the operator.
  std::function<std::unique_ptr<Daemon>(Logger& log)> open;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// The steps before the log opens: --help and --version (status 0), a
// refused command line or secret file ("<name>: <error>" and a pointer to
// --help, status 2), --check (its status); then -l and -P are made
// absolute. Returns the exit status when the program ends here, nullopt
// when it goes on.
std::optional<int> prepare(Program& program);

// The whole path; returns main()'s exit status.
int run_program(Program& program);

}  // namespace tc

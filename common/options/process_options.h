// The options both daemons share: logging, running in the background, the
// pid file, the control channel's secret, metrics, the counter interval,
// wakeup batching and scheduling, and --check. Their table rows, their
// --help text and their values are read here, once for both programs.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/auth.h"
#include "common/ip_address.h"
#include "common/log.h"
#include "common/options/option_table.h"
#include "common/process/sched_policy.h"

namespace tc {

// Codes of the shared long-only options; a program numbers its own from
// kProgramOptionCode.
enum ProcessOptionCode : int {
  kOptLogLevel = kLongOnlyCode,
  kOptStatsInterval,
  kOptMetrics,
  kOptCheck,
  kOptSecretFile,
  kOptBatchWait,
  kOptSchedPolicy,
};
inline constexpr int kProgramOptionCode = kLongOnlyCode + 100;

struct ProcessOptions {
  std::string log_file;                        // -l; empty: stderr
  LogLevel log_level = LogLevel::kInfo;        // --log-level
  bool daemon = false;                         // -d
  std::string pid_file;                        // -P
  std::chrono::seconds stats_interval{10};     // --stats-interval; 0: only at exit
  std::chrono::microseconds batch_wait{200};   // --batch-wait: wakeup coalescing; 0: off
  SchedPolicy sched_policy = SchedPolicy::kBatch;  // --sched-policy
  std::optional<Endpoint> metrics;             // --metrics: Prometheus endpoint
  bool check = false;                          // --check: inspect the host, then exit
  std::string secret_file;                     // --secret-file; empty: no authentication
  std::optional<SharedSecret> secret;          // read from secret_file by load_secret, not by the parser
};

// The table row of a shared option ('l', 'd', 'P', 'h', 'v' or a
// ProcessOptionCode), with its shared help text, or `help` instead.
OptionSpec process_option(int code, const char* help = nullptr);

// The rows both programs list under "Running:": -l, --log-level, -d, -P,
// --stats-interval, --metrics.
std::vector<OptionSpec> running_options();

// Whether `code` is one of the shared options apply_process_option reads
// (-h and -v end the walk in the table itself).
bool is_process_option(int code);

// Reads one shared option's value into `out`; "" or the error, naming the
// option as `table` does.
std::string apply_process_option(const OptionTable& table, int code, const char* value, ProcessOptions& out);

// A daemon changes directory to "/": relative -l and -P paths are made
// absolute against the directory the program started in, before it
// detaches (and before SIGHUP reopens the log).
void make_paths_absolute(ProcessOptions& options);

// Reads --secret-file into `secret`. "" or the error, in the wording of a
// bad option value (a missing, short or world-readable file).
std::string load_secret(ProcessOptions& options);

}  // namespace tc

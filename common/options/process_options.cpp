#include "common/options/process_options.h"

#include <filesystem>

#include "common/options/option_values.h"

namespace tc {

OptionSpec process_option(int code, const char* help) {
  OptionSpec s;
  switch (code) {
    case 'l':
      s = {'l', "log", OptionArg::kRequired, "FILE", "log file (default: stderr; SIGHUP reopens it)"};
      break;
    case kOptLogLevel:
      s = {kOptLogLevel, "log-level", OptionArg::kRequired, "LEVEL", "debug, info, warn or error (default info)"};
      break;
    case 'd': s = {'d', "daemon", OptionArg::kNone, "", "run in the background"}; break;
    case 'P': s = {'P', "pid-file", OptionArg::kRequired, "FILE", "write the process id to FILE"}; break;
    case kOptStatsInterval:
      s = {kOptStatsInterval, "stats-interval", OptionArg::kRequired, "S",
           "log counters every S seconds, 0 = only at exit\n(default 10)"};
      break;
    case kOptMetrics:
      s = {kOptMetrics, "metrics", OptionArg::kRequired, "ADDR:PORT",
           "serve the counters for Prometheus at\nhttp://ADDR:PORT/metrics"};
      break;
    case kOptCheck:
      s = {kOptCheck, "check", OptionArg::kNone, "",
           "check this host, print what is wrong and how to fix\nit, then exit: 0 ready, 1 problems found"};
      break;
    case kOptSecretFile:
      s = {kOptSecretFile, "secret-file", OptionArg::kRequired, "FILE",
           "shared secret of the control channel (HMAC-SHA256\nchallenge, both ways); FILE must not be readable\n"
           "by others"};
      break;
    case kOptBatchWait:
      s = {kOptBatchWait, "batch-wait", OptionArg::kRequired, "US",
           "after a wakeup for packets, wait US microseconds\nbefore the next, so packets are handled in batches:\n"
           "fewer wakeups, at most US of added delay; 0-10000,\n0 = off (default 200)"};
      break;
    case kOptSchedPolicy:
      s = {kOptSchedPolicy, "sched-policy", OptionArg::kRequired, "P",
           "batch: SCHED_BATCH, the daemon's wakeups never\npreempt the server running on this host, it takes\n"
           "the CPU in fewer, longer turns (default);\nnormal: SCHED_OTHER"};
      break;
    case 'h': s = {'h', "help", OptionArg::kNone, "", "print this text"}; break;
    case 'v': s = {'v', "version", OptionArg::kNone, "", "print the version"}; break;
    default: return s;  // code 0: not a shared option
  }
  if (help) s.help = help;
  return s;
}

std::vector<OptionSpec> running_options() {
  return {process_option('l'),          process_option(kOptLogLevel), process_option('d'),
          process_option('P'),          process_option(kOptStatsInterval), process_option(kOptMetrics)};
}

bool is_process_option(int code) {
  switch (code) {
    case 'l': case 'd': case 'P': case kOptLogLevel: case kOptStatsInterval: case kOptMetrics: case kOptCheck:
    case kOptSecretFile: case kOptBatchWait: case kOptSchedPolicy:
      return true;
    default:
      return false;
  }
}

std::string apply_process_option(const OptionTable& table, int code, const char* value, ProcessOptions& out) {
  const auto bad = [&](const std::string& why) { return table.bad_value(code, value, why); };
  switch (code) {
    case 'l':
      if (*value == '\0') return bad("expected a file name");
      out.log_file = value;
      return {};
    case kOptLogLevel:
      if (!parse_log_level(value, out.log_level)) return bad("expected debug, info, warn or error");
      return {};
    case 'd': out.daemon = true; return {};
    case 'P':
      if (*value == '\0') return bad("expected a file name");
      out.pid_file = value;
      return {};
    case kOptStatsInterval: {
      uint32_t s = 0;
      if (!parse_number<uint32_t>(value, 0, 86400, s)) return bad("expected 0-86400 seconds");
      out.stats_interval = std::chrono::seconds(s);
      return {};
    }
    case kOptMetrics: {
      std::string why;
      out.metrics = parse_endpoint(value, 0, why);
      if (!out.metrics) return bad("expected ADDR:PORT, e.g. 127.0.0.1:9101 (" + why + ")");
      return {};
    }
    case kOptCheck: out.check = true; return {};
    case kOptSecretFile:
      if (*value == '\0') return bad("expected a file name");
      out.secret_file = value;
      return {};
    case kOptBatchWait: {
      uint32_t us = 0;
      if (!parse_number<uint32_t>(value, 0, 10000, us)) return bad("expected 0-10000 microseconds");
      out.batch_wait = std::chrono::microseconds(us);
      return {};
    }
    case kOptSchedPolicy: {
      const std::optional<SchedPolicy> p = parse_sched_policy(value);
      if (!p) return bad("expected batch or normal");
      out.sched_policy = *p;
      return {};
    }
    default:
      return "internal: " + table.name(code) + " is not a shared option";
  }
}

namespace {

std::string absolute(const std::string& path) {
  if (path.empty() || path == "-") return path;
  return std::filesystem::absolute(path).string();
}

}  // namespace

void make_paths_absolute(ProcessOptions& options) {
  options.log_file = absolute(options.log_file);
  options.pid_file = absolute(options.pid_file);
}

std::string load_secret(ProcessOptions& options) {
  if (options.secret_file.empty()) return {};
  std::string why;
  options.secret = SharedSecret::load(options.secret_file, why);
  if (!options.secret) return "invalid value '" + options.secret_file + "' for --secret-file: " + why;
  return {};
}

}  // namespace tc

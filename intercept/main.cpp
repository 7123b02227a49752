// intercept: runs on the target server, drops the target's replies and
// sends their headers back to tcpcopy.
#include <linux/capability.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "common/doctor.h"
#include "common/log.h"
#include "intercept/doctor.h"
#include "intercept/intercept_app.h"
#include "intercept/options.h"
#include "common/process/capabilities.h"
#include "common/process/daemon.h"
#include "common/process/sched_policy.h"
#include "common/process/signal_watch.h"

int main(int argc, char** argv) {
  using namespace tc;
  using namespace tc::intercept;
  Options options;
  if (const std::string err = parse_options(argc, argv, options); !err.empty()) {
    std::fprintf(stderr, "intercept: %s\nTry 'intercept --help'.\n", err.c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(usage_text("intercept").c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::puts("intercept " TCPCOPY_VERSION);
    return 0;
  }
  if (options.check) {
    doctor::SystemHost host;
    const doctor::Report report = check_intercept(options, host, system_check_env(options));
    std::fputs(report.text("intercept").c_str(), stdout);
    return report.exit_status();
  }
  if (const std::string err = load_secret(options); !err.empty()) {
    std::fprintf(stderr, "intercept: %s\nTry 'intercept --help'.\n", err.c_str());
    return 2;
  }
  make_paths_absolute(options);

  // Blocked from the start, so a signal before the loop runs waits for it.
  SignalWatch::block();
  tc::Logger log;
  log.set_level(options.log_level);
  if (!log.open(options.log_file)) {
    std::fprintf(stderr, "intercept: cannot open log file %s: %s\n", options.log_file.c_str(), std::strerror(errno));
    return 1;
  }
  try {
    InterceptApp app(options, log);
    // Before the queue threads start: they inherit it.
    TC_LOG(log, kInfo, "%s", apply_sched_policy(options.sched_policy).c_str());
    if (options.daemon) daemonize();
    std::optional<PidFile> pid_file;
    if (!options.pid_file.empty()) pid_file.emplace(options.pid_file);
    // The queue (or the capture) and the control sockets are open. NFQUEUE
    // verdicts still need CAP_NET_ADMIN at every send (nfnetlink checks the
    // sender); an open libpcap capture needs nothing more.
    const std::string dropped = options.mode == Mode::kAssistant ? drop_capabilities({})
                                                                  : drop_capabilities({CAP_NET_ADMIN});
    TC_LOG(log, kInfo, "%s", dropped.c_str());
    return app.run();
  } catch (const std::exception& e) {
    TC_LOG(log, kError, "%s", e.what());
    if (!options.log_file.empty() && options.log_file != "-") std::fprintf(stderr, "intercept: %s\n", e.what());
    return 1;
  }
}

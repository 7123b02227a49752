// intercept: runs on the target server, drops the target's replies and
// sends their headers back to tcpcopy.
#include <linux/capability.h>

#include <cstdio>
#include <memory>

#include "common/doctor.h"
#include "common/process/startup.h"
#include "intercept/doctor.h"
#include "intercept/intercept_app.h"
#include "intercept/options.h"

int main(int argc, char* argv[]) {
  using namespace tc;
  using namespace tc::intercept;
  Options options;
  Program program;
  program.name = "intercept";
  program.usage = [] { return usage_text("intercept"); };
  program.parsed = parse_options(argc, argv, options);
  program.options = &options;
  program.check = [&options](std::FILE* out) {
    doctor::SystemHost host;
    const doctor::Report report = check_intercept(options, host, system_check_env(options));
    std::fputs(report.text("intercept").c_str(), out);
    return report.exit_status();
  };
  // NFQUEUE verdicts need CAP_NET_ADMIN at every send (nfnetlink checks
  // the sender); an open libpcap capture needs nothing more.
  if (options.mode == Mode::kNfqueue) program.keep_capabilities = {CAP_NET_ADMIN};
  program.open = [&options](Logger& log) { return std::make_unique<InterceptApp>(options, log); };
  return run_program(program);
}

// tcpcopy: replays live TCP sessions from this online server to a target.
#include <cstdio>
#include <memory>

#include "common/doctor.h"
#include "common/process/startup.h"
#include "copy/doctor.h"
#include "copy/options.h"
#include "copy/tcpcopy_daemon.h"

int main(int argc, char* argv[]) {
  using namespace tc;
  CopyOptions options;
  Program program;
  program.name = "tcpcopy";
  program.usage = copy_usage;
  program.parsed = parse_copy_options(argc, argv, options);
  program.options = &options;
  program.check = [&options](std::FILE* out) {
    doctor::SystemHost host;
    const doctor::Report report = check_copy(options, host, [](const Endpoint& ep) { return probe_intercept(ep, 2s); });
    std::fputs(report.text("tcpcopy").c_str(), out);
    return report.exit_status();
  };
  // Every socket is open by then: the raw sockets keep working without
  // CAP_NET_RAW.
  program.keep_capabilities = {};
  program.open = [&options](Logger& log) { return std::make_unique<TcpcopyDaemon>(options, log); };
  return run_program(program);
}

#include "common/options/process_options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tc {
namespace {

OptionTable table() {
  std::vector<OptionSpec> specs = running_options();
  for (int code : {int{kOptCheck}, int{kOptSecretFile}, int{kOptBatchWait}, int{kOptSchedPolicy}, int{'h'}, int{'v'}})
    specs.push_back(process_option(code));
  return OptionTable(std::move(specs));
}

ParseResult parse(std::vector<std::string> args, ProcessOptions& out) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const OptionTable t = table();
  return t.parse(static_cast<int>(args.size()), argv.data(),
                 [&](int code, const char* value) { return apply_process_option(t, code, value, out); });
}

TEST(ProcessOptions, EverySharedOptionIsRead) {
  ProcessOptions o;
  const ParseResult r =
      parse({"-l", "/tmp/x.log", "--log-level=debug", "-d", "-P", "/tmp/x.pid", "--stats-interval", "0", "--metrics",
             "127.0.0.1:9101", "--check", "--secret-file", "/etc/k", "--batch-wait", "0", "--sched-policy", "normal"},
            o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.log_file, "/tmp/x.log");
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_TRUE(o.daemon);
  EXPECT_EQ(o.pid_file, "/tmp/x.pid");
  EXPECT_EQ(o.stats_interval, std::chrono::seconds(0));
  ASSERT_TRUE(o.metrics);
  EXPECT_EQ(o.metrics->to_string(), "127.0.0.1:9101");
  EXPECT_TRUE(o.check);
  EXPECT_EQ(o.secret_file, "/etc/k");
  EXPECT_FALSE(o.secret) << "the parser reads no file";
  EXPECT_EQ(o.batch_wait, std::chrono::microseconds(0));
  EXPECT_EQ(o.sched_policy, SchedPolicy::kNormal);
}

TEST(ProcessOptions, BadValuesAreNamedTheSameWayForBothPrograms) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"-l", ""}, "invalid value '' for -l/--log: expected a file name"},
      {{"-P", ""}, "invalid value '' for -P/--pid-file: expected a file name"},
      {{"--secret-file", ""}, "invalid value '' for --secret-file: expected a file name"},
      {{"--log-level", "loud"}, "invalid value 'loud' for --log-level: expected debug, info, warn or error"},
      {{"--stats-interval", "86401"}, "invalid value '86401' for --stats-interval: expected 0-86400 seconds"},
      {{"--batch-wait", "1ms"}, "invalid value '1ms' for --batch-wait: expected 0-10000 microseconds"},
      {{"--sched-policy", "idle"}, "invalid value 'idle' for --sched-policy: expected batch or normal"},
  };
  for (const auto& [args, error] : cases) {
    ProcessOptions o;
    const ParseResult r = parse(args, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError);
    EXPECT_EQ(r.error, error);
  }
  ProcessOptions o;
  const ParseResult r = parse({"--metrics", "9101"}, o);
  EXPECT_EQ(r.error.rfind("invalid value '9101' for --metrics: expected ADDR:PORT", 0), 0u) << r.error;
}

TEST(ProcessOptions, HelpHasOneLineOrMoreForEachSharedOption) {
  const std::string help = table().help();
  for (const char* name : {"-l, --log FILE", "--log-level LEVEL", "-d, --daemon", "-P, --pid-file FILE",
                           "--stats-interval S", "--metrics ADDR:PORT", "--check", "--secret-file FILE",
                           "--batch-wait US", "--sched-policy P", "-h, --help", "-v, --version"})
    EXPECT_NE(help.find(name), std::string::npos) << name;
  EXPECT_NE(table().help().find("SIGHUP reopens it"), std::string::npos);
  EXPECT_EQ(process_option(kOptCheck, "other words").help, std::string("other words"));
  EXPECT_EQ(process_option('x').code, 0) << "not a shared option";
}

TEST(ProcessOptions, RelativePathsAreMadeAbsolute) {
  ProcessOptions o;
  o.log_file = "run/x.log";
  o.pid_file = "x.pid";
  make_paths_absolute(o);
  EXPECT_EQ(o.log_file, (std::filesystem::current_path() / "run/x.log").string());
  EXPECT_EQ(o.pid_file, (std::filesystem::current_path() / "x.pid").string());
  ProcessOptions kept;
  kept.log_file = "-";
  make_paths_absolute(kept);
  EXPECT_EQ(kept.log_file, "-") << "stderr stays stderr";
  EXPECT_TRUE(kept.pid_file.empty());
}

TEST(ProcessOptions, AMissingSecretFileIsABadValue) {
  ProcessOptions o;
  EXPECT_EQ(load_secret(o), "") << "no file, no authentication";
  o.secret_file = "/nonexistent/secret";
  EXPECT_EQ(load_secret(o).rfind("invalid value '/nonexistent/secret' for --secret-file: ", 0), 0u);
  EXPECT_FALSE(o.secret);
}

}  // namespace
}  // namespace tc

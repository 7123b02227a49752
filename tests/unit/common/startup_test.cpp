// The start-up path both daemons run: what each parse outcome prints and
// exits with, what happens before the sockets open, and a whole run (in a
// child: it drops capabilities and takes signals) from the open to the
// final counters and the exit status.
#include "common/process/startup.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tc {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A program whose output goes to files of a fresh directory.
class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("startup_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = std::fopen((dir_ / "out").c_str(), "w+");
    err_ = std::fopen((dir_ / "err").c_str(), "w+");
    ASSERT_TRUE(out_ && err_);
    program_.name = "prog";
    program_.version = "9.8.7";
    program_.usage = [] { return std::string("Usage: prog [options]\n"); };
    program_.options = &options_;
    program_.check = [this](std::FILE* out) {
      ++checks_;
      std::fputs("[ OK ] all good\n", out);
      return 4;
    };
    program_.open = [this](Logger&) -> std::unique_ptr<Daemon> {
      ++opens_;
      throw std::runtime_error("cannot open the queue");
    };
    program_.out = out_;
    program_.err = err_;
  }
  void TearDown() override {
    if (out_) std::fclose(out_);
    if (err_) std::fclose(err_);
    fs::remove_all(dir_);
  }
  std::string out() {
    std::fflush(out_);
    return read_file(dir_ / "out");
  }
  std::string err() {
    std::fflush(err_);
    return read_file(dir_ / "err");
  }

  fs::path dir_;
  std::FILE* out_ = nullptr;
  std::FILE* err_ = nullptr;
  ProcessOptions options_;
  Program program_;
  int checks_ = 0;
  int opens_ = 0;
};

TEST_F(StartupTest, HelpPrintsTheUsageAndExitsZero) {
  program_.parsed.action = ParseResult::Action::kHelp;
  EXPECT_EQ(run_program(program_), 0);
  EXPECT_EQ(out(), "Usage: prog [options]\n");
  EXPECT_EQ(err(), "");
  EXPECT_EQ(opens_, 0);
}

TEST_F(StartupTest, VersionPrintsNameAndVersion) {
  program_.parsed.action = ParseResult::Action::kVersion;
  EXPECT_EQ(run_program(program_), 0);
  EXPECT_EQ(out(), "prog 9.8.7\n");
  EXPECT_EQ(err(), "");
}

TEST_F(StartupTest, ARefusedCommandLineExitsTwoAndPointsToHelp) {
  program_.parsed.action = ParseResult::Action::kError;
  program_.parsed.error = "invalid value 'x' for -p/--port: not a number";
  options_.log_file = (dir_ / "prog.log").string();
  EXPECT_EQ(run_program(program_), 2);
  EXPECT_EQ(err(), "prog: invalid value 'x' for -p/--port: not a number\nTry 'prog --help'.\n");
  EXPECT_EQ(out(), "");
  EXPECT_FALSE(fs::exists(dir_ / "prog.log"));
  EXPECT_EQ(opens_, 0);
}

TEST_F(StartupTest, CheckPrintsItsReportAndExitsWithItsStatus) {
  options_.check = true;
  options_.log_file = (dir_ / "prog.log").string();
  EXPECT_EQ(run_program(program_), 4);
  EXPECT_EQ(checks_, 1);
  EXPECT_EQ(out(), "[ OK ] all good\n");
  EXPECT_FALSE(fs::exists(dir_ / "prog.log"));
  EXPECT_EQ(opens_, 0);
}

TEST_F(StartupTest, ARefusedSecretFileExitsTwoBeforeAnythingOpens) {
  const fs::path key = dir_ / "open.key";
  std::ofstream(key) << "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==\n";
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  options_.secret_file = key.string();
  options_.log_file = (dir_ / "prog.log").string();
  options_.pid_file = (dir_ / "prog.pid").string();
  EXPECT_EQ(run_program(program_), 2);
  const std::string e = err();
  EXPECT_EQ(e.rfind("prog: invalid value '" + key.string() + "' for --secret-file: ", 0), 0u) << e;
  EXPECT_NE(e.find("\nTry 'prog --help'.\n"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir_ / "prog.log"));
  EXPECT_FALSE(fs::exists(dir_ / "prog.pid"));
  EXPECT_EQ(opens_, 0);
}

TEST_F(StartupTest, PrepareGoesOnWithAbsolutePaths) {
  options_.log_file = "prog.log";
  options_.pid_file = "run/prog.pid";
  EXPECT_EQ(prepare(program_), std::nullopt);
  EXPECT_EQ(options_.log_file, (fs::current_path() / "prog.log").string());
  EXPECT_EQ(options_.pid_file, (fs::current_path() / "run/prog.pid").string());
  EXPECT_EQ(out() + err(), "");
}

TEST_F(StartupTest, ALogThatCannotOpenExitsOne) {
  options_.log_file = (dir_ / "missing" / "prog.log").string();
  EXPECT_EQ(run_program(program_), 1);
  EXPECT_EQ(err(), "prog: cannot open log file " + options_.log_file + ": No such file or directory\n");
  EXPECT_EQ(opens_, 0);
}

TEST_F(StartupTest, AnErrorOpeningTheSocketsExitsOneWithItsMessage) {
  options_.log_file = (dir_ / "prog.log").string();
  options_.pid_file = (dir_ / "prog.pid").string();
  EXPECT_EQ(run_program(program_), 1);
  EXPECT_EQ(opens_, 1);
  EXPECT_EQ(err(), "prog: cannot open the queue\n");
  EXPECT_NE(read_file(dir_ / "prog.log").find("[error] cannot open the queue\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "prog.pid"));
}

// A daemon that rotates its own log, then asks for SIGHUP and SIGTERM, and
// ends with a status and a reason.
class SignalledDaemon final : public Daemon {
 public:
  SignalledDaemon(fs::path log, fs::path pid) : log_(std::move(log)), pid_(std::move(pid)) {}
  EventLoop& loop() override { return loop_; }
  void run_until(const std::atomic<bool>& stop) override {
    pid_seen_ = fs::exists(pid_);
    fs::rename(log_, log_.string() + ".1");
    ::raise(SIGHUP);
    ::raise(SIGTERM);
    for (int i = 0; i < 50 && !stop; ++i) loop_.run_once(std::chrono::milliseconds(100));
  }
  std::string counters_line() const override { return pid_seen_ ? "pid_file=1" : "pid_file=0"; }
  int exit_status() const override { return 3; }
  std::string ending_line() const override { return "the file broke at packet 7"; }

 private:
  EventLoop loop_;
  fs::path log_;
  fs::path pid_;
  bool pid_seen_ = false;
};

TEST_F(StartupTest, AWholeRunStopsOnSigtermAndEndsWithItsStatus) {
  options_.log_file = (dir_ / "prog.log").string();
  options_.pid_file = (dir_ / "prog.pid").string();
  options_.sched_policy = SchedPolicy::kNormal;
  program_.open = [this](Logger& log) -> std::unique_ptr<Daemon> {
    ++opens_;
    TC_LOG(log, kInfo, "sockets open");
    return std::make_unique<SignalledDaemon>(options_.log_file, options_.pid_file);
  };
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int status = run_program(program_);
    std::fflush(nullptr);
    ::_exit(status);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 3);
  const std::string before = read_file(dir_ / "prog.log.1");
  const std::string after = read_file(dir_ / "prog.log");
  EXPECT_NE(before.find("sockets open"), std::string::npos) << before;
  EXPECT_NE(before.find("capabilities"), std::string::npos) << before;
  EXPECT_NE(after.find("[info] SIGHUP: log reopened\n"), std::string::npos) << after;
  EXPECT_NE(after.find("[info] SIGTERM: shutting down\n"), std::string::npos) << after;
  EXPECT_NE(after.find("[info] final counters: pid_file=1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("[error] the file broke at packet 7\n"), std::string::npos) << after;
  EXPECT_LT(after.find("final counters"), after.find("the file broke"));
  EXPECT_EQ(err(), "prog: the file broke at packet 7\n");
  EXPECT_FALSE(fs::exists(dir_ / "prog.pid"));
}

}  // namespace
}  // namespace tc

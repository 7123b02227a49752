// The daemons' signals: SIGHUP reopens the log, SIGTERM and SIGINT set the
// stop flag, each with its log line; a signal raised here reaches the
// handler through the loop.
#include "common/process/signal_actions.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tc {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SignalActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("signal_actions_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_path_ = dir_ / "prog.log";
    ASSERT_TRUE(log_.open(log_path_.string()));
    err_ = std::fopen((dir_ / "err").c_str(), "w+");
    ASSERT_NE(err_, nullptr);
  }
  void TearDown() override {
    if (err_) std::fclose(err_);
    fs::remove_all(dir_);
  }
  std::string err() {
    std::fflush(err_);
    return read_file(dir_ / "err");
  }

  fs::path dir_;
  fs::path log_path_;
  Logger log_;
  std::FILE* err_ = nullptr;
  EventLoop loop_;
};

TEST_F(SignalActionsTest, SigtermAndSigintStop) {
  SignalActions signals(loop_, log_, "prog", err_);
  EXPECT_FALSE(signals.stop_requested());
  signals.on_signal(SIGINT);
  EXPECT_TRUE(signals.stop_requested());
  signals.on_signal(SIGTERM);
  const std::string text = read_file(log_path_);
  EXPECT_NE(text.find("[info] SIGINT: shutting down\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[info] SIGTERM: shutting down\n"), std::string::npos) << text;
  EXPECT_EQ(err(), "");
}

TEST_F(SignalActionsTest, SighupReopensTheLog) {
  SignalActions signals(loop_, log_, "prog", err_);
  fs::rename(log_path_, log_path_.string() + ".1");
  signals.on_signal(SIGHUP);
  EXPECT_FALSE(signals.stop_requested());
  EXPECT_NE(read_file(log_path_).find("[info] SIGHUP: log reopened\n"), std::string::npos);
  EXPECT_EQ(read_file(log_path_.string() + ".1"), "");
}

TEST_F(SignalActionsTest, ALogThatCannotBeReopenedIsSaidInTheOldOneAndOnStderr) {
  SignalActions signals(loop_, log_, "prog", err_);
  const fs::path moved = dir_ / "moved.log";
  fs::rename(log_path_, moved);
  fs::create_directory(log_path_);  // the path now names a directory: fopen fails
  signals.on_signal(SIGHUP);
  EXPECT_FALSE(signals.stop_requested());
  EXPECT_NE(read_file(moved).find("[error] SIGHUP: cannot reopen log: Is a directory\n"), std::string::npos);
  EXPECT_EQ(err(), "prog: cannot reopen log file: Is a directory\n");
}

TEST_F(SignalActionsTest, ARaisedSignalReachesTheLoop) {
  SignalActions signals(loop_, log_, "prog", err_);  // blocks the signals first
  ASSERT_EQ(::raise(SIGTERM), 0);
  for (int i = 0; i < 20 && !signals.stop_requested(); ++i) loop_.run_once(100ms);
  EXPECT_TRUE(signals.stop_requested());
  EXPECT_NE(read_file(log_path_).find("SIGTERM: shutting down"), std::string::npos);
}

}  // namespace
}  // namespace tc

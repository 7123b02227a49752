// A leveled logger writing to stderr or a file. One instance is created by
// main and passed by reference; reopen() serves SIGHUP for log rotation.
// Threads (tcpcopy's workers) may share it: a line is written whole, and a
// reopen never closes the file under a line being written.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace tc {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

bool parse_log_level(const std::string& text, LogLevel& out);

class Logger {
 public:
  Logger() = default;
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Opens `path` for appending ("" or "-": stderr). Returns false with errno set.
  bool open(const std::string& path);
  bool reopen();
  void set_level(LogLevel l) { level_ = l; }  // before any thread starts
  bool enabled(LogLevel l) const { return l >= level_; }

  void log(LogLevel l, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  // A status line on stderr when it is a terminal (progress of long work):
  // each call redraws it in place; a log line written to stderr clears it
  // first, and the next call draws it again below.
  void status(const std::string& line);
  // Leaves the status line shown as it is and goes to the next line.
  void end_status();

 private:
  bool open_locked(const std::string& path);

  std::mutex mu_;
  bool status_shown_ = false;
  std::FILE* out_ = nullptr;
  std::string path_;
  LogLevel level_ = LogLevel::kInfo;
};

#define TC_LOG(logger, lvl, ...)                                  \
  do {                                                            \
    if ((logger).enabled(::tc::LogLevel::lvl)) (logger).log(::tc::LogLevel::lvl, __VA_ARGS__); \
  } while (0)

}  // namespace tc

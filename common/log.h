// A leveled logger writing to stderr or a file. One instance is created by
// main and passed by reference; reopen() serves SIGHUP for log rotation.
#pragma once

#include <cstdio>
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
  bool reopen() { return open(path_); }
  void set_level(LogLevel l) { level_ = l; }
  bool enabled(LogLevel l) const { return l >= level_; }

  void log(LogLevel l, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

 private:
  std::FILE* out_ = nullptr;
  std::string path_;
  LogLevel level_ = LogLevel::kInfo;
};

#define TC_LOG(logger, lvl, ...)                                  \
  do {                                                            \
    if ((logger).enabled(::tc::LogLevel::lvl)) (logger).log(::tc::LogLevel::lvl, __VA_ARGS__); \
  } while (0)

}  // namespace tc

#include "common/log.h"

#include <time.h>

#include <cstdarg>

namespace tc {

bool parse_log_level(const std::string& text, LogLevel& out) {
  if (text == "debug") out = LogLevel::kDebug;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "warn") out = LogLevel::kWarn;
  else if (text == "error") out = LogLevel::kError;
  else return false;
  return true;
}

Logger::~Logger() {
  if (out_ && out_ != stderr) std::fclose(out_);
}

bool Logger::open(const std::string& path) {
  std::lock_guard lock(mu_);
  return open_locked(path);
}

bool Logger::reopen() {
  std::lock_guard lock(mu_);
  return open_locked(path_);
}

bool Logger::open_locked(const std::string& path) {
  std::FILE* f = stderr;
  if (!path.empty() && path != "-") {
    f = std::fopen(path.c_str(), "a");
    if (!f) return false;
    setvbuf(f, nullptr, _IOLBF, 0);
  }
  if (out_ && out_ != stderr) std::fclose(out_);
  out_ = f;
  path_ = path;
  return true;
}

void Logger::status(const std::string& line) {
  std::lock_guard lock(mu_);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  status_shown_ = true;
}

void Logger::end_status() {
  std::lock_guard lock(mu_);
  if (!status_shown_) return;
  std::fputc('\n', stderr);
  status_shown_ = false;
}

void Logger::log(LogLevel l, const char* fmt, ...) {
  std::lock_guard lock(mu_);
  std::FILE* f = out_ ? out_ : stderr;
  if (status_shown_ && f == stderr) {
    std::fputs("\r\033[K", stderr);
    status_shown_ = false;
  }
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  localtime_r(&ts.tv_sec, &parts);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts);
  std::fprintf(f, "%s.%03ld [%s] ", stamp, ts.tv_nsec / 1000000, kNames[static_cast<int>(l)]);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(f, fmt, ap);
  va_end(ap);
  std::fputc('\n', f);
}

}  // namespace tc

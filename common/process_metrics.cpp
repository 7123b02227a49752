#include "common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "common/metrics_text.h"

namespace tc {
namespace {

std::optional<std::string> slurp(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool parse_u64(std::string_view text, uint64_t& out) {
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc() && res.ptr == text.data() + text.size();
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, std::string_view proc_stat, long ticks_per_second,
                                            long page_size) {
  if (ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
  // The command name in parentheses may hold spaces and ')': fields count
  // from the last ')'. What follows is field 3 (state) onward.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  uint64_t utime = 0, stime = 0, starttime = 0, rss = 0;
  int field = 2;
  while (!rest.empty()) {
    const size_t b = rest.find_first_not_of(" \n");
    if (b == std::string_view::npos) break;
    rest.remove_prefix(b);
    const size_t e = std::min(rest.find_first_of(" \n"), rest.size());
    const std::string_view word = rest.substr(0, e);
    rest.remove_prefix(e);
    ++field;
    uint64_t* target = field == 14 ? &utime : field == 15 ? &stime : field == 22 ? &starttime : field == 24 ? &rss : nullptr;
    if (target && !parse_u64(word, *target)) return std::nullopt;
    if (field == 24) break;
  }
  if (field < 24) return std::nullopt;

  uint64_t btime = 0;
  bool have_btime = false;
  for (size_t pos = 0; pos < proc_stat.size();) {
    size_t eol = proc_stat.find('\n', pos);
    if (eol == std::string_view::npos) eol = proc_stat.size();
    const std::string_view line = proc_stat.substr(pos, eol - pos);
    if (line.starts_with("btime ")) have_btime = parse_u64(line.substr(6), btime);
    pos = eol + 1;
  }
  if (!have_btime) return std::nullopt;

  ProcessStats s;
  const double ticks = static_cast<double>(ticks_per_second);
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  s.resident_bytes = rss * static_cast<uint64_t>(page_size);
  s.start_time_seconds = static_cast<double>(btime) + static_cast<double>(starttime) / ticks;
  return s;
}

std::optional<ProcessStats> read_process_stats() {
  const auto stat = slurp("/proc/self/stat");
  const auto proc_stat = slurp("/proc/stat");
  if (!stat || !proc_stat) return std::nullopt;
  auto s = parse_proc_stat(*stat, *proc_stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  if (!s) return std::nullopt;
  if (DIR* d = opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    s->open_fds = n > 0 ? n - 1 : 0;  // not counting the one opendir() holds
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) s->max_fds = lim.rlim_cur;
  return s;
}

void report_process_metrics(const ProcessStats& s, PrometheusText& text) {
  text.real("process_cpu_seconds", false, "Total user and system CPU time spent in seconds.", s.cpu_seconds, false);
  text.real("process_resident_memory_bytes", true, "Resident memory size in bytes.",
            static_cast<double>(s.resident_bytes), false);
  text.real("process_open_fds", true, "Number of open file descriptors.", static_cast<double>(s.open_fds), false);
  text.real("process_max_fds", true, "Maximum number of open file descriptors.", static_cast<double>(s.max_fds),
            false);
  text.real("process_start_time_seconds", true, "Start time of the process since unix epoch in seconds.",
            s.start_time_seconds, false);
}

}  // namespace tc

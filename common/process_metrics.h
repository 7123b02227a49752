// The process metrics every Prometheus client library exports, read from
// /proc/self: CPU time, resident memory, descriptors, start time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tc {

class PrometheusText;

struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;           // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // since the Unix epoch
};

// Parses the text of /proc/<pid>/stat and the boot time of /proc/stat
// ("btime"): CPU time, resident memory and start time. Empty when the text
// does not parse. Split from the reading so tests can feed it text.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, std::string_view proc_stat, long ticks_per_second,
                                            long page_size);

// Everything for this process; empty if /proc is not readable.
std::optional<ProcessStats> read_process_stats();

// Adds process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds.
void report_process_metrics(const ProcessStats& stats, PrometheusText& text);

}  // namespace tc

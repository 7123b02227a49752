#include "intercept/nfqueue/queue_stats.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace tc::intercept {

namespace {

bool next_number(std::string_view& line, uint32_t& out) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty() || line.front() < '0' || line.front() > '9') return false;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), out);
  if (ec != std::errc()) return false;
  line.remove_prefix(static_cast<size_t>(end - line.data()));
  return line.empty() || line.front() == ' ' || line.front() == '\t';
}

}  // namespace

std::vector<NfqueueProcEntry> parse_nfqueue_proc(std::string_view text) {
  std::vector<NfqueueProcEntry> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    NfqueueProcEntry e;
    uint32_t* fields[] = {&e.queue_num,  &e.portid,        &e.queue_total,  &e.copy_mode,
                          &e.copy_range, &e.queue_dropped, &e.user_dropped, &e.id_sequence};
    bool ok = true;
    for (uint32_t* f : fields) ok = ok && next_number(line, *f);
    if (ok) out.push_back(e);
  }
  return out;
}

std::optional<NfqueueProcEntry> find_queue(const std::vector<NfqueueProcEntry>& entries, uint32_t queue_num) {
  for (const NfqueueProcEntry& e : entries)
    if (e.queue_num == queue_num) return e;
  return std::nullopt;
}

std::optional<std::string> read_nfqueue_proc() {
  std::ifstream in(kNfqueueProcPath);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void report_queue_stats(const std::optional<NfqueueProcEntry>& entry, CounterSink& sink) {
  if (entry) NfqueueKernelCounters(*entry).report(sink);
}

void NfqueueKernelCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_NFQUEUE_KERNEL_COUNTERS, sink); }

}  // namespace tc::intercept

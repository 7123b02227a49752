// The kernel's per-queue totals, from /proc/net/netfilter/nfnetlink_queue:
// one line per bound queue,
//   queue_num portid queue_total copy_mode copy_range queue_dropped
//   user_dropped id_sequence 1
// queue_total is the number of packets waiting now; queue_dropped counts
// packets dropped because the queue was full, user_dropped those the kernel
// could not hand to the netlink socket (its receive buffer was full).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/counters.h"

namespace tc::intercept {

inline constexpr const char* kNfqueueProcPath = "/proc/net/netfilter/nfnetlink_queue";

struct NfqueueProcEntry {
  uint32_t queue_num = 0;
  uint32_t portid = 0;        // netlink port id of the process bound to it
  uint32_t queue_total = 0;   // waiting now
  uint32_t copy_mode = 0;
  uint32_t copy_range = 0;
  uint32_t queue_dropped = 0;
  uint32_t user_dropped = 0;
  uint32_t id_sequence = 0;   // id of the last packet queued
};

// Pure. Lines that do not hold at least eight numbers are skipped.
std::vector<NfqueueProcEntry> parse_nfqueue_proc(std::string_view text);
std::optional<NfqueueProcEntry> find_queue(const std::vector<NfqueueProcEntry>& entries, uint32_t queue_num);

// Reads the proc file; nullopt when it cannot be read (module not loaded).
std::optional<std::string> read_nfqueue_proc();

// The kernel's view of one queue as metrics: waiting (gauge), dropped and
// user_dropped (counters), packets (id_sequence). Nothing when unbound.
void report_queue_stats(const std::optional<NfqueueProcEntry>& entry, CounterSink& sink);

}  // namespace tc::intercept

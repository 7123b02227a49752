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

// The kernel's view of one queue as metrics, from its NfqueueProcEntry:
// queue_total, queue_dropped, user_dropped and id_sequence.
#define TC_NFQUEUE_KERNEL_COUNTERS(COUNTER, GAUGE, REASONS)                                           \
  GAUGE(waiting, "nfqueue_waiting", "",                                                               \
        "Packets waiting in the queue now, as the kernel reports (/proc/net/netfilter/nfnetlink_queue)") \
  COUNTER(queue_full, "nfqueue_dropped", "queue_full", kNfqueueDroppedHelp)                           \
  COUNTER(socket_full, "nfqueue_dropped", "socket_full", kNfqueueDroppedHelp)                         \
  COUNTER(packets, "nfqueue_packets", "", "Packets queued since the queue was bound, as the kernel counts them")

inline constexpr const char* kNfqueueDroppedHelp =
    "Packets the kernel dropped: the queue was full (queue_full, raise -q) or intercept's socket was (socket_full)";

struct NfqueueKernelCounters {
  TC_COUNTER_FIELDS(TC_NFQUEUE_KERNEL_COUNTERS)

  explicit NfqueueKernelCounters(const NfqueueProcEntry& e)
      : waiting(e.queue_total), queue_full(e.queue_dropped), socket_full(e.user_dropped), packets(e.id_sequence) {}
  void report(CounterSink& sink) const;
};

// Reports NfqueueKernelCounters; nothing when the queue is unbound.
void report_queue_stats(const std::optional<NfqueueProcEntry>& entry, CounterSink& sink);

}  // namespace tc::intercept

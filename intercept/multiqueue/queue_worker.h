// One NFQUEUE queue served by a thread of its own (--queue-balance): the
// thread reads the queue, drops every reply that is not pass-listed with
// batched verdicts, and hands the dropped replies' headers to the main
// thread through a ring, waking it with an eventfd. Routing stays on the
// main thread, which owns the route table and the control connections.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/counters.h"
#include "common/ip_address.h"
#include "common/tcp_packet.h"
#include "common/turn_pacer.h"
#include "common/unique_fd.h"
#include "intercept/multiqueue/header_ring.h"
#include "intercept/nfqueue/nfqueue_reply_source.h"
#include "intercept/packet_decider.h"

namespace tc::intercept {

#define TC_HANDOFF_COUNTERS(COUNTER, GAUGE, REASONS)                                                    \
  TC_REPLY_DECIDER_COUNTERS(COUNTER, GAUGE, REASONS)                                                    \
  COUNTER(handed_off, "queue_handoffs", "", "Reply headers a queue thread handed to the main thread (--queue-balance)") \
  COUNTER(shed, "queue_handoffs_shed", "", "Reply headers a queue thread dropped: the ring to the main thread was full")

struct HandoffCounters {
  TC_COUNTER_FIELDS(TC_HANDOFF_COUNTERS)

  void report(CounterSink& sink) const;
};

// The queue thread's decision: parse, let pass-listed clients' replies
// through, put the others' headers in the ring (dropped either way).
class HandoffDecider final : public PacketDecider {
 public:
  HandoffDecider(std::vector<IpAddress> passlist, HeaderRing& ring) : passlist_(std::move(passlist)), ring_(ring) {}

  bool accept(std::span<const uint8_t> packet) override;

  uint64_t handed_off() const { return counters_.handed_off; }
  void report(CounterSink& sink) const { counters_.report(sink); }

 private:
  std::vector<IpAddress> passlist_;
  HeaderRing& ring_;
  TcpPacket packet_;
  HandoffCounters counters_;
};

class QueueWorker {
 public:
  // Binds the queue (throws std::runtime_error as NfqueueSocket does); the
  // thread starts with start().
  // batch_wait: the thread's wakeup coalescing (TurnPacer).
  QueueWorker(uint16_t queue_num, uint32_t queue_maxlen, std::vector<IpAddress> passlist,
              std::chrono::microseconds batch_wait, size_t ring_slots = 65536);
  ~QueueWorker();
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  void start();
  void stop();  // idempotent; joins the thread

  // Readable when headers wait in the ring (or the thread failed).
  int notify_fd() const { return notify_.get(); }
  // Main thread: clears the wake-up and calls fn(key, header) for each
  // header.
  template <typename Fn>
  size_t take(Fn&& fn) {
    uint64_t n;
    [[maybe_unused]] const ssize_t r = ::read(notify_.get(), &n, sizeof n);
    return ring_.drain(fn);
  }
  // Why the thread stopped on its own (empty while it runs).
  std::string failure() const;

  void report(CounterSink& sink) const;
  std::string describe() const { return source_.describe(); }
  std::string start_warning() const { return source_.start_warning(); }

 private:
  void run();

  NfqueueReplySource source_;
  HeaderRing ring_;
  HandoffDecider decider_;
  UniqueFd notify_;  // worker -> main
  UniqueFd wake_;    // main -> worker: stop
  TurnPacer pacer_;  // the thread's own
  mutable std::mutex mu_;  // the source's and the decider's counters
  std::string failure_;
  std::thread thread_;
};

}  // namespace tc::intercept

// Reads queued reply packets in batches, asks a PacketDecider about each
// and gives every one of them a verdict, batched (see VerdictBatcher).
// Fails closed: whatever cannot be decided is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/counters.h"
#include "intercept/nfqueue/queue_transport.h"
#include "intercept/packet_decider.h"
#include "intercept/nfqueue/verdict_batcher.h"

namespace tc::intercept {

// Declared once; see common/counters.h.
#define TC_NFQUEUE_COUNTERS(COUNTER, GAUGE, REASONS)                                                  \
  COUNTER(packets_queued, "packets_queued", "", "Packets NFQUEUE handed to intercept")                \
  COUNTER(verdicts_drop, "verdicts", "drop", "Packets given a verdict (not messages), by verdict")    \
  COUNTER(verdicts_accept, "verdicts", "accept", "Packets given a verdict (not messages), by verdict") \
  COUNTER(verdict_messages, "verdict_messages", "", "Verdict messages sent to the kernel")            \
  COUNTER(verdict_send_errors, "verdict_send_errors", "", "Verdict messages that could not be sent")  \
  COUNTER(verdict_errors, "verdict_errors", "", "Verdicts the kernel refused")                        \
  COUNTER(enobufs, "enobufs", "", "Times the kernel could not deliver packets (they were dropped)")   \
  COUNTER(receive_errors, "queue_receive_errors", "", "Failed reads from the queue socket")           \
  COUNTER(truncated, "queue_truncated", "", "Datagrams larger than a receive slot")                   \
  COUNTER(bad_messages, "queue_bad_messages", "", "Packet messages without a usable id")

struct NfqueueCounters {
  TC_COUNTER_FIELDS(TC_NFQUEUE_COUNTERS)

  void report(CounterSink& sink) const;
};

class NfqueueSource {
 public:
  // `batch` datagrams are read per receive call.
  NfqueueSource(QueueTransport& transport, uint16_t queue_num, size_t batch = 64);

  // Reads and decides up to `max_batches` batches, or until nothing is
  // waiting. Returns the packets handled.
  size_t drain(PacketDecider& decider, size_t max_batches = 16);

  const NfqueueCounters& counters() const { return counters_; }

 private:
  void handle_datagram(std::span<const uint8_t> datagram, PacketDecider& decider);
  void send_verdicts();

  static constexpr size_t kSlotBytes = 8192;

  QueueTransport& transport_;
  uint16_t queue_num_;
  std::vector<uint8_t> storage_;
  std::vector<ReceivedDatagram> slots_;
  std::vector<uint8_t> verdict_buf_;
  VerdictBatcher batcher_;
  size_t handled_ = 0;
  NfqueueCounters counters_;
};

}  // namespace tc::intercept

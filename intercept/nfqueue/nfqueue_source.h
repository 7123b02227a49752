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

struct NfqueueCounters {
  uint64_t packets_queued = 0;
  uint64_t verdicts_drop = 0;      // packets dropped (not messages)
  uint64_t verdicts_accept = 0;
  uint64_t verdict_messages = 0;
  uint64_t verdict_send_errors = 0;
  uint64_t verdict_errors = 0;     // the kernel refused a verdict
  uint64_t enobufs = 0;            // the kernel could not deliver packets (they were dropped)
  uint64_t receive_errors = 0;
  uint64_t truncated = 0;          // datagrams larger than a receive slot
  uint64_t bad_messages = 0;       // packet messages without a usable id

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

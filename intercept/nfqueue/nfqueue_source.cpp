#include "intercept/nfqueue/nfqueue_source.h"

#include <cerrno>

#include "intercept/nfqueue/nfqueue_messages.h"

namespace tc::intercept {

void NfqueueCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_NFQUEUE_COUNTERS, sink); }

NfqueueSource::NfqueueSource(QueueTransport& transport, uint16_t queue_num, size_t batch)
    : transport_(transport), queue_num_(queue_num), storage_(batch * kSlotBytes), slots_(batch) {
  for (size_t i = 0; i < batch; ++i) slots_[i].buffer = std::span(storage_).subspan(i * kSlotBytes, kSlotBytes);
  // Each packet adds at most one verdict; a datagram normally holds one packet.
  verdict_buf_.resize(batch * nfq::kVerdictMessageSize);
}

size_t NfqueueSource::drain(PacketDecider& decider, size_t max_batches) {
  handled_ = 0;
  for (size_t round = 0; round < max_batches; ++round) {
    const int n = transport_.receive(slots_);
    if (n == -EINTR) continue;
    if (n == -ENOBUFS) {
      // The socket overflowed; the kernel dropped those packets itself (fail
      // closed). Nothing to recover, just go on reading.
      ++counters_.enobufs;
      continue;
    }
    if (n == -EAGAIN || n == -EWOULDBLOCK) break;
    if (n < 0) {
      ++counters_.receive_errors;
      break;
    }
    batcher_.clear();
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      const ReceivedDatagram& d = slots_[i];
      if (d.truncated) ++counters_.truncated;
      handle_datagram(d.buffer.first(d.length < d.buffer.size() ? d.length : d.buffer.size()), decider);
    }
    batcher_.finish();
    send_verdicts();
    if (static_cast<size_t>(n) < slots_.size()) break;  // the socket is drained
  }
  return handled_;
}

void NfqueueSource::handle_datagram(std::span<const uint8_t> datagram, PacketDecider& decider) {
  nfq::for_each_message(datagram, [&](const nfq::QueueMessage& m) {
    switch (m.kind) {
      case nfq::QueueMessage::Kind::kPacket: {
        ++counters_.packets_queued;
        ++handled_;
        const bool accept = decider.accept(m.payload);
        ++(accept ? counters_.verdicts_accept : counters_.verdicts_drop);
        batcher_.add(m.packet_id, accept);
        break;
      }
      case nfq::QueueMessage::Kind::kBadPacket:
        // Without an id no verdict can name it; a later batch drop covers it.
        ++counters_.bad_messages;
        break;
      case nfq::QueueMessage::Kind::kAck:
        if (m.error != 0) ++counters_.verdict_errors;
        break;
      case nfq::QueueMessage::Kind::kOther:
        break;
    }
  });
}

void NfqueueSource::send_verdicts() {
  const auto verdicts = batcher_.verdicts();
  if (verdicts.empty()) return;
  const size_t need = verdicts.size() * nfq::kVerdictMessageSize;
  if (verdict_buf_.size() < need) verdict_buf_.resize(need);
  const size_t len = nfq::put_verdicts(verdicts, queue_num_, verdict_buf_);
  counters_.verdict_messages += verdicts.size();
  if (transport_.send(std::span<const uint8_t>(verdict_buf_).first(len)) != 0) ++counters_.verdict_send_errors;
}

}  // namespace tc::intercept

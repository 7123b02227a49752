#include "intercept/nfqueue/nfqueue_reply_source.h"

#include "intercept/nfqueue/queue_stats.h"

namespace tc::intercept {

NfqueueReplySource::NfqueueReplySource(uint16_t queue_num, uint32_t queue_maxlen)
    : queue_num_(queue_num),
      queue_maxlen_(queue_maxlen),
      socket_({queue_num, queue_maxlen}),
      source_(socket_, queue_num) {}

void NfqueueReplySource::report(CounterSink& sink) const {
  source_.counters().report(sink);
  socket_.counters().report(sink);
  // The kernel's side of the queue: waiting packets and drops.
  if (const auto text = read_nfqueue_proc())
    report_queue_stats(find_queue(parse_nfqueue_proc(*text), queue_num_), sink);
}

std::string NfqueueReplySource::start_warning() const {
  if (read_nfqueue_proc()) return {};
  return std::string("cannot read ") + kNfqueueProcPath +
         " (readable by root only): the kernel's queue totals and drops are not reported";
}

std::string NfqueueReplySource::describe() const {
  return "NFQUEUE " + std::to_string(queue_num_) + " (max " + std::to_string(queue_maxlen_) +
         " packets, receive buffer " + std::to_string(socket_.receive_buffer_bytes()) + " bytes)";
}

}  // namespace tc::intercept

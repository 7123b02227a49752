// nfqueue mode: the target's replies from an NFQUEUE queue, each given a
// verdict (dropped unless pass-listed).
#pragma once

#include "intercept/nfqueue/nfqueue_socket.h"
#include "intercept/nfqueue/nfqueue_source.h"
#include "intercept/reply_source.h"

namespace tc::intercept {

class NfqueueReplySource final : public ReplySource {
 public:
  // Binds the queue; throws std::runtime_error (see NfqueueSocket).
  NfqueueReplySource(uint16_t queue_num, uint32_t queue_maxlen);

  int fd() const override { return socket_.fd(); }
  size_t drain(PacketDecider& decider) override { return source_.drain(decider); }
  void report(CounterSink& sink) const override;
  std::string describe() const override;
  std::string start_warning() const override;

 private:
  uint16_t queue_num_;
  uint32_t queue_maxlen_;
  NfqueueSocket socket_;
  NfqueueSource source_;
};

}  // namespace tc::intercept

// Captures the online server's answers for the comparison: a packet socket
// sees each packet the host sends, on every interface, and a kernel filter
// keeps only TCP packets from the replicated ports, cut to their headers and
// first payload bytes. It reads copies; the production connection is never
// touched. Delivered packets start at the IP header; their IP length still
// says how long the packet was.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/unique_fd.h"
#include "copy/capture/capture_source.h"
#include "copy/capture/recv_ops.h"

namespace tc {

// packets: delivered to the handler; kernel_drops: PACKET_STATISTICS;
// receive_errors: recvmmsg failures other than EAGAIN.
#define TC_ANSWER_CAPTURE_COUNTERS(COUNTER, GAUGE, REASONS)                                            \
  COUNTER(packets, "answer_capture_packets", "", "Online answer packets captured for the comparison")   \
  COUNTER(kernel_drops, "answer_capture_kernel_drops", "",                                              \
          "Online answer packets the kernel dropped for want of buffer")                                \
  COUNTER(receive_errors, "answer_capture_receive_errors", "", "Failed reads of the answer capture socket")

struct AnswerCaptureStats {
  TC_COUNTER_FIELDS(TC_ANSWER_CAPTURE_COUNTERS)

  void report(CounterSink& sink) const;
};

class AnswerCapture final : public CaptureSource {
 public:
  static constexpr size_t kBatch = 64;
  // IP header (up to 60) + TCP header (up to 60) + the answer prefix kept.
  static constexpr size_t kSnaplen = 256;
  static constexpr size_t kMaxBatchesPerDrain = 16;

  // Opens the socket on every interface with the filter for `ports` (the
  // online ports of the transfers). Throws std::system_error (e.g. without
  // CAP_NET_RAW) or std::invalid_argument (too many ports).
  explicit AnswerCapture(const std::vector<uint16_t>& ports);
  // Takes over a configured socket; tests pass any socket and a fake `ops`.
  AnswerCapture(UniqueFd socket, RecvOps& ops);

  AnswerCapture(const AnswerCapture&) = delete;
  AnswerCapture& operator=(const AnswerCapture&) = delete;

  int fd() const override { return fd_.get(); }
  size_t drain(PacketHandler& handler) override;
  void report(CounterSink& sink) const override;
  const AnswerCaptureStats& stats() const { return stats_; }

 private:
  void prepare();

  UniqueFd fd_;
  RecvOps& ops_;
  std::array<std::array<uint8_t, kSnaplen>, kBatch> buffers_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iov_{};
  mutable AnswerCaptureStats stats_;
};

}  // namespace tc

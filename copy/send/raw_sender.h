// Sends the engine's rewritten packets through raw IP sockets (IP_HDRINCL:
// the engine builds whole packets). The data path never blocks and never
// throws: a packet that cannot go out now is counted and dropped, and the
// engine's retransmission recovers it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/counters.h"
#include "common/ip_address.h"
#include "common/unique_fd.h"
#include "copy/send/destination_filter.h"
#include "copy/send/packet_sender.h"
#include "copy/send/send_ops.h"

namespace tc {

struct RawSenderOptions {
  // The only destinations a packet may have. tcpcopy must never send
  // anywhere else, whatever the engine builds.
  std::vector<IpAddress> targets;
  // Bytes per packet buffer: the MTU of the path to the targets. Raised to
  // 1500 if smaller.
  size_t slot_size = 1500;
  // Packets per sendmmsg; also the number of buffers.
  size_t batch = 64;
  int send_buffer_bytes = 4 << 20;
};

struct RawSenderStats {
  static constexpr size_t kErrnoSlots = 135;  // errno values; the last slot: others

  TC_COUNTER_FIELDS(TC_SEND_COUNTERS)
  uint64_t send_calls = 0;           // sendmmsg calls
  void report_sent(CounterSink& sink) const { TC_COUNTER_REPORT(TC_SEND_COUNTERS, sink); }
  std::array<uint64_t, kErrnoSlots> send_errors{};   // by errno; the packet is skipped
  std::array<uint64_t, kErrnoSlots> dropped_full{};  // EAGAIN/ENOBUFS; the rest of the batch is dropped

  uint64_t errors(int err) const;
  uint64_t dropped(int err) const;
  uint64_t total_dropped_full() const;
};

class RawSender final : public PacketSender {
 public:
  // Opens an IPv4 raw socket if a target is IPv4 and an IPv6 one if a
  // target is IPv6. Throws std::system_error (e.g. without CAP_NET_RAW) or
  // std::invalid_argument (no targets).
  explicit RawSender(const RawSenderOptions& options);
  // Uses the given sockets (either may be empty) and syscall seam; tests
  // pass any descriptors and a fake `ops`.
  RawSender(const RawSenderOptions& options, SendOps& ops, UniqueFd v4_socket, UniqueFd v6_socket);

  RawSender(const RawSender&) = delete;
  RawSender& operator=(const RawSender&) = delete;

  // A slot buffer of slot_size() bytes. When every slot is queued, sends
  // them first, so the result is never empty.
  std::span<uint8_t> acquire(const IpAddress& dst) override;
  // Queues the first `len` bytes of the last acquired slot, unless the
  // packet is malformed or its destination is not a target (counted).
  void commit(size_t len) override;

  // Sends every queued packet (one sendmmsg per run of the same IP
  // version). Returns the number sent; the rest were counted as dropped.
  size_t flush() override;

  // Runs before every send, including the one acquire() starts when all
  // slots are full. The owner flushes session registrations here, so they
  // always leave before the packets they announce.
  void set_before_send(std::function<void()> hook) override { before_send_ = std::move(hook); }

  size_t queued() const { return queued_; }
  size_t slot_size() const { return slot_size_; }
  const RawSenderStats& stats() const { return stats_; }
  void report(CounterSink& sink) const override;

 private:
  void send_run(size_t begin, size_t end, int fd);

  SendOps& ops_;
  UniqueFd v4_;
  UniqueFd v6_;
  DestinationFilter allowed_;
  size_t slot_size_;
  size_t batch_;
  std::unique_ptr<uint8_t[]> slots_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<uint8_t> is_v6_;
  size_t queued_ = 0;
  bool acquired_ = false;
  std::function<void()> before_send_;
  RawSenderStats stats_;
};

}  // namespace tc

// Captures request packets with a raw IPv4 TCP socket. The socket receives a
// copy of each incoming TCP packet (IP header included) and never affects
// the production connection; a BPF filter keeps only the replicated ports.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/ip_address.h"
#include "common/unique_fd.h"
#include "copy/capture/capture_source.h"
#include "copy/capture/recv_ops.h"

namespace tc {

struct RawCaptureOptions {
  // Online ports: only packets whose TCP destination port is one of these
  // are queued by the kernel. Empty: every port.
  std::vector<uint16_t> ports;
  // Online addresses: when not empty, the destination address must be one
  // of them too (IPv4 only; the socket sees no IPv6).
  std::vector<IpAddress> addresses;
  // Socket receive buffer; bursts beyond it are kernel drops.
  int receive_buffer_bytes = 32 << 20;
  // AF_INET or AF_INET6. An IPv6 raw socket hands over the TCP segment
  // alone; the capture puts a rebuilt IPv6 header back in front of it.
  int family = AF_INET;
};

// packets and bytes: IP packets delivered to the handler. kernel_drops:
// queue overflows reported by SO_RXQ_OVFL; while the queue is full the
// kernel counts arrivals before the filter runs, so this is an upper bound
// on lost matching packets. truncated: longer than a receive buffer,
// dropped. The IPv6 socket reports them as capture6_*.
#define TC_RAW_CAPTURE_COUNTERS(COUNTER, GAUGE, REASONS)                                             \
  COUNTER(packets, "capture_packets", "", "Packets the capture read (packet ring, raw sockets, libpcap or a file)") \
  COUNTER(bytes, "capture_bytes", "", "Bytes of those packets")                                      \
  COUNTER(kernel_drops, "capture_kernel_drops", "",                                                  \
          "Packets the kernel dropped before the capture read them (a full socket buffer or ring)")  \
  COUNTER(truncated, "capture_truncated", "", "Packets cut short by the snap length (-S, or a file's when it was recorded), not replayed")

struct RawCaptureStats {
  TC_COUNTER_FIELDS(TC_RAW_CAPTURE_COUNTERS)
  uint64_t receive_calls = 0;
  // recvmmsg failures other than EAGAIN, by errno (the last slot: others).
  std::array<uint64_t, 135> receive_errors{};

  void report(CounterSink& sink) const;
};

class RawCapture final : public CaptureSource {
 public:
  static constexpr size_t kBatch = 64;                // messages per recvmmsg
  static constexpr size_t kBufferSize = 65536;        // bytes per message
  static constexpr size_t kV6Header = 40;             // room before each IPv6 segment
  static constexpr size_t kMaxBatchesPerDrain = 16;   // so one source cannot starve the loop

  // Opens and configures the raw socket. Throws std::system_error (e.g.
  // without CAP_NET_RAW) or std::invalid_argument (too many ports).
  explicit RawCapture(const RawCaptureOptions& options);
  // Takes over a socket that is already configured; tests pass any socket
  // and a fake `ops`.
  RawCapture(UniqueFd socket, RecvOps& ops, int family = AF_INET);

  RawCapture(const RawCapture&) = delete;
  RawCapture& operator=(const RawCapture&) = delete;

  int fd() const override { return fd_.get(); }
  size_t drain(PacketHandler& handler) override;
  void report(CounterSink& sink) const override;

  const RawCaptureStats& stats() const { return stats_; }
  // The receive buffer the kernel granted (as getsockopt reports it).
  int receive_buffer_bytes() const;

 private:
  static constexpr size_t kControlSize = 64;  // room for SO_RXQ_OVFL and a spare cmsg

  void prepare_buffers();
  // Reads drop totals; for IPv6 also the destination address (pktinfo).
  void read_control(msghdr& hdr, in6_addr* destination);

  UniqueFd fd_;
  RecvOps& ops_;
  int family_;
  std::array<sockaddr_in6, kBatch> sources_{};  // IPv6: the sender of each segment
  std::unique_ptr<uint8_t[]> buffers_;
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iov_{};
  struct alignas(cmsghdr) Control {
    uint8_t bytes[kControlSize];
  };
  std::array<Control, kBatch> control_{};
  uint32_t last_drop_total_ = 0;  // SO_RXQ_OVFL is a running total
  RawCaptureStats stats_;
};

}  // namespace tc

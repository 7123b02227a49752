// Captures request packets with libpcap at the link layer, on one or more
// interfaces (-i). Blocks of packets (TPACKET_V3, not immediate mode) in a
// sized ring; the link header is stripped by link_layer, so the handler
// sees IP packets as with the raw socket. Only packets the interfaces
// receive are captured: what tcpcopy itself sends is never read back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/pcap_io.h"
#include "copy/capture/capture_source.h"

namespace tc {

struct PcapCaptureOptions {
  std::vector<std::string> interfaces;
  std::string filter;               // BPF expression (see request_filter_expression)
  int snaplen = 262144;             // -S: a packet cut by it cannot be replayed (counted)
  int buffer_bytes = 16 << 20;      // -B
};

// packets and bytes: IP packets delivered to the handler; truncated: cut
// by the snap length, dropped. The drops, dispatch errors and link errors
// are the capture set's, read when the stats are asked for.
#define TC_PCAP_CAPTURE_COUNTERS(COUNTER, GAUGE, REASONS)                                            \
  COUNTER(packets, "capture_packets", "", "Packets the capture read (packet ring, raw sockets, libpcap or a file)") \
  COUNTER(bytes, "capture_bytes", "", "Bytes of those packets")                                      \
  COUNTER(kernel_drops, "capture_kernel_drops", "",                                                  \
          "Packets the kernel dropped before the capture read them (a full socket buffer or ring)")  \
  COUNTER(interface_drops, "capture_interface_drops", "", "Packets the interface dropped before libpcap saw them") \
  COUNTER(truncated, "capture_truncated", "", "Packets cut short by the snap length (-S, or a file's when it was recorded), not replayed") \
  COUNTER(dispatch_errors, "capture_dispatch_errors", "", "Failed reads of a libpcap capture (pcap_dispatch)") \
  REASONS(link_errors, "capture_link_errors", LinkError, 1, "Frames whose link-layer header could not be read, by reason")

struct PcapCaptureStats {
  TC_COUNTER_FIELDS(TC_PCAP_CAPTURE_COUNTERS)

  void report(CounterSink& sink) const;
};

class PcapCapture final : public CaptureSource, private IpPacketSink {
 public:
  // Most a packet waits in a partly filled block before it is delivered.
  static constexpr int kBlockTimeoutMs = 5;

  // Opens every interface; throws std::runtime_error naming the one that
  // fails ("cannot open interface eth9: no such interface").
  explicit PcapCapture(const PcapCaptureOptions& options);

  int fd() const override { return set_.fd(); }
  size_t drain(PacketHandler& handler) override;
  void report(CounterSink& sink) const override;

  PcapCaptureStats stats() const;
  std::string describe() const { return set_.describe(); }

 private:
  void on_ip_packet(std::span<const uint8_t> ip, bool cut) override;

  LiveCaptureSet set_;
  PacketHandler* handler_ = nullptr;
  PcapCaptureStats stats_;
};

}  // namespace tc

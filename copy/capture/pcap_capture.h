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

struct PcapCaptureStats {
  uint64_t packets = 0;    // delivered to the handler
  uint64_t bytes = 0;      // IP bytes delivered
  uint64_t truncated = 0;  // cut by the snap length: dropped
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

  const PcapCaptureStats& stats() const { return stats_; }
  std::string describe() const { return set_.describe(); }

 private:
  void on_ip_packet(std::span<const uint8_t> ip, bool cut) override;

  LiveCaptureSet set_;
  PacketHandler* handler_ = nullptr;
  PcapCaptureStats stats_;
};

}  // namespace tc

// assistant mode (architecture 3): intercept runs on a host on the
// target's subnet, and the target routes its replies to the clients'
// addresses to that host. libpcap captures them there on the -i
// interfaces, immediately and only their headers; each reply goes to the
// same ReplyDispatcher as in nfqueue mode. Nothing is given a verdict: the
// host does not forward (ip_forward=0), so the replies end here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/pcap_io.h"
#include "intercept/reply_source.h"

namespace tc::intercept {

struct PcapReplyOptions {
  std::vector<std::string> interfaces;  // -i
  std::string filter;                   // -F; empty: reply_filter_expression(target_ports)
  std::vector<uint16_t> target_ports;   // --target-ports
  int snaplen = 576;                    // -S: link header, then wire::kMaxReplyEntry
  int buffer_bytes = 16 << 20;          // -B
};

// replies: handed to the dispatcher. The drops, dispatch errors and link
// errors are the capture set's, read when the counters are asked for.
#define TC_PCAP_REPLY_COUNTERS(COUNTER, GAUGE, REASONS)                                               \
  COUNTER(replies, "replies_captured", "", "Target replies the capture handed to the dispatcher (assistant mode)") \
  COUNTER(kernel_drops, "capture_kernel_drops", "",                                                   \
          "Packets the kernel dropped before the capture read them (a full socket buffer or ring)")   \
  COUNTER(interface_drops, "capture_interface_drops", "", "Packets the interface dropped before libpcap saw them") \
  COUNTER(dispatch_errors, "capture_dispatch_errors", "", "Failed reads of a libpcap capture (pcap_dispatch)") \
  REASONS(link_errors, "capture_link_errors", LinkError, 1, "Frames whose link-layer header could not be read, by reason")

struct PcapReplyCounters {
  TC_COUNTER_FIELDS(TC_PCAP_REPLY_COUNTERS)

  void report(CounterSink& sink) const;
};

class PcapReplySource final : public ReplySource, private IpPacketSink {
 public:
  // Opens every interface; throws std::runtime_error naming the one that
  // fails.
  explicit PcapReplySource(const PcapReplyOptions& options);

  int fd() const override { return set_.fd(); }
  size_t drain(PacketDecider& decider) override;
  void report(CounterSink& sink) const override;
  std::string describe() const override;

  const std::string& filter() const { return filter_; }
  uint64_t replies() const { return replies_; }
  PcapReplyCounters counters() const;

 private:
  void on_ip_packet(std::span<const uint8_t> ip, bool cut) override;

  std::string filter_;
  int snaplen_;
  LiveCaptureSet set_;
  PacketDecider* decider_ = nullptr;
  uint64_t replies_ = 0;
};

}  // namespace tc::intercept

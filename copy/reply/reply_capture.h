// Architecture 1: no intercept. The target routes its replies to the
// copies' client addresses (-c) through this online host; they arrive here
// addressed to no local address and, with forwarding off, the kernel drops
// them. Before that, a live capture on the --reply-interface interfaces
// sees them: only their headers and a short payload prefix are kept, and
// each goes to the session engine as intercept's reply would: headers,
// then at most `payload_prefix` payload bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/counters.h"
#include "common/pcap_io.h"
#include "common/tcp_packet.h"
#include "common/wire.h"
#include "copy/control/intercept_link.h"
#include "copy/engine/ports.h"
#include "copy/engine/transfer_map.h"

namespace tc {

// Without intercepts there is nobody to announce a session to: every
// session may start.
class AcceptingRegistrar final : public SessionRegistrar {
 public:
  bool register_session(const SessionKey&) override { return true; }
  void unregister_session(const SessionKey&) override {}
};

// The kernel filter on the target's replies: "tcp and ((src host T and src
// port P) or ...)", one term per distinct -x target.
std::string target_reply_filter(const TransferMap& transfers);

struct ReplyCaptureOptions {
  std::vector<std::string> interfaces;  // --reply-interface
  std::string filter;                   // see target_reply_filter
  // Link header (up to 64 bytes), IP and TCP headers (wire::kMaxReplyHeader)
  // and the longest payload prefix (wire::kMaxReplyPrefix). The engine
  // reads headers only and takes the payload's length from the IP header.
  int snaplen = 64 + static_cast<int>(wire::kMaxReplyEntry);
  // Payload bytes handed on after the headers; 0: headers only.
  uint16_t payload_prefix = 0;
  int buffer_bytes = 16 << 20;
};

// What the reply capture saw, for the counter line. bytes: the replies'
// IP lengths as captured; kernel_drops: the ring was full (pcap_stats
// ps_drop), summed over interfaces; interface_drops: ps_ifdrop.
#define TC_REPLY_CAPTURE_COUNTERS(COUNTER, GAUGE, REASONS)                                            \
  COUNTER(replies, "reply_capture_replies", "", "Target replies the reply capture handed to the engine") \
  COUNTER(bytes, "reply_capture_bytes", "", "Bytes of those replies")                                 \
  COUNTER(kernel_drops, "reply_capture_kernel_drops", "",                                             \
          "Target replies the kernel dropped before the reply capture read them (a full ring)")       \
  COUNTER(interface_drops, "reply_capture_interface_drops", "",                                       \
          "Target replies the interface dropped before libpcap saw them")                             \
  COUNTER(dispatch_errors, "reply_capture_dispatch_errors", "", "Failed reads of the reply capture (pcap_dispatch)") \
  REASONS(link_errors, "reply_capture_link_errors", LinkError, 1,                                     \
          "Frames of the reply capture whose link-layer header could not be read, by reason")

struct ReplyCaptureCounters {
  TC_COUNTER_FIELDS(TC_REPLY_CAPTURE_COUNTERS)

  void report(CounterSink& sink) const;
};

class ReplyCapture final : private IpPacketSink {
 public:
  // Opens every interface; throws std::runtime_error naming the one that
  // fails.
  explicit ReplyCapture(const ReplyCaptureOptions& options);

  int fd() const { return set_.fd(); }
  // Hands every reply ready in the rings to `handler`; returns how many.
  size_t drain(ReplyHandler& handler);
  ReplyCaptureCounters counters() const;
  void report(CounterSink& sink) const { counters().report(sink); }
  std::string describe() const;

 private:
  void on_ip_packet(std::span<const uint8_t> ip, bool cut) override;

  std::string filter_;
  int snaplen_;
  uint16_t payload_prefix_;
  TcpPacket packet_;  // parse scratch
  LiveCaptureSet set_;
  ReplyHandler* handler_ = nullptr;
  uint64_t replies_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tc

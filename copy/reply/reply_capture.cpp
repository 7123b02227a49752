#include "copy/reply/reply_capture.h"

#include <algorithm>

namespace tc {

namespace {

LiveCaptureConfig live_config(const ReplyCaptureOptions& o) {
  LiveCaptureConfig c;
  c.filter = o.filter;
  c.snaplen = o.snaplen;
  c.buffer_bytes = o.buffer_bytes;
  // Each reply may release a held request: it must not wait for a block
  // to fill.
  c.immediate = true;
  // The replies arrive; what this host sends (the copies) is no reply.
  c.inbound_only = true;
  return c;
}

}  // namespace

std::string target_reply_filter(const TransferMap& transfers) {
  std::vector<Endpoint> targets;
  for (const Transfer& t : transfers.transfers())
    if (std::find(targets.begin(), targets.end(), t.target) == targets.end()) targets.push_back(t.target);
  std::string terms;
  for (const Endpoint& t : targets) {
    if (!terms.empty()) terms += " or ";
    terms += "(src host " + t.addr.to_string() + " and src port " + std::to_string(t.port) + ")";
  }
  if (terms.empty()) return "tcp";
  return targets.size() == 1 ? "tcp and " + terms : "tcp and (" + terms + ")";
}

ReplyCapture::ReplyCapture(const ReplyCaptureOptions& options)
    : filter_(options.filter),
      snaplen_(options.snaplen),
      payload_prefix_(std::min(options.payload_prefix, static_cast<uint16_t>(wire::kMaxReplyPrefix))),
      set_(options.interfaces, live_config(options)) {}

size_t ReplyCapture::drain(ReplyHandler& handler) {
  handler_ = &handler;
  const uint64_t before = replies_;
  set_.dispatch(*this);
  handler_ = nullptr;
  return static_cast<size_t>(replies_ - before);
}

void ReplyCapture::on_ip_packet(std::span<const uint8_t> ip, bool) {
  // Cut by the snaplen by design; cut here again to the headers and the
  // payload prefix, as intercept would send it. What does not parse goes
  // on whole: the engine counts it as malformed.
  ++replies_;
  bytes_ += ip.size();
  if (TcpPacket::parse(ip, packet_, Extent::kHeadersOnly) == ParseError::kNone) {
    const size_t keep = packet_.headers.size() + std::min<size_t>(payload_prefix_, packet_.payload.size());
    handler_->on_reply(ip.first(keep));
    return;
  }
  handler_->on_reply(ip);
}

ReplyCaptureCounters ReplyCapture::counters() const {
  ReplyCaptureCounters c;
  c.replies = replies_;
  c.bytes = bytes_;
  set_.kernel_drops(c.kernel_drops, c.interface_drops);
  c.dispatch_errors = set_.stats().dispatch_errors;
  c.link_errors = set_.stats().link_errors.by_reason;
  return c;
}

void ReplyCaptureCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_REPLY_CAPTURE_COUNTERS, sink); }

std::string ReplyCapture::describe() const {
  return "pcap on " + set_.describe() + ", filter '" + filter_ + "', snaplen " + std::to_string(snaplen_);
}

}  // namespace tc

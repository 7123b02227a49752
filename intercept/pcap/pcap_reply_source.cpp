#include "intercept/pcap/pcap_reply_source.h"

#include "common/pcap_filter.h"

namespace tc::intercept {

namespace {

LiveCaptureConfig live_config(const PcapReplyOptions& o, const std::string& filter) {
  LiveCaptureConfig c;
  c.filter = filter;
  c.snaplen = o.snaplen;
  c.buffer_bytes = o.buffer_bytes;
  c.immediate = true;       // a reply header waits for nothing: tcpcopy holds requests for it
  c.inbound_only = true;    // replies arrive; the host sends none of them
  return c;
}

std::string choose_filter(const PcapReplyOptions& o) {
  return o.filter.empty() ? reply_filter_expression(o.target_ports) : o.filter;
}

}  // namespace

PcapReplySource::PcapReplySource(const PcapReplyOptions& options)
    : filter_(choose_filter(options)),
      snaplen_(options.snaplen),
      set_(options.interfaces, live_config(options, filter_)) {}

size_t PcapReplySource::drain(PacketDecider& decider) {
  decider_ = &decider;
  const uint64_t before = replies_;
  set_.dispatch(*this);
  decider_ = nullptr;
  return static_cast<size_t>(replies_ - before);
}

void PcapReplySource::on_ip_packet(std::span<const uint8_t> ip, bool) {
  // Cut after the headers by design; the dispatcher reads the payload
  // length from the IP header. No verdict to give: the answer is unused.
  ++replies_;
  decider_->accept(ip);
}

PcapReplyCounters PcapReplySource::counters() const {
  PcapReplyCounters c;
  c.replies = replies_;
  set_.kernel_drops(c.kernel_drops, c.interface_drops);
  c.dispatch_errors = set_.stats().dispatch_errors;
  c.link_errors = set_.stats().link_errors.by_reason;
  return c;
}

void PcapReplySource::report(CounterSink& sink) const { counters().report(sink); }

void PcapReplyCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_PCAP_REPLY_COUNTERS, sink); }

std::string PcapReplySource::describe() const {
  return "pcap on " + set_.describe() + ", filter '" + filter_ + "', snaplen " + std::to_string(snaplen_);
}

}  // namespace tc::intercept

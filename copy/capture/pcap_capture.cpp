#include "copy/capture/pcap_capture.h"

namespace tc {

namespace {

LiveCaptureConfig live_config(const PcapCaptureOptions& o) {
  LiveCaptureConfig c;
  c.filter = o.filter;
  c.snaplen = o.snaplen;
  c.buffer_bytes = o.buffer_bytes;
  c.immediate = false;
  c.block_timeout_ms = PcapCapture::kBlockTimeoutMs;
  c.inbound_only = true;
  return c;
}

}  // namespace

PcapCapture::PcapCapture(const PcapCaptureOptions& options) : set_(options.interfaces, live_config(options)) {}

size_t PcapCapture::drain(PacketHandler& handler) {
  handler_ = &handler;
  const uint64_t before = stats_.packets;
  set_.dispatch(*this);
  handler_ = nullptr;
  return static_cast<size_t>(stats_.packets - before);
}

void PcapCapture::on_ip_packet(std::span<const uint8_t> ip, bool cut) {
  if (cut) {  // part of the payload is missing: useless to replay
    ++stats_.truncated;
    return;
  }
  ++stats_.packets;
  stats_.bytes += ip.size();
  handler_->on_packet(ip);
}

PcapCaptureStats PcapCapture::stats() const {
  PcapCaptureStats s = stats_;
  set_.kernel_drops(s.kernel_drops, s.interface_drops);
  s.dispatch_errors = set_.stats().dispatch_errors;
  s.link_errors = set_.stats().link_errors.by_reason;
  return s;
}

void PcapCapture::report(CounterSink& sink) const { stats().report(sink); }

void PcapCaptureStats::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_PCAP_CAPTURE_COUNTERS, sink); }

}  // namespace tc

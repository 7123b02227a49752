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

void PcapCapture::report(CounterSink& sink) const {
  uint64_t ring_drops = 0, interface_drops = 0;
  set_.kernel_drops(ring_drops, interface_drops);
  sink.counter("capture_packets", "", stats_.packets);
  sink.counter("capture_bytes", "", stats_.bytes);
  sink.counter("capture_kernel_drops", "", ring_drops);
  sink.counter("capture_interface_drops", "", interface_drops);
  sink.counter("capture_truncated", "", stats_.truncated);
  sink.counter("capture_dispatch_errors", "", set_.stats().dispatch_errors);
  set_.stats().link_errors.report(sink, "capture_link_errors");
}

}  // namespace tc

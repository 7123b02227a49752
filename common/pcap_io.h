// libpcap, owned and opened in one place: RAII handles, live captures on a
// list of interfaces behind one pollable descriptor, capture files, filter
// checks, and the per-frame step every capture shares (link header -> IP
// packet, counted by reason). Opening throws std::runtime_error with a
// message that names the interface or file; the per-frame path neither
// throws nor allocates.
#pragma once

#include <pcap/pcap.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/link_layer.h"
#include "common/unique_fd.h"

namespace tc {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

// Checks a filter expression's syntax without touching any device (a dead
// Ethernet handle compiles it). Empty when it compiles, else libpcap's
// message.
std::string check_filter_syntax(const std::string& expression);

// Compiles and installs `expression` on `p` (empty: nothing). Returns the
// error text, empty on success.
std::string install_filter(pcap_t* p, const std::string& expression);
// The same, throwing std::runtime_error; `what` names the interface or file.
void apply_filter(pcap_t* p, const std::string& expression, const std::string& what);

// Empty when link_layer can parse the handle's link type, else why not.
std::string link_type_problem(pcap_t* p);
// The handle's link type; throws when link_layer cannot parse it.
int require_supported_link_type(pcap_t* p, const std::string& what);

struct LiveCaptureConfig {
  std::string filter;            // BPF expression; empty: every packet
  int snaplen = 65535;           // bytes kept per packet
  int buffer_bytes = 16 << 20;   // kernel ring
  bool immediate = false;        // true: each packet at once (TPACKET_V2); false: filled blocks (TPACKET_V3)
  int block_timeout_ms = 10;     // without immediate mode: longest a packet waits in a block
  bool inbound_only = true;      // only packets the interface receives, not those it sends
};

// Opens, configures and activates a live capture on `interface`
// (non-blocking, not promiscuous).
PcapHandle open_live_capture(const std::string& interface, const LiveCaptureConfig& config);

// Opens a capture file (pcap or pcapng) with nanosecond timestamps; on
// failure the handle is empty and `error` says why.
PcapHandle open_capture_file(const std::string& path, std::string& error);

// Counts of frames link_layer could not use, by reason.
struct LinkErrorCounters {
  std::array<uint64_t, static_cast<size_t>(LinkError::kCount)> by_reason{};
  void add(LinkError e) { ++by_reason[static_cast<size_t>(e)]; }
  uint64_t total() const;
};

// Receives the IP packets of live captures.
class IpPacketSink {
 public:
  virtual ~IpPacketSink() = default;
  // `ip` starts at the IP header and is valid only during the call; `cut`
  // is true when the snap length dropped the end of the frame.
  virtual void on_ip_packet(std::span<const uint8_t> ip, bool cut) = 0;
};

struct LiveCaptureStats {
  uint64_t frames = 0;          // frames read from the rings
  uint64_t dispatch_errors = 0; // pcap_dispatch failures
  LinkErrorCounters link_errors;
};

// Live captures on one or more interfaces, polled through one descriptor
// (an epoll set of the handles' descriptors).
class LiveCaptureSet {
 public:
  // Opens every interface; throws std::runtime_error naming the first one
  // that fails.
  LiveCaptureSet(const std::vector<std::string>& interfaces, const LiveCaptureConfig& config);
  LiveCaptureSet(const LiveCaptureSet&) = delete;
  LiveCaptureSet& operator=(const LiveCaptureSet&) = delete;

  int fd() const { return epoll_.get(); }
  // Reads what the rings hold, at most `max_rounds` pcap_dispatch calls of
  // kDispatchBatch frames per interface (so a busy capture cannot starve
  // the loop), and hands each IP packet to `sink`. Returns frames read.
  static constexpr int kDispatchBatch = 256;
  size_t dispatch(IpPacketSink& sink, size_t max_rounds = 16);

  const LiveCaptureStats& stats() const { return stats_; }
  // Sums the kernel's drop counts of every handle (pcap_stats).
  void kernel_drops(uint64_t& ring_drops, uint64_t& interface_drops) const;
  // "eth0 (Ethernet), eth1 (Linux cooked v1)".
  std::string describe() const;

 private:
  struct Handle {
    std::string name;
    PcapHandle pcap;
    int link_type = 0;
  };
  static void on_frame(u_char* user, const pcap_pkthdr* header, const u_char* bytes);

  std::vector<Handle> handles_;
  UniqueFd epoll_;
  // The frame callback's context (pcap passes one pointer).
  IpPacketSink* sink_ = nullptr;
  int current_link_type_ = 0;
  LiveCaptureStats stats_;
};

}  // namespace tc

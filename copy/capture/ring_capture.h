// tcpcopy's default capture: one packet socket on every interface with a
// receive ring (TPACKET_V3). The kernel filters (ports, addresses, packets
// this host receives) and writes the packets into memory shared with
// tcpcopy, in blocks; a block is handed over when it is full or 2 ms after
// its first packet, so a busy capture costs no system call per packet and an
// idle one adds at most two milliseconds. It sees IPv4 and IPv6 alike and never
// touches the production connection.
//
// A packet is seen once per interface it crosses. Three views of the same
// packet are refused in the kernel so that each request arrives once:
// packets the host sends (loopback shows every packet twice), the tagged
// view of a VLAN's parent (the VLAN device shows it untagged), and the
// interfaces enslaved to a bond or a bridge when the capture opened (their
// master shows the packet again).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip_address.h"
#include "common/unique_fd.h"
#include "copy/capture/capture_source.h"

namespace tc {

struct RingCaptureOptions {
  // Online ports (empty: every port) and, when not empty, the online IPv4
  // addresses the packets must be sent to (IPv6 packets are kept by port).
  std::vector<uint16_t> ports;
  std::vector<IpAddress> addresses;
  // Interfaces whose packets are refused (bond and bridge ports); see
  // enslaved_interfaces().
  std::vector<int> excluded_ifindexes;
  // A block goes to tcpcopy when full or when the timeout passes after its
  // first packet; at a moderate rate every block leaves on the timeout
  // holding a few dozen packets, so the ring rides out a stall of about
  // block_count x block_timeout_ms (512 ms), and a burst of about 200,000
  // small packets (32 MiB). Blocks hold the largest GRO packet (64 KiB).
  // With the comparison: the online answers too, cut to this many bytes
  // (0: requests only). They go to the handler given to
  // deliver_answers_to(), in the order the kernel saw both directions.
  uint32_t answer_snaplen = 0;
  // --workers: the rings of the workers form one fanout group, whose
  // program gives each its share of the connections (by client port, see
  // build_fanout_program). fanout_members > 1 turns it on; fanout_group 0:
  // this ring founds the group and the kernel picks an id no other group
  // uses (fanout_group() tells it), else it joins that group. Members join
  // in worker order: member i is worker i.
  uint16_t fanout_members = 0;
  uint16_t fanout_group = 0;
  size_t block_bytes = 128 << 10;
  size_t block_count = 256;
  unsigned block_timeout_ms = 2;
};

// kernel_drops: PACKET_STATISTICS, no room in the ring; truncated: cut by
// the ring, not replayed.
#define TC_RING_CAPTURE_COUNTERS(COUNTER, GAUGE, REASONS)                                            \
  COUNTER(packets, "capture_packets", "", "Packets the capture read (packet ring, raw sockets, libpcap or a file)") \
  COUNTER(bytes, "capture_bytes", "", "Bytes of those packets")                                      \
  COUNTER(kernel_drops, "capture_kernel_drops", "",                                                  \
          "Packets the kernel dropped before the capture read them (a full socket buffer or ring)")  \
  COUNTER(truncated, "capture_truncated", "", "Packets cut short by the snap length (-S, or a file's when it was recorded), not replayed") \
  COUNTER(blocks, "capture_ring_blocks", "",                                                         \
          "Blocks of the packet ring handed over by the kernel (default capture); packets per block tell how much a wake-up carries")

// Only with --compare: online answers delivered to the answer handler.
#define TC_RING_ANSWER_COUNTERS(COUNTER, GAUGE, REASONS) \
  COUNTER(answers, "answer_capture_packets", "", "Online answer packets captured for the comparison")

struct RingCaptureStats {
  TC_COUNTER_FIELDS(TC_RING_CAPTURE_COUNTERS)
  TC_COUNTER_FIELDS(TC_RING_ANSWER_COUNTERS)

  void report(CounterSink& sink, bool with_answers) const;
};

class RingCapture final : public CaptureSource {
 public:
  // Opens the socket, maps its ring and attaches the filter. Throws
  // std::system_error (no CAP_NET_RAW, no packet sockets, the ring refused)
  // or std::invalid_argument (too many ports for one filter).
  explicit RingCapture(const RingCaptureOptions& options);
  ~RingCapture() override;

  RingCapture(const RingCapture&) = delete;
  RingCapture& operator=(const RingCapture&) = delete;

  int fd() const override { return fd_.get(); }
  size_t drain(PacketHandler& handler) override;
  void report(CounterSink& sink) const override;

  const RingCaptureStats& stats() const;
  std::string describe() const;
  // The fanout group this ring belongs to (0: none).
  uint16_t fanout_group() const { return fanout_group_; }
  // Where the online answers go (see RingCaptureOptions::answer_snaplen).
  void deliver_answers_to(PacketHandler& answers) { answers_ = &answers; }

 private:
  static constexpr size_t kMaxBlocksPerDrain = 64;  // so one source cannot starve the loop

  void read_kernel_stats() const;
  void join_fanout(const RingCaptureOptions& o);

  UniqueFd fd_;
  uint8_t* ring_ = nullptr;
  size_t block_bytes_ = 0;
  size_t block_count_ = 0;
  size_t next_block_ = 0;
  bool with_answers_ = false;
  PacketHandler* answers_ = nullptr;
  uint16_t fanout_group_ = 0;
  uint16_t fanout_members_ = 0;
  mutable RingCaptureStats stats_;
};

// The bond and bridge ports of this host:
// their packets show up again on the master. Read from /sys/class/net.
std::vector<int> enslaved_interfaces();

}  // namespace tc

// Sends the engine's rewritten packets as whole Ethernet frames on one
// interface (-o), to the next hop's MAC address, through a packet socket's
// transmit ring (PACKET_TX_RING, TPACKET_V2): frames are written into memory
// shared with the kernel and one send() hands over the whole batch. The
// frames skip the online server's routing, netfilter and conntrack, but
// not the interface's queueing discipline. Like the raw sender it queues
// packets until flush(), never blocks (a frame still in flight is never
// waited for: the packet is dropped and counted) and only sends to the
// configured targets.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/counters.h"
#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/unique_fd.h"
#include "copy/send/destination_filter.h"
#include "copy/send/packet_sender.h"

namespace tc {

struct LinkSenderOptions {
  std::string interface;                 // -o
  std::vector<IpAddress> targets;        // the only destinations allowed
  // --dst-mac: the next hop of every target. Without it each target's MAC
  // is looked up in /proc/net/arp on `interface` at start-up (IPv4 only).
  std::optional<MacAddress> next_hop;
  // The default sender's rings: no next hop at start; set_next_hop() gives
  // each as the kernel's neighbour table does.
  bool follow = false;
  size_t slot_size = 1500;               // IP bytes per packet (the MTU)
  size_t batch = 64;                     // packets queued before a send
  size_t ring_frames = 512;              // frames in the transmit ring
};

struct LinkSenderStats {
  static constexpr size_t kErrnoSlots = 135;  // errno values; the last slot: others

  TC_COUNTER_FIELDS(TC_SEND_COUNTERS)  // bytes_sent: frame bytes
  void report_sent(CounterSink& sink) const { TC_COUNTER_REPORT(TC_SEND_COUNTERS, sink); }
  uint64_t ring_full = 0;              // every frame still in flight: the packet is dropped
  // A send that failed (ENOBUFS, ENETDOWN, EMSGSIZE, ...) drops the frames
  // it had not handed to the device yet; counted by errno.
  std::array<uint64_t, kErrnoSlots> dropped{};

  uint64_t dropped_by(int err) const;
};

// The memory of a transmit ring: `frames` slots of `frame_size` bytes,
// each a struct tpacket2_hdr followed by the frame at kFrameOffset. With
// `vnet_header` (PACKET_VNET_HDR) the frame is led by a struct
// virtio_net_hdr whose hdr_len covers it all: the kernel copies the frame
// into the packet instead of attaching the ring's page, which the receiving
// side would have to copy again (and which stays busy until it does).
struct TxRingMemory {
  static constexpr size_t kFrameOffset = 32;  // TPACKET_ALIGN(sizeof(tpacket2_hdr))
  static constexpr size_t kVnetHeader = 10;   // sizeof(virtio_net_hdr)

  uint8_t* base = nullptr;
  size_t frame_size = 0;
  size_t frames = 0;
  bool vnet_header = false;
};

// The send() that hands the ring's requested frames to the kernel, behind
// a seam so tests can play the kernel's part and make it fail.
class RingOps {
 public:
  virtual ~RingOps() = default;
  // Bytes handed to the device, or -errno.
  virtual ssize_t kick(int fd) = 0;
};
RingOps& system_ring_ops();

class LinkSender final : public PacketSender {
 public:
  static constexpr size_t kEthernetHeader = 14;

  struct NextHop {
    IpAddress target;
    MacAddress mac;
  };

  // Opens a packet socket on `interface` (an Ethernet interface whose MTU
  // holds slot_size) with its transmit ring, reads the interface's MAC
  // address and finds every target's next hop. Throws std::runtime_error
  // ("cannot send on eth9: ...").
  explicit LinkSender(const LinkSenderOptions& options);
  // Tests: ring memory the caller owns (frames of `ring.frame_size` bytes,
  // every status TP_STATUS_AVAILABLE) and a fake `ops` playing the kernel.
  LinkSender(const LinkSenderOptions& options, RingOps& ops, TxRingMemory ring, MacAddress source,
             std::vector<NextHop> next_hops);

  LinkSender(const LinkSender&) = delete;
  LinkSender& operator=(const LinkSender&) = delete;

  std::span<uint8_t> acquire(const IpAddress& dst) override;
  void commit(size_t len) override;
  size_t flush() override;
  void set_before_send(std::function<void()> hook) override { before_send_ = std::move(hook); }
  void report(CounterSink& sink) const override;

  // Where frames to `target` go from now on; nullopt: nowhere (a packet
  // to it is refused). Not on the data path: the neighbour table changed.
  void set_next_hop(const IpAddress& target, std::optional<MacAddress> mac);
  // The interface's MAC changed.
  void set_source_mac(const MacAddress& mac) { source_ = mac; }

  size_t queued() const { return queued_; }
  size_t slot_size() const { return slot_size_; }
  const LinkSenderStats& stats() const { return stats_; }
  const std::vector<NextHop>& next_hops() const { return next_hops_; }
  const MacAddress& source_mac() const { return source_; }
  size_t ring_frames() const { return ring_.frames; }
  bool copies_frames() const { return lead_ != 0; }  // vnet headers in use

  // The frame size a ring needs for packets of `slot_size` bytes.
  static size_t frame_size_for(size_t slot_size);

 private:
  struct Link;
  static Link open_link(const LinkSenderOptions& options);
  LinkSender(const LinkSenderOptions& options, RingOps& ops, Link link);

  uint8_t* header(size_t i) const { return ring_.base + i * ring_.frame_size; }
  // Where frame i's Ethernet header goes.
  uint8_t* frame(size_t i) const { return header(i) + TxRingMemory::kFrameOffset + lead_; }
  const MacAddress* next_hop_for(std::span<const uint8_t> packet, bool v6) const;

  // The kernel's ring, unmapped before the socket closes.
  class Mapping {
   public:
    Mapping() = default;
    Mapping(void* base, size_t bytes) : base_(base), bytes_(bytes) {}
    Mapping(Mapping&& o) noexcept : base_(std::exchange(o.base_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
      std::swap(base_, o.base_);
      std::swap(bytes_, o.bytes_);
      return *this;
    }
    ~Mapping();

   private:
    void* base_ = nullptr;
    size_t bytes_ = 0;
  };

  RingOps& ops_;
  UniqueFd fd_;
  Mapping mapping_;  // empty when the caller owns the ring
  TxRingMemory ring_;
  size_t lead_;  // bytes before the Ethernet header: the vnet header, if any
  MacAddress source_;
  std::vector<NextHop> next_hops_;
  DestinationFilter allowed_;
  size_t slot_size_;
  size_t batch_;
  size_t first_ = 0;   // the first queued frame (the kernel's next one)
  size_t queued_ = 0;  // frames requested since the last send
  std::vector<uint32_t> lengths_;  // frame length of each queued frame, from first_
  std::unique_ptr<uint8_t[]> spare_;  // handed out when no frame is free
  bool acquired_ = false;
  bool acquired_spare_ = false;
  std::function<void()> before_send_;
  LinkSenderStats stats_;
};

}  // namespace tc

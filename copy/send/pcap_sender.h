// Sends the engine's rewritten packets as whole Ethernet frames with
// pcap_inject on one interface (-o), to the next hop's MAC address. The
// frames skip the online server's routing, netfilter and conntrack. Like
// the raw sender it queues packets until flush(), never blocks (the socket
// is non-blocking: a full queue drops and counts) and only sends to the
// configured targets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/pcap_io.h"
#include "copy/send/destination_filter.h"
#include "copy/send/packet_sender.h"

namespace tc {

struct PcapSenderOptions {
  std::string interface;                 // -o
  std::vector<IpAddress> targets;        // the only destinations allowed
  // --dst-mac: the next hop of every target. Without it each target's MAC
  // is looked up in /proc/net/arp on `interface` at start-up (IPv4 only).
  std::optional<MacAddress> next_hop;
  size_t slot_size = 1500;               // IP bytes per packet (the MTU)
  size_t batch = 64;                     // packets queued before a send
};

struct PcapSenderStats {
  static constexpr size_t kErrnoSlots = 135;  // errno values; the last slot: others

  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;           // frame bytes
  uint64_t refused_destination = 0;  // not a configured target: never sent
  uint64_t malformed = 0;            // not a whole IPv4/IPv6 header, or longer than a slot
  std::array<uint64_t, kErrnoSlots> inject_errors{};  // by errno; the frame is skipped
  std::array<uint64_t, kErrnoSlots> dropped_full{};   // EAGAIN/ENOBUFS; the rest of the batch is dropped

  uint64_t errors(int err) const;
  uint64_t dropped(int err) const;
};

// The pcap_inject call behind a seam, so tests can make it fail.
class InjectOps {
 public:
  virtual ~InjectOps() = default;
  // Bytes sent, or -errno.
  virtual int inject(pcap_t* handle, std::span<const uint8_t> frame) = 0;
};
InjectOps& system_inject_ops();

class PcapSender final : public PacketSender {
 public:
  static constexpr size_t kEthernetHeader = 14;

  struct NextHop {
    IpAddress target;
    MacAddress mac;
  };

  // Opens `interface` for sending (an Ethernet interface), reads its MAC
  // address and finds every target's next hop. Throws std::runtime_error
  // ("cannot send on eth9: ...").
  explicit PcapSender(const PcapSenderOptions& options);
  // Tests: any handle (may be empty) and a fake `ops`.
  PcapSender(const PcapSenderOptions& options, InjectOps& ops, PcapHandle handle, MacAddress source,
             std::vector<NextHop> next_hops);

  PcapSender(const PcapSender&) = delete;
  PcapSender& operator=(const PcapSender&) = delete;

  std::span<uint8_t> acquire() override;
  void commit(size_t len) override;
  size_t flush() override;
  void set_before_send(std::function<void()> hook) override { before_send_ = std::move(hook); }
  void report(CounterSink& sink) const override;

  size_t queued() const { return queued_; }
  size_t slot_size() const { return slot_size_; }
  const PcapSenderStats& stats() const { return stats_; }
  const std::vector<NextHop>& next_hops() const { return next_hops_; }
  const MacAddress& source_mac() const { return source_; }

 private:
  struct Link {
    PcapHandle handle;
    MacAddress source;
    std::vector<NextHop> next_hops;
  };
  static Link open_link(const PcapSenderOptions& options);
  PcapSender(const PcapSenderOptions& options, InjectOps& ops, Link link);

  uint8_t* frame(size_t i) { return frames_.get() + i * (kEthernetHeader + slot_size_); }
  const MacAddress* next_hop_for(std::span<const uint8_t> packet, bool v6) const;

  InjectOps& ops_;
  PcapHandle handle_;
  MacAddress source_;
  std::vector<NextHop> next_hops_;
  DestinationFilter allowed_;
  size_t slot_size_;
  size_t batch_;
  std::unique_ptr<uint8_t[]> frames_;
  std::vector<uint32_t> lengths_;  // frame length of each queued slot
  size_t queued_ = 0;
  bool acquired_ = false;
  std::function<void()> before_send_;
  PcapSenderStats stats_;
};

}  // namespace tc

// The default sender: each target's copies leave by the route the kernel
// has for it. Where that route's interface frames Ethernet, they go out a
// transmit ring on it (one LinkSender per interface in use) to the next
// hop's MAC, which NextHopFollower keeps current from rtnetlink; where it
// does not (loopback, ip-in-ip, GRE, WireGuard, tun), or while the next
// hop's MAC is not known yet, or where the ring cannot be opened, they go
// through raw sockets and the kernel routes them (and resolves the
// neighbour). A packet sent that way is counted by why:
// send_fallback{no_route, no_ethernet, no_neighbour, no_ring,
// stale_neighbour}.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/log.h"
#include "copy/send/link_sender.h"
#include "copy/send/next_hop_follower.h"
#include "copy/send/packet_sender.h"
#include "copy/send/rtnetlink_socket.h"

namespace tc {

enum class FallbackReason : uint8_t {
  kNoRoute,      // the kernel has not given the target's route (yet), or has none
  kNoEthernet,   // the route's interface has no Ethernet framing
  kNoNeighbour,  // the next hop's MAC is not known (yet): the kernel resolves it
  kNoRing,       // the interface's transmit ring could not be opened
  // The next hop's entry went stale: one copy goes through the kernel, which
  // then confirms the entry (or learns the neighbour's new MAC).
  kStaleNeighbour,
  kCount
};
const char* to_string(FallbackReason r);

struct RouteSenderOptions {
  std::vector<IpAddress> targets;
  size_t slot_size = 1500;  // IP bytes per packet (the MTU)
  size_t batch = 64;
  size_t ring_frames = 512;
};

class RouteSender final : public PacketSender {
 public:
  // Opens the ring on an interface (LinkSender), or throws why not.
  using RingFactory = std::function<std::unique_ptr<LinkSender>(const FollowedLink&)>;

  // Opens the raw sockets (throws as RawSender does) and the rtnetlink
  // socket, waits a moment for the kernel's routes and neighbours, and
  // opens a ring on each Ethernet interface they use. Rings that cannot be
  // opened leave their targets on raw sockets (logged). Throws
  // std::system_error when rtnetlink cannot be used at all.
  RouteSender(const RouteSenderOptions& options, Logger& log);
  // Tests: `raw` for the fallback, rings from `rings`, and no socket: the
  // caller plays the kernel on follower() and calls apply().
  RouteSender(const RouteSenderOptions& options, Logger& log, std::unique_ptr<PacketSender> raw, RingFactory rings);

  RouteSender(const RouteSender&) = delete;
  RouteSender& operator=(const RouteSender&) = delete;

  std::span<uint8_t> acquire(const IpAddress& dst) override;
  void commit(size_t len) override;
  size_t flush() override;
  void set_before_send(std::function<void()> hook) override;
  void report(CounterSink& sink) const override;
  int event_fd() const override;
  void on_readable() override;

  NextHopFollower& follower() { return follower_; }
  // Brings the paths in line with what the follower knows.
  void apply();
  // What the start-up log line says: each target's path.
  std::string describe() const;
  uint64_t fallbacks(FallbackReason r) const { return fallback_[static_cast<size_t>(r)]; }
  // The ring a target's packets go out, or nullptr (raw sockets).
  const LinkSender* ring_of(const IpAddress& target) const;

 private:
  struct Path {
    LinkSender* ring = nullptr;  // the target's interface's ring, if any
    bool mac = false;            // the ring knows the next hop's MAC
    bool stale = false;          // the next hop's entry is stale
    bool confirm = false;        // the next copy goes through the kernel
    FallbackReason why = FallbackReason::kNoRoute;
  };
  struct Ring {
    unsigned ifindex = 0;
    std::unique_ptr<LinkSender> sender;
    std::string failure;  // why it could not be opened
    std::string name;
  };
  Ring& ring_for(const FollowedLink& link);
  size_t target_index(const IpAddress& dst) const;
  std::string path_text(size_t i) const;

  Logger& log_;
  RouteSenderOptions options_;
  size_t slot_size_;
  std::unique_ptr<PacketSender> raw_;
  RingFactory make_ring_;
  std::unique_ptr<RtnetlinkSocket> netlink_;  // none in tests
  NextHopFollower follower_;
  std::vector<Ring> rings_;
  std::vector<Path> paths_;
  std::vector<std::string> shown_;  // each target's path as last logged
  // Where the packet being built (acquire() to commit()) goes, and its
  // target's index.
  struct Pending {
    PacketSender* out = nullptr;
    size_t target = ~size_t{0};
  };
  Pending pending_;
  uint64_t applied_ = ~uint64_t{0};
  std::array<uint64_t, static_cast<size_t>(FallbackReason::kCount)> fallback_{};
  std::function<void()> before_send_;
};

}  // namespace tc

// Follows, for each target, the kernel's route and the next hop's MAC
// address, from rtnetlink messages: pure logic, messages in, state and
// requests out (the socket is rtnetlink_socket.*).
//
// For each target the route (RTM_GETROUTE) gives the output interface and
// the gateway, or none when the target is on-link; the interface
// (RTM_GETLINK) tells whether it frames Ethernet; the neighbour table
// (RTM_GETNEIGH) gives the next hop's MAC while its entry is usable
// (REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP). An absent entry is
// resolved by the kernel when asked (RTM_NEWNEIGH with NTF_USE); a stale one
// is asked to be confirmed the same way. Notifications (RTNLGRP_NEIGH, the
// IPv4 and IPv6 route groups, RTNLGRP_LINK) keep it current: a neighbour's
// new MAC, a failed neighbour, a route that moved, an interface's new MAC.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/mac_address.h"

struct nlmsghdr;

namespace tc {

// An interface a target's route uses, as RTM_NEWLINK describes it.
struct FollowedLink {
  unsigned ifindex = 0;
  bool known = false;  // its RTM_NEWLINK arrived
  std::string name;
  uint16_t type = 0;   // ARPHRD_*
  unsigned flags = 0;  // IFF_*
  unsigned mtu = 0;
  std::optional<MacAddress> mac;

  // Frames Ethernet: a transmit ring can send on it.
  bool ethernet() const;
};

struct FollowedTarget {
  IpAddress target;
  bool route_known = false;  // the kernel answered with a route
  std::string route_error;   // the kernel's refusal ("Network is unreachable")
  unsigned ifindex = 0;
  std::optional<IpAddress> gateway;  // none: on-link
  std::optional<MacAddress> mac;     // the next hop's, while usable
  uint16_t neighbour_state = 0;      // NUD_*, 0 before any answer

  const IpAddress& next_hop() const { return gateway ? *gateway : target; }
};

class NextHopFollower {
 public:
  // `portid`: the netlink port of the socket the requests leave by; the
  // kernel's answers carry it, notifications do not.
  explicit NextHopFollower(std::vector<IpAddress> targets, uint32_t portid = 0);

  // Asks for every target's route.
  void start();
  // Notifications were lost (ENOBUFS): asks for everything again.
  void resync();
  // One datagram read from the socket: one or more netlink messages.
  void on_datagram(std::span<const uint8_t> datagram);

  // The requests to send, one netlink message each, in order; the caller
  // sends and clears them.
  std::vector<std::vector<uint8_t>>& requests() { return requests_; }

  const std::vector<FollowedTarget>& targets() const { return targets_; }
  // The interface, once any target's route used it; nullptr otherwise.
  const FollowedLink* link(unsigned ifindex) const;
  // Route, link and neighbour questions still unanswered (resolutions
  // asked of the kernel are not waited for).
  bool settled() const;
  // Grows with every change of a target's route, next hop (its MAC or
  // its state) or interface.
  uint64_t generation() const { return generation_; }

 private:
  enum class Ask : uint8_t { kRoute, kLink, kNeighbour, kResolve };
  struct Pending {
    uint32_t seq;
    Ask ask;
    size_t index;  // a target, or an ifindex for kLink
  };

  void on_message(const ::nlmsghdr* nlh);
  void on_route(const ::nlmsghdr* nlh, const Pending* answer);
  void on_link(const ::nlmsghdr* nlh, bool removed);
  void on_neighbour(const ::nlmsghdr* nlh, bool removed, const Pending* answer);
  void on_error(const ::nlmsghdr* nlh, const Pending& p);
  std::optional<Pending> take_pending(const ::nlmsghdr* nlh);
  FollowedLink& link_entry(unsigned ifindex);
  // The route is known: asks for its interface and next hop as needed.
  void follow_next_hop(size_t i);
  void ask_route(size_t i);
  void ask_link(unsigned ifindex);
  void ask_neighbour(size_t i);
  void ask_resolve(size_t i, bool create);
  uint8_t* put_header(std::vector<uint8_t>& buf, uint16_t type, uint16_t flags, Ask ask, size_t index);

  std::vector<FollowedTarget> targets_;
  std::vector<FollowedLink> links_;
  std::vector<Pending> pending_;
  std::vector<std::vector<uint8_t>> requests_;
  uint32_t portid_;
  uint32_t seq_ = 1;
  uint64_t generation_ = 0;
  bool requery_v4_ = false;
  bool requery_v6_ = false;
};

}  // namespace tc

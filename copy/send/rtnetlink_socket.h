// The netlink side of NextHopFollower: a non-blocking NETLINK_ROUTE socket
// (libmnl) joined to the neighbour, IPv4 route, IPv6 route and link
// notification groups. It sends the follower's requests and hands it what
// the kernel says.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "copy/send/next_hop_follower.h"

struct mnl_socket;

namespace tc {

class RtnetlinkSocket {
 public:
  // Throws std::system_error ("rtnetlink: ...").
  RtnetlinkSocket();

  int fd() const;
  uint32_t portid() const;
  // Sends the follower's requests, then reads every datagram waiting and
  // hands them to it, until the socket is empty. Lost notifications
  // (ENOBUFS) make the follower ask again. Returns the datagrams read.
  size_t exchange(NextHopFollower& follower);
  // Exchanges until the follower is settled or `limit` has passed.
  void settle(NextHopFollower& follower, std::chrono::milliseconds limit);
  uint64_t resyncs() const { return resyncs_; }
  uint64_t send_errors() const { return send_errors_; }

 private:
  struct Close {
    void operator()(mnl_socket* s) const;
  };
  void send_requests(NextHopFollower& follower);

  std::unique_ptr<mnl_socket, Close> socket_;
  std::vector<uint8_t> buffer_;
  uint64_t resyncs_ = 0;
  uint64_t send_errors_ = 0;
};

}  // namespace tc

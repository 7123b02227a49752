#include "copy/send/rtnetlink_socket.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/clock.h"

namespace tc {

namespace {

constexpr size_t kBufferBytes = 64 << 10;
constexpr int kReceiveBuffer = 1 << 20;

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), std::string("rtnetlink: ") + what);
}

}  // namespace

void RtnetlinkSocket::Close::operator()(mnl_socket* s) const { mnl_socket_close(s); }

RtnetlinkSocket::RtnetlinkSocket() : buffer_(kBufferBytes) {
  socket_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!socket_) fail("socket");
  if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) != 0) fail("bind");
  for (int group : {RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK})
    if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
      fail("join a notification group");
  // Many neighbours change at once on a busy segment; a full buffer loses
  // notifications (ENOBUFS, then everything is asked again).
  int size = kReceiveBuffer;
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

int RtnetlinkSocket::fd() const { return mnl_socket_get_fd(socket_.get()); }
uint32_t RtnetlinkSocket::portid() const { return mnl_socket_get_portid(socket_.get()); }

void RtnetlinkSocket::send_requests(NextHopFollower& follower) {
  for (const std::vector<uint8_t>& r : follower.requests())
    if (mnl_socket_sendto(socket_.get(), r.data(), r.size()) < 0) ++send_errors_;
  follower.requests().clear();
}

size_t RtnetlinkSocket::exchange(NextHopFollower& follower) {
  send_requests(follower);
  size_t datagrams = 0;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        ++resyncs_;
        follower.resync();
        send_requests(follower);
        continue;
      }
      break;  // EAGAIN: empty
    }
    ++datagrams;
    follower.on_datagram(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(n)));
    send_requests(follower);
  }
  return datagrams;
}

void RtnetlinkSocket::settle(NextHopFollower& follower, std::chrono::milliseconds limit) {
  const TimePoint end = monotonic_now() + limit;
  exchange(follower);
  while (!follower.settled()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - monotonic_now());
    if (left.count() <= 0) return;
    pollfd p{fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return;
    exchange(follower);
  }
}

}  // namespace tc

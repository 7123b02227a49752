// intercept's side of the control channel: bytes from a peer, through a
// socket pair, into ControlConnection with a real route table; with and
// without a shared secret. Nothing may reach the route table before the
// handshake is through.
#include <sys/socket.h>

#include <vector>

#include "fuzz/fuzz_target.h"
#include "intercept/control/control_connection.h"

namespace {

using namespace tc;
using namespace tc::intercept;

class CountingSink : public ReplySink {
 public:
  bool deliver(ConnId, const RoutedReply& reply) override {
    TC_FUZZ_CHECK(!reply.bytes.empty() && reply.bytes.size() <= wire::kMaxReplyEntry);
    TC_FUZZ_CHECK(reply.header_len <= reply.bytes.size());
    return true;
  }
};

}  // namespace

TC_FUZZ_TARGET(control) {
  FuzzInput in(data, size);
  const bool with_secret = in.flag();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  UniqueFd peer(fds[1]);
  const SharedSecret secret(std::vector<uint8_t>(32, 's'));
  RouteTable::Config rc;
  rc.hash_size = 64;
  rc.park_capacity = 64;
  RouteTable routes(rc);
  CountingSink sink;
  ControlCounters counters;
  const TimePoint now = monotonic_now();
  ControlConnection conn(1, UniqueFd(fds[0]), Endpoint{*IpAddress::parse("10.0.0.1"), 4000}, 1 << 20,
                         with_secret ? &secret : nullptr, now);
  while (!in.empty()) {
    const auto chunk = in.bytes(1 + in.u16() % 4096);
    if (::send(peer.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    const auto reason = conn.on_readable(routes, sink, now, counters);
    TC_FUZZ_CHECK(!reason || *reason < CloseReason::kCount);
    if (with_secret && !conn.said_hello()) TC_FUZZ_CHECK(routes.route_count() == 0 && routes.client_count() == 0);
    // A reply of the target for some session: headers and some payload,
    // cut to the prefix the peer's hello asked for.
    const uint8_t bytes[40 + 300] = {0x45};
    const RoutedReply reply{bytes, 40};
    if (conn.said_hello()) {
      TC_FUZZ_CHECK(conn.payload_prefix() <= wire::kMaxReplyPrefix);
      routes.on_reply(SessionKey{*IpAddress::parse("10.9.0.1"), *IpAddress::parse("10.9.0.2"), 1, 2}, reply, now,
                      sink);
      TC_FUZZ_CHECK(reply.with_prefix(conn.payload_prefix()).size() == 40u + conn.payload_prefix());
    }
    (void)conn.flush();
    if (reason) break;
  }
  TC_FUZZ_CHECK(counters.authenticated <= 1);
  return 0;
}

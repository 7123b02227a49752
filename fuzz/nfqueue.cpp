// intercept's data path: netlink datagrams as the kernel would queue them,
// through NfqueueSource (message parsing, verdict batching) into the reply
// dispatcher and route table. Every queued packet must get exactly one
// verdict and no reply may leave on a connection that did not register it.
#include <linux/netlink.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "intercept/nfqueue/nfqueue_source.h"
#include "intercept/reply_dispatcher.h"

namespace {

using namespace tc;
using namespace tc::intercept;

class FeedTransport : public QueueTransport {
 public:
  int receive(std::span<ReceivedDatagram> slots) override {
    if (queue.empty()) return -EAGAIN;
    if (fail_next) {
      fail_next = false;
      return -ENOBUFS;
    }
    size_t n = 0;
    while (n < slots.size() && !queue.empty()) {
      const std::vector<uint8_t>& d = queue.front();
      const size_t len = std::min(d.size(), slots[n].buffer.size());
      if (len > 0) std::memcpy(slots[n].buffer.data(), d.data(), len);
      slots[n].length = len;
      slots[n].truncated = d.size() > slots[n].buffer.size();
      queue.pop_front();
      ++n;
    }
    return static_cast<int>(n);
  }
  int send(std::span<const uint8_t> messages) override {
    TC_FUZZ_CHECK(!messages.empty() && messages.size() % NLMSG_ALIGNTO == 0);
    ++sends;
    return 0;
  }
  std::deque<std::vector<uint8_t>> queue;
  bool fail_next = false;
  uint64_t sends = 0;
};

class RecordingSink : public ReplySink {
 public:
  bool deliver(ConnId conn, const RoutedReply& reply) override {
    TC_FUZZ_CHECK(conn == 1);
    TC_FUZZ_CHECK(!reply.bytes.empty() && reply.bytes.size() <= wire::kMaxReplyEntry);
    TC_FUZZ_CHECK(reply.header_len > 0 && reply.header_len <= reply.bytes.size());
    TC_FUZZ_CHECK(reply.bytes.size() - reply.header_len <= wire::kMaxReplyPrefix);
    return true;
  }
};

}  // namespace

TC_FUZZ_TARGET(nfqueue) {
  FuzzInput in(data, size);
  RouteTable::Config rc;
  rc.hash_size = 64;
  rc.park_capacity = 64;
  RouteTable routes(rc);
  RecordingSink sink;
  const TimePoint now{std::chrono::seconds(50)};
  routes.connection_up(1, *IpAddress::parse("10.0.0.9"), 7);
  // Sessions of the kind the seeds carry.
  for (uint16_t port : {uint16_t{80}, uint16_t{6379}})
    routes.register_key(1, SessionKey{*IpAddress::parse("10.77.1.2"), *IpAddress::parse("10.77.2.2"), 0, port}, now,
                        sink);
  ReplyDispatcher dispatcher({*IpAddress::parse("10.77.1.3")}, routes, sink);
  dispatcher.set_now(now);
  FeedTransport transport;
  NfqueueSource source(transport, 0, 1 + in.u8() % 8);
  while (!in.empty()) {
    const uint8_t op = in.u8();
    if (op % 8 == 0) {
      transport.fail_next = true;
    } else {
      const auto d = in.bytes(in.u16() % 9000);
      transport.queue.emplace_back(d.begin(), d.end());
    }
    if (op & 0x80) {
      const uint64_t before = source.counters().packets_queued;
      source.drain(dispatcher);
      const auto& c = source.counters();
      TC_FUZZ_CHECK(c.verdicts_accept + c.verdicts_drop == c.packets_queued);
      (void)before;
    }
  }
  source.drain(dispatcher, 1000);
  const auto& c = source.counters();
  TC_FUZZ_CHECK(c.verdicts_accept + c.verdicts_drop == c.packets_queued);
  TC_FUZZ_CHECK(c.verdicts_accept <= dispatcher.passed());
  routes.expire(now + std::chrono::hours(1));
  return 0;
}

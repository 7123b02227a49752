#include "copy/send/raw_sender.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "common/counters.h"
#include "common/tcp_builder.h"
#include "tests/unit/copy/io/queue_syn.h"

namespace tc {
namespace {

// These senders read where a packet goes from the packet itself; what
// acquire() is told does not matter to them.
const IpAddress kAnyDestination = *IpAddress::parse("10.1.1.1");

// Records every sendmmsg and answers from a script: n >= 0 sends the first
// n messages, a negative value fails the call with errno = -value. An empty
// script sends everything.
class FakeSendOps final : public SendOps {
 public:
  struct Call {
    int fd = -1;
    int flags = 0;
    std::vector<std::vector<uint8_t>> packets;
    std::vector<std::string> destinations;
  };

  int sendmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int flags) override {
    Call call{fd, flags, {}, {}};
    for (unsigned int i = 0; i < vlen; ++i) {
      const msghdr& h = msgs[i].msg_hdr;
      const auto* base = static_cast<const uint8_t*>(h.msg_iov[0].iov_base);
      call.packets.emplace_back(base, base + h.msg_iov[0].iov_len);
      char text[INET6_ADDRSTRLEN] = {};
      const auto* sa = static_cast<const sockaddr*>(h.msg_name);
      if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &static_cast<const sockaddr_in*>(h.msg_name)->sin_addr, text, sizeof text);
      else
        inet_ntop(AF_INET6, &static_cast<const sockaddr_in6*>(h.msg_name)->sin6_addr, text, sizeof text);
      call.destinations.emplace_back(text);
    }
    calls.push_back(std::move(call));
    if (script.empty()) return static_cast<int>(vlen);
    const int r = script.front();
    script.pop_front();
    if (r < 0) {
      errno = -r;
      return -1;
    }
    return std::min(r, static_cast<int>(vlen));
  }

  std::deque<int> script;
  std::vector<Call> calls;
};

UniqueFd dummy_socket() { return UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }

class RawSenderTest : public ::testing::Test {
 protected:
  void make(size_t batch = 64, std::vector<const char*> targets = {"10.1.1.1", "10.1.1.2", "2001:db8::9"},
            size_t slot = 1500) {
    RawSenderOptions o;
    for (const char* t : targets) o.targets.push_back(*IpAddress::parse(t));
    o.batch = batch;
    o.slot_size = slot;
    v4_fd = -1;
    v6_fd = -1;
    UniqueFd v4 = dummy_socket(), v6 = dummy_socket();
    v4_fd = v4.get();
    v6_fd = v6.get();
    sender = std::make_unique<RawSender>(o, ops, std::move(v4), std::move(v6));
  }

  void queue(const char* dst, uint32_t seq) { queue_syn(*sender, dst, seq); }

  static uint32_t seq_of(const std::vector<uint8_t>& p) {
    const size_t tcp = (p[0] >> 4) == 4 ? (p[0] & 0xfu) * 4u : 40u;
    return (uint32_t{p[tcp + 4]} << 24) | (uint32_t{p[tcp + 5]} << 16) | (uint32_t{p[tcp + 6]} << 8) | p[tcp + 7];
  }

  FakeSendOps ops;
  std::unique_ptr<RawSender> sender;
  int v4_fd = -1;
  int v6_fd = -1;
};

TEST_F(RawSenderTest, OneSendmmsgForManyPackets) {
  make();
  for (uint32_t i = 0; i < 10; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->queued(), 10u);
  EXPECT_TRUE(ops.calls.empty());  // nothing leaves before flush
  EXPECT_EQ(sender->flush(), 10u);
  ASSERT_EQ(ops.calls.size(), 1u);
  EXPECT_EQ(ops.calls[0].fd, v4_fd);
  EXPECT_TRUE(ops.calls[0].flags & MSG_DONTWAIT);
  ASSERT_EQ(ops.calls[0].packets.size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(seq_of(ops.calls[0].packets[i]), i);
    EXPECT_EQ(ops.calls[0].destinations[i], "10.1.1.1");
  }
  EXPECT_EQ(sender->stats().packets_sent, 10u);
  EXPECT_EQ(sender->stats().bytes_sent, 10u * 40u);
  EXPECT_EQ(sender->queued(), 0u);
  EXPECT_EQ(sender->flush(), 0u);  // nothing queued: no syscall
  EXPECT_EQ(ops.calls.size(), 1u);
}

TEST_F(RawSenderTest, FullSlotsAreFlushedByAcquire) {
  make(4);
  for (uint32_t i = 0; i < 5; ++i) queue("10.1.1.2", i);
  ASSERT_EQ(ops.calls.size(), 1u);
  EXPECT_EQ(ops.calls[0].packets.size(), 4u);
  EXPECT_EQ(sender->queued(), 1u);
  sender->flush();
  ASSERT_EQ(ops.calls.size(), 2u);
  EXPECT_EQ(seq_of(ops.calls[1].packets[0]), 4u);
}

TEST_F(RawSenderTest, HookRunsBeforeEverySend) {
  make(4);
  std::vector<size_t> calls_seen_by_hook;
  sender->set_before_send([&] { calls_seen_by_hook.push_back(ops.calls.size()); });
  EXPECT_EQ(sender->flush(), 0u);  // nothing queued: no hook, no syscall
  EXPECT_TRUE(calls_seen_by_hook.empty());
  for (uint32_t i = 0; i < 5; ++i) queue("10.1.1.1", i);  // the fifth acquire sends four
  sender->flush();
  EXPECT_EQ(calls_seen_by_hook, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(ops.calls.size(), 2u);
}

TEST_F(RawSenderTest, EagainAndEnobufsDropTheRestWithoutBlocking) {
  make();
  ops.script = {3, -EAGAIN};
  for (uint32_t i = 0; i < 10; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->flush(), 3u);
  EXPECT_EQ(ops.calls.size(), 2u);
  EXPECT_EQ(sender->stats().dropped(EAGAIN), 7u);
  EXPECT_EQ(sender->queued(), 0u);  // nothing kept for later

  ops.script = {-ENOBUFS};
  for (uint32_t i = 0; i < 5; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->flush(), 0u);
  EXPECT_EQ(sender->stats().dropped(ENOBUFS), 5u);
  EXPECT_EQ(sender->stats().total_dropped_full(), 12u);

  // The next batch goes out normally.
  for (uint32_t i = 0; i < 2; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->flush(), 2u);
  EXPECT_EQ(sender->stats().packets_sent, 5u);
}

TEST_F(RawSenderTest, ErrorSkipsOnePacketAndResumesAfterIt) {
  make();
  // Two go out, the third fails (sendmmsg reports the short count, then
  // the error on the retry), the rest go out.
  ops.script = {2, -EPERM, 100};
  for (uint32_t i = 0; i < 6; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->flush(), 5u);
  ASSERT_EQ(ops.calls.size(), 3u);
  EXPECT_EQ(ops.calls[0].packets.size(), 6u);
  EXPECT_EQ(ops.calls[1].packets.size(), 4u);
  EXPECT_EQ(seq_of(ops.calls[1].packets[0]), 2u);
  ASSERT_EQ(ops.calls[2].packets.size(), 3u);
  EXPECT_EQ(seq_of(ops.calls[2].packets[0]), 3u);
  EXPECT_EQ(sender->stats().errors(EPERM), 1u);
  EXPECT_EQ(sender->stats().packets_sent, 5u);
}

TEST_F(RawSenderTest, EveryKindOfErrorIsCountedByName) {
  make();
  ops.script = {-EMSGSIZE, -EPERM, -EHOSTUNREACH, -EPERM};
  for (uint32_t i = 0; i < 5; ++i) queue("10.1.1.1", i);
  EXPECT_NO_THROW(EXPECT_EQ(sender->flush(), 1u));
  EXPECT_EQ(ops.calls.size(), 5u);
  EXPECT_EQ(sender->stats().errors(EMSGSIZE), 1u);
  EXPECT_EQ(sender->stats().errors(EPERM), 2u);
  EXPECT_EQ(sender->stats().errors(EHOSTUNREACH), 1u);

  CounterText text;
  sender->report(text);
  const std::string line = text.line();
  EXPECT_NE(line.find("send_errors{EPERM}=2"), std::string::npos) << line;
  EXPECT_NE(line.find("send_errors{EMSGSIZE}=1"), std::string::npos) << line;
  EXPECT_NE(line.find("send_errors{EHOSTUNREACH}=1"), std::string::npos) << line;
  EXPECT_NE(line.find("send_packets=1"), std::string::npos) << line;
}

TEST_F(RawSenderTest, InterruptedCallIsRetried) {
  make();
  ops.script = {-EINTR};
  for (uint32_t i = 0; i < 3; ++i) queue("10.1.1.1", i);
  EXPECT_EQ(sender->flush(), 3u);
  EXPECT_EQ(ops.calls.size(), 2u);
}

TEST_F(RawSenderTest, OnlyTargetsAreEverSentTo) {
  make();
  queue("10.1.1.3", 1);      // not a target
  queue("192.0.2.1", 2);     // not a target
  queue("2001:db8::8", 3);   // not a target
  queue("10.1.1.2", 4);
  EXPECT_EQ(sender->stats().refused_destination, 3u);
  EXPECT_EQ(sender->queued(), 1u);
  sender->flush();
  ASSERT_EQ(ops.calls.size(), 1u);
  ASSERT_EQ(ops.calls[0].packets.size(), 1u);
  EXPECT_EQ(ops.calls[0].destinations[0], "10.1.1.2");
}

TEST_F(RawSenderTest, V6PacketsRefusedWithoutV6Target) {
  make(64, {"10.1.1.1"});
  queue("2001:db8::9", 1);
  EXPECT_EQ(sender->stats().refused_destination, 1u);
  EXPECT_EQ(sender->queued(), 0u);
}

TEST_F(RawSenderTest, MalformedPacketsAreCountedNotSent) {
  make();
  auto buf = sender->acquire(kAnyDestination);
  std::memset(buf.data(), 0, 64);
  buf[0] = 0x45;
  sender->commit(19);  // shorter than an IPv4 header
  buf = sender->acquire(kAnyDestination);
  buf[0] = 0x55;  // IP version 5
  sender->commit(60);
  buf = sender->acquire(kAnyDestination);
  buf[0] = 0x60;
  sender->commit(39);  // shorter than an IPv6 header
  sender->acquire(kAnyDestination);
  sender->commit(sender->slot_size() + 1);
  EXPECT_EQ(sender->stats().malformed, 4u);
  sender->commit(40);  // no acquire before it: ignored
  sender->acquire(kAnyDestination);
  sender->commit(0);   // taken back
  EXPECT_EQ(sender->queued(), 0u);
  EXPECT_EQ(sender->flush(), 0u);
  EXPECT_TRUE(ops.calls.empty());
}

TEST_F(RawSenderTest, MixedVersionsGoToTheirSocketsInOrder) {
  make();
  queue("10.1.1.1", 1);
  queue("10.1.1.2", 2);
  queue("2001:db8::9", 3);
  queue("10.1.1.1", 4);
  EXPECT_EQ(sender->flush(), 4u);
  ASSERT_EQ(ops.calls.size(), 3u);
  EXPECT_EQ(ops.calls[0].fd, v4_fd);
  EXPECT_EQ(ops.calls[0].packets.size(), 2u);
  EXPECT_EQ(ops.calls[0].destinations[1], "10.1.1.2");
  EXPECT_EQ(ops.calls[1].fd, v6_fd);
  EXPECT_EQ(ops.calls[1].destinations[0], "2001:db8::9");
  EXPECT_EQ(seq_of(ops.calls[1].packets[0]), 3u);
  EXPECT_EQ(ops.calls[2].fd, v4_fd);
  EXPECT_EQ(seq_of(ops.calls[2].packets[0]), 4u);
}

TEST_F(RawSenderTest, SlotsAreAtLeast1500Bytes) {
  make(8, {"10.1.1.1"}, 576);
  EXPECT_EQ(sender->slot_size(), 1500u);
  EXPECT_EQ(sender->acquire(kAnyDestination).size(), 1500u);
  make(8, {"10.1.1.1"}, 9000);
  EXPECT_EQ(sender->acquire(kAnyDestination).size(), 9000u);
}

TEST(RawSenderOptionsTest, NoTargetIsAnError) {
  FakeSendOps ops;
  EXPECT_THROW(RawSender(RawSenderOptions{}, ops, dummy_socket(), dummy_socket()), std::invalid_argument);
}

}  // namespace
}  // namespace tc

#include "copy/capture/raw_capture.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <variant>
#include <vector>

#include "common/counters.h"

namespace tc {
namespace {

struct Datagram {
  std::vector<uint8_t> bytes;
  std::optional<uint32_t> drop_total;  // an SO_RXQ_OVFL cmsg
};
using Batch = std::vector<Datagram>;

// Answers recvmmsg from a script of batches or errno values; an empty
// script answers EAGAIN, like a drained socket.
class FakeRecvOps final : public RecvOps {
 public:
  int recvmmsg(int, mmsghdr* msgs, unsigned int vlen, int flags) override {
    ++calls;
    if (!(flags & MSG_DONTWAIT)) blocking_call = true;
    if (script.empty()) {
      errno = EAGAIN;
      return -1;
    }
    auto step = std::move(script.front());
    script.pop_front();
    if (const int* err = std::get_if<int>(&step)) {
      errno = *err;
      return -1;
    }
    const Batch& batch = std::get<Batch>(step);
    unsigned int n = 0;
    for (; n < vlen && n < batch.size(); ++n) {
      msghdr& h = msgs[n].msg_hdr;
      if (h.msg_controllen < CMSG_SPACE(sizeof(uint32_t))) control_not_reset = true;
      const Datagram& d = batch[n];
      const size_t room = h.msg_iov[0].iov_len;
      const size_t copied = std::min(room, d.bytes.size());
      std::memcpy(h.msg_iov[0].iov_base, d.bytes.data(), copied);
      msgs[n].msg_len = static_cast<unsigned int>(copied);
      h.msg_flags = d.bytes.size() > room ? MSG_TRUNC : 0;
      if (d.drop_total) {
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SO_RXQ_OVFL;
        c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
        std::memcpy(CMSG_DATA(c), &*d.drop_total, sizeof(uint32_t));
        h.msg_controllen = CMSG_SPACE(sizeof(uint32_t));
      } else {
        h.msg_controllen = 0;
      }
    }
    return static_cast<int>(n);
  }

  std::deque<std::variant<Batch, int>> script;
  int calls = 0;
  bool blocking_call = false;
  bool control_not_reset = false;
};

class Collect final : public PacketHandler {
 public:
  void on_packet(std::span<const uint8_t> p) override { packets.emplace_back(p.begin(), p.end()); }
  std::vector<std::vector<uint8_t>> packets;
};

std::vector<uint8_t> bytes(size_t n, uint8_t tag) {
  std::vector<uint8_t> v(n, tag);
  v[0] = 0x45;
  return v;
}

Batch full_batch() {
  Batch b;
  for (size_t i = 0; i < RawCapture::kBatch; ++i) b.push_back({bytes(60, static_cast<uint8_t>(i)), std::nullopt});
  return b;
}

RawCapture make(FakeRecvOps& ops) { return RawCapture(UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)), ops); }

TEST(RawCapture, DeliversABatchInOrder) {
  FakeRecvOps ops;
  ops.script.push_back(Batch{{bytes(60, 1), {}}, {bytes(1500, 2), {}}, {bytes(40, 3), {}}});
  RawCapture cap = make(ops);
  Collect c;
  EXPECT_EQ(cap.drain(c), 3u);
  ASSERT_EQ(c.packets.size(), 3u);
  EXPECT_EQ(c.packets[0], bytes(60, 1));
  EXPECT_EQ(c.packets[1], bytes(1500, 2));
  EXPECT_EQ(c.packets[2], bytes(40, 3));
  EXPECT_EQ(ops.calls, 1);  // a short batch means the queue is empty
  EXPECT_FALSE(ops.blocking_call);
  EXPECT_EQ(cap.stats().packets, 3u);
  EXPECT_EQ(cap.stats().bytes, 1600u);
  EXPECT_EQ(cap.drain(c), 0u);  // EAGAIN
  EXPECT_EQ(cap.stats().receive_errors[EAGAIN], 0u);
}

TEST(RawCapture, GroSizedPacketsFitAndLargerOnesAreTruncated) {
  FakeRecvOps ops;
  ops.script.push_back(Batch{{bytes(65535, 1), {}}, {bytes(70000, 2), {}}, {bytes(100, 3), {}}});
  RawCapture cap = make(ops);
  Collect c;
  EXPECT_EQ(cap.drain(c), 2u);
  ASSERT_EQ(c.packets.size(), 2u);
  EXPECT_EQ(c.packets[0].size(), 65535u);
  EXPECT_EQ(c.packets[1], bytes(100, 3));
  EXPECT_EQ(cap.stats().truncated, 1u);
}

TEST(RawCapture, DrainIsBoundedSoOtherSourcesGetTheirTurn) {
  FakeRecvOps ops;
  for (int i = 0; i < 40; ++i) ops.script.push_back(full_batch());
  RawCapture cap = make(ops);
  Collect c;
  EXPECT_EQ(cap.drain(c), RawCapture::kBatch * RawCapture::kMaxBatchesPerDrain);
  EXPECT_EQ(ops.calls, static_cast<int>(RawCapture::kMaxBatchesPerDrain));
  EXPECT_FALSE(ops.control_not_reset);
  EXPECT_EQ(cap.drain(c), RawCapture::kBatch * RawCapture::kMaxBatchesPerDrain);
}

TEST(RawCapture, KernelDropsFromRunningTotal) {
  FakeRecvOps ops;
  ops.script.push_back(Batch{{bytes(60, 1), 5u}, {bytes(60, 2), 5u}, {bytes(60, 3), 12u}, {bytes(60, 4), {}}});
  RawCapture cap = make(ops);
  Collect c;
  EXPECT_EQ(cap.drain(c), 4u);
  EXPECT_EQ(cap.stats().kernel_drops, 12u);
  // An older total seen late changes nothing.
  ops.script.push_back(Batch{{bytes(60, 1), 7u}});
  cap.drain(c);
  EXPECT_EQ(cap.stats().kernel_drops, 12u);
  // The 32-bit total wraps.
  ops.script.push_back(Batch{{bytes(60, 1), 0x70000000u}, {bytes(60, 1), 0xe0000000u}});
  ops.script.push_back(Batch{{bytes(60, 1), 0xfffffffeu}, {bytes(60, 1), 3u}});
  cap.drain(c);
  cap.drain(c);
  EXPECT_EQ(cap.stats().kernel_drops, uint64_t{1} << 32 | 3u);
  CounterText text;
  cap.report(text);
  EXPECT_NE(text.line().find("capture_kernel_drops="), std::string::npos);
}

TEST(RawCapture, TheIpv6SocketReportsUnderCapture6) {
  FakeRecvOps ops;
  RawCapture cap(UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)), ops, AF_INET6);
  CounterText text;
  cap.report(text);
  EXPECT_EQ(text.line(true), "capture6_packets=0 capture6_bytes=0 capture6_kernel_drops=0 capture6_truncated=0");
}

TEST(RawCapture, ErrorsAreCountedAndEintrRetried) {
  FakeRecvOps ops;
  ops.script.push_back(EINTR);
  ops.script.push_back(Batch{{bytes(60, 1), {}}});
  ops.script.push_back(ENOMEM);
  RawCapture cap = make(ops);
  Collect c;
  EXPECT_EQ(cap.drain(c), 1u);
  EXPECT_EQ(cap.drain(c), 0u);
  EXPECT_EQ(cap.stats().receive_errors[ENOMEM], 1u);
  CounterText text;
  cap.report(text);
  EXPECT_NE(text.line().find("capture_receive_errors{ENOMEM}=1"), std::string::npos) << text.line();
}

}  // namespace
}  // namespace tc

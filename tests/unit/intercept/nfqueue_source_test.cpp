#include "intercept/nfqueue/nfqueue_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <variant>

#include "intercept/nfqueue/nfqueue_messages.h"
#include "nfqueue_test_messages.h"

namespace tc::intercept {
namespace {

using testing::packet_message;
using testing::read_verdicts;
using testing::SentVerdict;

// Each receive() call consumes one step: a batch of datagrams or an errno.
class FakeTransport : public QueueTransport {
 public:
  using Step = std::variant<std::vector<std::vector<uint8_t>>, int>;
  std::deque<Step> steps;
  std::vector<std::vector<uint8_t>> sent;
  int send_result = 0;

  int receive(std::span<ReceivedDatagram> slots) override {
    if (steps.empty()) return -EAGAIN;
    Step step = std::move(steps.front());
    steps.pop_front();
    if (auto* err = std::get_if<int>(&step)) return -*err;
    auto& datagrams = std::get<0>(step);
    size_t n = std::min(datagrams.size(), slots.size());
    for (size_t i = 0; i < n; ++i) {
      const size_t len = std::min(datagrams[i].size(), slots[i].buffer.size());
      std::memcpy(slots[i].buffer.data(), datagrams[i].data(), len);
      slots[i].length = len;
      slots[i].truncated = len < datagrams[i].size();
    }
    return static_cast<int>(n);
  }
  int send(std::span<const uint8_t> messages) override {
    sent.emplace_back(messages.begin(), messages.end());
    return send_result;
  }
  std::vector<SentVerdict> all_verdicts() const {
    std::vector<SentVerdict> v;
    for (const auto& s : sent) {
      auto part = read_verdicts(s);
      v.insert(v.end(), part.begin(), part.end());
    }
    return v;
  }
};

// Accepts packets whose first payload byte is 'A'; records what it saw.
class ScriptedDecider : public PacketDecider {
 public:
  bool accept(std::span<const uint8_t> packet) override {
    seen.emplace_back(packet.begin(), packet.end());
    return !packet.empty() && packet[0] == 'A';
  }
  std::vector<std::vector<uint8_t>> seen;
};

std::vector<uint8_t> body(char c) { return std::vector<uint8_t>{static_cast<uint8_t>(c), 1, 2, 3}; }

TEST(NfqueueSource, BatchesDropsAndGivesAcceptsTheirOwnVerdict) {
  FakeTransport t;
  t.steps.push_back(std::vector<std::vector<uint8_t>>{
      packet_message(10, body('D'), 3), packet_message(11, body('D'), 3), packet_message(12, body('A'), 3),
      packet_message(13, body('D'), 3)});
  NfqueueSource src(t, 3, 8);
  ScriptedDecider d;
  EXPECT_EQ(src.drain(d), 4u);
  ASSERT_EQ(t.sent.size(), 1u);  // one send per batch
  EXPECT_EQ(t.all_verdicts(), (std::vector<SentVerdict>{{true, NF_DROP, 11, 3},
                                                        {false, NF_ACCEPT, 12, 3},
                                                        {true, NF_DROP, 13, 3}}));
  EXPECT_EQ(d.seen.size(), 4u);
  EXPECT_EQ(d.seen[2], body('A'));
  EXPECT_EQ(src.counters().packets_queued, 4u);
  EXPECT_EQ(src.counters().verdicts_drop, 3u);
  EXPECT_EQ(src.counters().verdicts_accept, 1u);
  EXPECT_EQ(src.counters().verdict_messages, 3u);
}

TEST(NfqueueSource, EnobufsIsCountedAndReadingGoesOn) {
  FakeTransport t;
  t.steps.push_back(ENOBUFS);
  t.steps.push_back(std::vector<std::vector<uint8_t>>{packet_message(5, body('D'))});
  NfqueueSource src(t, 0, 8);
  ScriptedDecider d;
  EXPECT_EQ(src.drain(d), 1u);
  EXPECT_EQ(src.counters().enobufs, 1u);
  EXPECT_EQ(t.all_verdicts(), (std::vector<SentVerdict>{{true, NF_DROP, 5, 0}}));
}

TEST(NfqueueSource, FullBatchesAreReadUntilTheSocketIsEmpty) {
  FakeTransport t;
  for (uint32_t round = 0; round < 3; ++round) {
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t i = 0; i < 4; ++i) batch.push_back(packet_message(round * 4 + i + 1, body('D')));
    t.steps.push_back(batch);
  }
  NfqueueSource src(t, 0, 4);
  ScriptedDecider d;
  EXPECT_EQ(src.drain(d), 12u);
  EXPECT_EQ(t.all_verdicts(),
            (std::vector<SentVerdict>{{true, NF_DROP, 4, 0}, {true, NF_DROP, 8, 0}, {true, NF_DROP, 12, 0}}));
}

TEST(NfqueueSource, DrainStopsAfterItsBudget) {
  FakeTransport t;
  for (uint32_t round = 0; round < 5; ++round)
    t.steps.push_back(std::vector<std::vector<uint8_t>>{packet_message(round + 1, body('D'))});
  NfqueueSource src(t, 0, 1);
  ScriptedDecider d;
  EXPECT_EQ(src.drain(d, 2), 2u);
  EXPECT_EQ(src.drain(d, 10), 3u);
}

TEST(NfqueueSource, PacketWithoutPayloadStillGetsAVerdict) {
  FakeTransport t;
  t.steps.push_back(std::vector<std::vector<uint8_t>>{packet_message(1, {})});
  NfqueueSource src(t, 0, 4);
  ScriptedDecider d;
  src.drain(d);
  ASSERT_EQ(d.seen.size(), 1u);
  EXPECT_TRUE(d.seen[0].empty());
  EXPECT_EQ(t.all_verdicts(), (std::vector<SentVerdict>{{true, NF_DROP, 1, 0}}));
}

TEST(NfqueueSource, KernelErrorsAndGarbageAreCountedNotFatal) {
  FakeTransport t;
  std::vector<uint8_t> garbage(3, 0xff);
  auto no_header = packet_message(1, body('D'));
  // Corrupt the packet header attribute's type so the id cannot be read.
  reinterpret_cast<nlattr*>(no_header.data() + sizeof(nlmsghdr) + sizeof(nfgenmsg))->nla_type = 999;
  t.steps.push_back(std::vector<std::vector<uint8_t>>{testing::error_message(-ENOENT, 0), garbage, no_header,
                                                      packet_message(2, body('D'))});
  NfqueueSource src(t, 0, 8);
  ScriptedDecider d;
  EXPECT_EQ(src.drain(d), 1u);
  EXPECT_EQ(src.counters().verdict_errors, 1u);
  EXPECT_EQ(src.counters().bad_messages, 1u);
  EXPECT_EQ(t.all_verdicts(), (std::vector<SentVerdict>{{true, NF_DROP, 2, 0}}));
}

TEST(NfqueueSource, SendFailureIsCounted) {
  FakeTransport t;
  t.send_result = -ENOMEM;
  t.steps.push_back(std::vector<std::vector<uint8_t>>{packet_message(1, body('D'))});
  NfqueueSource src(t, 0, 4);
  ScriptedDecider d;
  src.drain(d);
  EXPECT_EQ(src.counters().verdict_send_errors, 1u);
}

TEST(NfqueueMessages, SettingsRequestAsksForAckAndHeadersOnly) {
  std::array<uint8_t, nfq::kConfigBufferSize> buf{};
  const size_t len = nfq::put_settings_request(buf, 7, 4096, 42);
  ASSERT_GT(len, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
  EXPECT_TRUE(nlh->nlmsg_flags & NLM_F_ACK);
  EXPECT_EQ(nlh->nlmsg_seq, 42u);
  const nlattr* attr[NFQA_CFG_MAX + 1] = {};
  mnl_attr_parse(
      nlh, sizeof(nfgenmsg),
      [](const nlattr* a, void* data) -> int {
        auto** table = static_cast<const nlattr**>(data);
        if (mnl_attr_get_type(a) <= NFQA_CFG_MAX) table[mnl_attr_get_type(a)] = a;
        return MNL_CB_OK;
      },
      attr);
  ASSERT_TRUE(attr[NFQA_CFG_PARAMS]);
  nfqnl_msg_config_params params{};
  std::memcpy(&params, mnl_attr_get_payload(attr[NFQA_CFG_PARAMS]), sizeof params);
  EXPECT_EQ(params.copy_mode, NFQNL_COPY_PACKET);
  EXPECT_EQ(ntohl(params.copy_range), nfq::kCopyRange);
  ASSERT_TRUE(attr[NFQA_CFG_QUEUE_MAXLEN]);
  EXPECT_EQ(ntohl(mnl_attr_get_u32(attr[NFQA_CFG_QUEUE_MAXLEN])), 4096u);
  ASSERT_TRUE(attr[NFQA_CFG_FLAGS] && attr[NFQA_CFG_MASK]);
  const uint32_t flags = ntohl(mnl_attr_get_u32(attr[NFQA_CFG_FLAGS]));
  const uint32_t mask = ntohl(mnl_attr_get_u32(attr[NFQA_CFG_MASK]));
  EXPECT_EQ(flags & NFQA_CFG_F_FAIL_OPEN, 0u);  // fail closed
  EXPECT_TRUE(mask & NFQA_CFG_F_FAIL_OPEN);     // ... and explicitly so
  EXPECT_TRUE(flags & NFQA_CFG_F_GSO);
}

TEST(NfqueueMessages, VerdictBufferTooSmallWritesNothing) {
  const Verdict v[2] = {{Verdict::Kind::kDropUpTo, 1}, {Verdict::Kind::kAccept, 2}};
  std::array<uint8_t, nfq::kVerdictMessageSize> one{};
  EXPECT_EQ(nfq::put_verdicts(v, 0, one), 0u);
  std::array<uint8_t, 2 * nfq::kVerdictMessageSize> two{};
  EXPECT_EQ(nfq::put_verdicts(v, 0, two), two.size());
}

TEST(NfqueueMessages, LengthFieldsBeyondTheDatagramEndTheWalk) {
  const uint8_t ip[40] = {0x45};
  std::vector<uint8_t> good = packet_message(7, ip);
  // A second message whose length claims more than 2 GiB: libmnl's own
  // check compares it as a negative int and lets it through.
  std::vector<uint8_t> datagram = good;
  std::vector<uint8_t> bad(good.begin(), good.begin() + 24);
  const uint32_t huge = 0x97340000u;
  std::memcpy(bad.data(), &huge, 4);
  datagram.insert(datagram.end(), bad.begin(), bad.end());
  int seen = 0;
  nfq::for_each_message(datagram, [&](const nfq::QueueMessage& m) {
    EXPECT_EQ(m.packet_id, 7u);
    ++seen;
  });
  EXPECT_EQ(seen, 1) << "the walk stops at the message that does not fit";
  std::memcpy(datagram.data(), &huge, 4);
  seen = 0;
  nfq::for_each_message(datagram, [&](const nfq::QueueMessage&) { ++seen; });
  EXPECT_EQ(seen, 0);
  // An unaligned last message: nothing is read past the end.
  std::vector<uint8_t> odd = good;
  odd.resize(odd.size() + 17, 0);
  const uint32_t len17 = 17;
  std::memcpy(odd.data() + good.size(), &len17, 4);
  seen = 0;
  nfq::for_each_message(std::span<const uint8_t>(odd), [&](const nfq::QueueMessage&) { ++seen; });
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace tc::intercept

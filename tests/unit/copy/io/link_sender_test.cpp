#include "copy/send/link_sender.h"

#include <gtest/gtest.h>
#include <linux/if_packet.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "common/link_layer.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/send/neighbour_table.h"
#include "tests/unit/copy/io/queue_syn.h"

namespace tc {
namespace {

// These senders read where a packet goes from the packet itself; what
// acquire() is told does not matter to them.
const IpAddress kAnyDestination = *IpAddress::parse("10.1.1.1");

using Bytes = std::vector<uint8_t>;

// Plays the kernel's part of a transmit ring: from its own head, takes
// requested frames in order until one is not requested. What happens to
// each frame comes from a script (default: sent and given back at once).
class FakeKernel final : public RingOps {
 public:
  enum class Fate {
    kSent,         // handed to the device and given back
    kInFlight,     // handed to the device, given back by complete()
    kRefused,      // the device refused it: stays requested, send() fails
    kWrongFormat,  // cannot be sent: marked so, send() fails
  };
  struct Step {
    Fate fate;
    int err = 0;
  };

  FakeKernel(size_t count, size_t frame_size, bool vnet = true)
      : memory(count * frame_size), frames_(count), size_(frame_size), vnet_(vnet) {}

  TxRingMemory ring() { return TxRingMemory{memory.data(), size_, frames_, vnet_}; }
  uint32_t& status(size_t i) { return reinterpret_cast<tpacket2_hdr*>(memory.data() + i * size_)->tp_status; }

  ssize_t kick(int) override {
    ++kicks;
    ssize_t bytes = 0;
    while (status(head) == TP_STATUS_SEND_REQUEST) {
      const Step step = script.empty() ? Step{Fate::kSent} : script.front();
      if (!script.empty()) script.pop_front();
      if (step.fate == Fate::kRefused) return -step.err;
      if (step.fate == Fate::kWrongFormat) {
        status(head) = TP_STATUS_WRONG_FORMAT;
        return -step.err;
      }
      const auto* h = reinterpret_cast<const tpacket2_hdr*>(memory.data() + head * size_);
      const uint8_t* f = memory.data() + head * size_ + TxRingMemory::kFrameOffset;
      size_t len = h->tp_len;
      if (vnet_) {
        // The frame is led by a virtio_net_hdr: no flags, no offload
        // (GSO_NONE), hdr_len (little-endian) the whole frame.
        const size_t v = TxRingMemory::kVnetHeader;
        EXPECT_EQ(f[0], 0);
        EXPECT_EQ(f[1], 0);
        EXPECT_EQ(f[2] | (f[3] << 8), static_cast<int>(len - v));
        for (size_t k = 4; k < v; ++k) EXPECT_EQ(f[k], 0) << k;
        f += v;
        len -= v;
      }
      frames.emplace_back(f, f + len);
      bytes += h->tp_len;
      status(head) = step.fate == Fate::kInFlight ? TP_STATUS_SENDING : TP_STATUS_AVAILABLE;
      head = (head + 1) % frames_;
    }
    return bytes;
  }

  // The device is done with every frame in flight.
  void complete() {
    for (size_t i = 0; i < frames_; ++i)
      if (status(i) == TP_STATUS_SENDING) status(i) = TP_STATUS_AVAILABLE;
  }

  std::vector<uint8_t> memory;  // zero: every frame available
  std::deque<Step> script;
  std::vector<Bytes> frames;  // what reached the device, in order
  size_t head = 0;
  size_t kicks = 0;

 private:
  size_t frames_;
  size_t size_;
  bool vnet_;
};

const MacAddress kSource = *MacAddress::parse("02:00:00:00:00:aa");
const MacAddress kHop1 = *MacAddress::parse("02:00:00:00:00:01");
const MacAddress kHop2 = *MacAddress::parse("02:00:00:00:00:02");

class LinkSenderTest : public ::testing::Test {
 protected:
  void make(size_t batch = 8, size_t frames = 32, bool vnet = true) {
    kernel = std::make_unique<FakeKernel>(frames, LinkSender::frame_size_for(1500), vnet);
    LinkSenderOptions o;
    o.interface = "eth-test";
    o.targets = {*IpAddress::parse("10.1.1.1"), *IpAddress::parse("10.1.1.2"), *IpAddress::parse("2001:db8::9")};
    o.batch = batch;
    sender = std::make_unique<LinkSender>(o, *kernel, kernel->ring(), kSource,
                                          std::vector<LinkSender::NextHop>{{o.targets[0], kHop1},
                                                                           {o.targets[1], kHop2},
                                                                           {o.targets[2], kHop2}});
  }

  void queue(const char* dst, uint32_t seq) { queue_syn(*sender, dst, seq); }

  // The sequence numbers of the frames that reached the device.
  std::vector<uint32_t> seqs() const {
    std::vector<uint32_t> out;
    for (const Bytes& f : kernel->frames) {
      std::span<const uint8_t> ip;
      EXPECT_EQ(ip_packet(linktype::kEthernet, f, ip), LinkError::kNone);
      TcpPacket p;
      EXPECT_EQ(TcpPacket::parse(ip, p), ParseError::kNone);
      out.push_back(p.seq);
    }
    return out;
  }

  std::unique_ptr<FakeKernel> kernel;
  std::unique_ptr<LinkSender> sender;
};

TEST_F(LinkSenderTest, FramesCarryTheNextHopAndOurMac) {
  make();
  queue("10.1.1.1", 1);
  queue("10.1.1.2", 2);
  queue("2001:db8::9", 3);
  EXPECT_TRUE(kernel->frames.empty());  // nothing leaves before flush
  EXPECT_EQ(kernel->kicks, 0u);
  EXPECT_EQ(sender->flush(), 3u);
  EXPECT_EQ(kernel->kicks, 1u);  // one send for the batch
  ASSERT_EQ(kernel->frames.size(), 3u);
  const MacAddress* hops[] = {&kHop1, &kHop2, &kHop2};
  for (size_t i = 0; i < 3; ++i) {
    const Bytes& f = kernel->frames[i];
    EXPECT_TRUE(std::equal(hops[i]->bytes.begin(), hops[i]->bytes.end(), f.begin())) << i;
    EXPECT_TRUE(std::equal(kSource.bytes.begin(), kSource.bytes.end(), f.begin() + 6)) << i;
  }
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(kernel->frames[0][12], 0x08);
  EXPECT_EQ(kernel->frames[2][12], 0x86);
  EXPECT_EQ(sender->stats().packets_sent, 3u);
  EXPECT_EQ(sender->stats().bytes_sent, 14u * 3 + 40 + 40 + 60);
  EXPECT_EQ(sender->flush(), 0u);  // nothing queued: no send
  EXPECT_EQ(kernel->kicks, 1u);
}

TEST_F(LinkSenderTest, WithoutVnetHeadersFramesStartAtTheRingHeader) {
  make(8, 32, false);
  queue("10.1.1.1", 1);
  queue("2001:db8::9", 2);
  EXPECT_EQ(sender->flush(), 2u);
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(std::equal(kHop1.bytes.begin(), kHop1.bytes.end(), kernel->frames[0].begin()));
  EXPECT_EQ(sender->stats().bytes_sent, 14u * 2 + 40 + 60);
}

TEST_F(LinkSenderTest, OnlyTargetsAreSentTo) {
  make();
  queue("10.1.1.3", 1);
  queue("2001:db8::8", 2);
  queue("10.1.1.1", 3);
  EXPECT_EQ(sender->flush(), 1u);
  EXPECT_EQ(sender->stats().refused_destination, 2u);
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{3}));
  std::span<uint8_t> b = sender->acquire(kAnyDestination);
  b[0] = 0x45;
  sender->commit(10);  // not a whole header
  EXPECT_EQ(sender->stats().malformed, 1u);
  sender->acquire(kAnyDestination);
  sender->commit(1501);  // longer than a slot
  EXPECT_EQ(sender->stats().malformed, 2u);
  EXPECT_EQ(sender->queued(), 0u);
}

TEST_F(LinkSenderTest, FullBatchSendsOnAcquireAfterTheHook) {
  make(2);
  std::vector<size_t> seen;
  sender->set_before_send([&] { seen.push_back(kernel->frames.size()); });
  queue("10.1.1.1", 1);
  queue("10.1.1.1", 2);
  queue("10.1.1.1", 3);  // the third acquire sends the first two
  EXPECT_EQ(kernel->frames.size(), 2u);
  EXPECT_EQ(seen, (std::vector<size_t>{0}));
  sender->flush();
  EXPECT_EQ(seen, (std::vector<size_t>{0, 2}));
}

TEST_F(LinkSenderTest, AFailedSendDropsTheRestAndTheRingStaysInStep) {
  make();
  for (uint32_t i = 1; i <= 5; ++i) queue("10.1.1.1", i);
  using F = FakeKernel::Fate;
  kernel->script = {{F::kSent}, {F::kSent}, {F::kRefused, ENOBUFS}};
  EXPECT_EQ(sender->flush(), 2u);
  EXPECT_EQ(sender->stats().dropped_by(ENOBUFS), 3u);
  EXPECT_EQ(kernel->head, 2u);  // the refused frame is the kernel's next one
  // The next packets go from there: none is skipped, none sent twice.
  queue("10.1.1.1", 6);
  queue("10.1.1.1", 7);
  EXPECT_EQ(sender->flush(), 2u);
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{1, 2, 6, 7}));
  EXPECT_EQ(sender->stats().packets_sent, 4u);
}

TEST_F(LinkSenderTest, AFrameTheKernelCannotSendIsGivenBack) {
  make();
  for (uint32_t i = 1; i <= 3; ++i) queue("10.1.1.1", i);
  using F = FakeKernel::Fate;
  kernel->script = {{F::kSent}, {F::kWrongFormat, EMSGSIZE}};
  EXPECT_EQ(sender->flush(), 1u);
  EXPECT_EQ(sender->stats().dropped_by(EMSGSIZE), 2u);
  EXPECT_EQ(kernel->status(1), static_cast<uint32_t>(TP_STATUS_AVAILABLE));
  queue("10.1.1.1", 4);
  EXPECT_EQ(sender->flush(), 1u);
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{1, 4}));
  CounterText text;
  sender->report(text);
  EXPECT_NE(text.line().find("send_dropped{EMSGSIZE}=2"), std::string::npos) << text.line();
}

TEST_F(LinkSenderTest, InterruptedSendIsRetried) {
  make();
  queue("10.1.1.1", 1);
  using F = FakeKernel::Fate;
  kernel->script = {{F::kRefused, EINTR}};
  EXPECT_EQ(sender->flush(), 1u);
  EXPECT_EQ(kernel->kicks, 2u);
  EXPECT_EQ(seqs(), (std::vector<uint32_t>{1}));
}

TEST_F(LinkSenderTest, FramesInFlightAreNeverWaitedFor) {
  make(4, 16);
  using F = FakeKernel::Fate;
  for (int i = 0; i < 100; ++i) kernel->script.push_back({F::kInFlight});
  uint32_t seq = 0;
  for (int i = 0; i < 20; ++i) queue("10.1.1.1", ++seq);
  sender->flush();
  // 16 frames in flight: the last 4 packets found no free frame.
  EXPECT_EQ(sender->stats().packets_sent, 16u);
  EXPECT_EQ(sender->stats().ring_full, 4u);
  kernel->complete();
  // Round the ring again: the kernel's head and ours still agree.
  for (int i = 0; i < 10; ++i) queue("10.1.1.1", ++seq);
  sender->flush();
  EXPECT_EQ(sender->stats().packets_sent, 26u);
  std::vector<uint32_t> want;
  for (uint32_t s = 1; s <= 16; ++s) want.push_back(s);
  for (uint32_t s = 21; s <= 30; ++s) want.push_back(s);
  EXPECT_EQ(seqs(), want);
}

TEST_F(LinkSenderTest, ManyRoundsOfTheRing) {
  make(8, 16);
  uint32_t seq = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 5; ++i) queue("10.1.1.1", ++seq);
    sender->flush();
  }
  EXPECT_EQ(sender->stats().packets_sent, 250u);
  const std::vector<uint32_t> got = seqs();
  ASSERT_EQ(got.size(), 250u);
  for (uint32_t i = 0; i < 250; ++i) EXPECT_EQ(got[i], i + 1);
}

TEST(LinkSenderFrames, FrameSizeHoldsTheHeaderTheEthernetHeaderAndTheSlot) {
  EXPECT_EQ(LinkSender::frame_size_for(1500), 2048u);
  EXPECT_EQ(LinkSender::frame_size_for(1992), 2048u);  // 32 + 10 + 14 + 1992
  EXPECT_EQ(LinkSender::frame_size_for(1993), 4096u);
  EXPECT_EQ(LinkSender::frame_size_for(9000), 16384u);
  EXPECT_EQ(LinkSender::frame_size_for(100), 1024u);  // at least the smallest slot (576)
}

TEST(LinkSenderFrames, TooSmallARingIsRefused) {
  FakeKernel k(8, 1024);
  LinkSenderOptions o;
  o.targets = {*IpAddress::parse("10.1.1.1")};
  EXPECT_THROW(LinkSender(o, k, k.ring(), kSource, {}), std::invalid_argument);  // 1024-byte frames, 1500 slot
  o.targets.clear();
  FakeKernel k2(8, 2048);
  EXPECT_THROW(LinkSender(o, k2, k2.ring(), kSource, {}), std::invalid_argument);  // no target
}

const char* kArpTable =
    "IP address       HW type     Flags       HW address            Mask     Device\n"
    "10.77.2.2        0x1         0x2         aa:bb:cc:dd:ee:01     *        ot\n"
    "10.77.2.3        0x1         0x0         00:00:00:00:00:00     *        ot\n"
    "10.77.1.2        0x1         0x2         aa:bb:cc:dd:ee:02     *        oc\n"
    "10.77.2.9        0x1         0x6         aa:bb:cc:dd:ee:09     *        ot\n";

TEST(NeighbourTable, CompleteEntriesOfTheInterface) {
  EXPECT_EQ(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.2"), "ot"), MacAddress::parse("aa:bb:cc:dd:ee:01"));
  EXPECT_EQ(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.9"), "ot"), MacAddress::parse("aa:bb:cc:dd:ee:09"));
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.3"), "ot"));  // incomplete
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.1.2"), "ot"));  // another interface
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("10.77.2.4"), "ot"));
  EXPECT_FALSE(find_neighbour(kArpTable, *IpAddress::parse("2001:db8::1"), "ot"));
  EXPECT_FALSE(find_neighbour("", *IpAddress::parse("10.77.2.2"), "ot"));
  EXPECT_FALSE(find_neighbour("garbage\n10.77.2.2 x", *IpAddress::parse("10.77.2.2"), "ot"));
}

}  // namespace
}  // namespace tc

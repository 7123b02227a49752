// The default sender's choice of path per packet, with the follower fed by
// the test (no socket), rings over memory the test owns, and a recording
// fake for the raw sockets.
#include "copy/send/route_sender.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "netlink_attr.h"

namespace tc {
namespace {

using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }
MacAddress mac(const char* s) { return *MacAddress::parse(s); }

class RecordingSender final : public PacketSender {
 public:
  std::span<uint8_t> acquire(const IpAddress&) override { return slot_; }
  void commit(size_t len) override {
    if (len > 0) packets.emplace_back(slot_.begin(), slot_.begin() + static_cast<long>(len));  // 0: taken back
  }
  size_t flush() override { return 0; }
  void set_before_send(std::function<void()>) override {}
  void report(CounterSink& sink) const override { sink.counter("send_packets", "", packets.size()); }
  std::vector<Bytes> packets;

 private:
  Bytes slot_ = Bytes(2000);
};

// Takes every requested frame of a ring and gives it back.
class TakeAll final : public RingOps {
 public:
  TakeAll(size_t count, size_t frame_size) : memory(count * frame_size), count_(count), size_(frame_size) {}
  TxRingMemory ring() { return TxRingMemory{memory.data(), size_, count_, false}; }
  ssize_t kick(int) override {
    for (size_t i = 0; i < count_; ++i) {
      auto* h = reinterpret_cast<tpacket2_hdr*>(memory.data() + i * size_);
      if (h->tp_status != TP_STATUS_SEND_REQUEST) continue;
      const uint8_t* f = memory.data() + i * size_ + TxRingMemory::kFrameOffset;
      frames.emplace_back(f, f + h->tp_len);
      h->tp_status = TP_STATUS_AVAILABLE;
    }
    return 0;
  }
  Bytes memory;
  std::vector<Bytes> frames;

 private:
  size_t count_, size_;
};

using test::find_attr;

Bytes packet_to(const char* dst) {
  TcpSegmentSpec s;
  s.src = ip(std::string(dst).find(':') != std::string::npos ? "fd00::1" : "10.0.0.1");
  s.dst = ip(dst);
  s.sport = 40000;
  s.dport = 80;
  s.flags = tcpflag::kSyn;
  s.window = 65535;
  Bytes out(200);
  out.resize(build_tcp_packet(s, out));
  return out;
}

void put_ip(nlmsghdr* nlh, uint16_t type, const IpAddress& a) {
  if (a.is_v4()) mnl_attr_put(nlh, type, 4, a.v4_bytes().data());
  else mnl_attr_put(nlh, type, 16, a.bytes16().data());
}

// The kernel's side: answers the follower's questions from a small world.
struct World {
  std::map<std::string, unsigned> oif;  // target -> ifindex
  std::map<unsigned, std::pair<std::string, uint16_t>> links;
  std::map<std::string, MacAddress> neighbours;  // address -> MAC (on any interface)

  void answer(NextHopFollower& f) {
    for (int round = 0; round < 8 && !f.requests().empty(); ++round) {
      auto requests = std::move(f.requests());
      f.requests().clear();
      for (const Bytes& r : requests) {
        const auto* q = reinterpret_cast<const nlmsghdr*>(r.data());
        Bytes b(512, 0);
        nlmsghdr* nlh = mnl_nlmsg_put_header(b.data());
        nlh->nlmsg_seq = q->nlmsg_seq;
        if (q->nlmsg_type == RTM_GETROUTE) {
          const IpAddress t = address(q, sizeof(rtmsg), RTA_DST);
          nlh->nlmsg_type = RTM_NEWROUTE;
          auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
          rtm->rtm_family = t.is_v4() ? AF_INET : AF_INET6;
          mnl_attr_put_u32(nlh, RTA_OIF, oif.at(t.to_string()));
        } else if (q->nlmsg_type == RTM_GETLINK) {
          const int index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(q))->ifi_index;
          const auto& [name, type] = links.at(static_cast<unsigned>(index));
          nlh->nlmsg_type = RTM_NEWLINK;
          auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
          ifi->ifi_index = index;
          ifi->ifi_type = type;
          ifi->ifi_flags = IFF_UP;
          mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
          const MacAddress own = mac("02:00:00:00:00:01");
          if (type == ARPHRD_ETHER) mnl_attr_put(nlh, IFLA_ADDRESS, 6, own.bytes.data());
        } else if (q->nlmsg_type == RTM_GETNEIGH) {
          const IpAddress a = address(q, sizeof(ndmsg), NDA_DST);
          const auto it = neighbours.find(a.to_string());
          const auto* asked = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(q));
          if (it == neighbours.end()) {
            nlh->nlmsg_type = NLMSG_ERROR;
            static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)))->error = -ENOENT;
          } else {
            neighbour(nlh, asked->ndm_ifindex, a, it->second);
          }
        } else {
          continue;  // resolutions: nothing to say
        }
        b.resize(nlh->nlmsg_len);
        f.on_datagram(b);
      }
    }
  }

  static void neighbour(nlmsghdr* nlh, int ifindex, const IpAddress& a, const MacAddress& m,
                        uint16_t state = NUD_REACHABLE) {
    nlh->nlmsg_type = RTM_NEWNEIGH;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = a.is_v4() ? AF_INET : AF_INET6;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = state;
    put_ip(nlh, NDA_DST, a);
    mnl_attr_put(nlh, NDA_LLADDR, 6, m.bytes.data());
  }

  // A notification: the neighbour has a (new) MAC.
  static void tell(NextHopFollower& f, int ifindex, const char* a, const MacAddress& m,
                   uint16_t state = NUD_REACHABLE) {
    Bytes b(512, 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data());
    neighbour(nlh, ifindex, ip(a), m, state);
    b.resize(nlh->nlmsg_len);
    f.on_datagram(b);
  }

  static IpAddress address(const nlmsghdr* q, size_t header, uint16_t type) {
    if (const nlattr* attr = find_attr(q, header, type)) {
      const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
      if (mnl_attr_get_payload_len(attr) == 4) return IpAddress::from_v4(std::span<const uint8_t, 4>(p, 4));
      return IpAddress::from_v6(std::span<const uint8_t, 16>(p, 16));
    }
    return IpAddress();
  }
};

class RouteSenderTest : public ::testing::Test {
 protected:
  void make(std::vector<IpAddress> targets) {
    RouteSenderOptions o;
    o.targets = std::move(targets);
    o.slot_size = 1500;
    auto raw = std::make_unique<RecordingSender>();
    raw_ = raw.get();
    sender_ = std::make_unique<RouteSender>(o, log_, std::move(raw), [this, o](const FollowedLink& l) {
      if (l.name == "eth9") throw std::runtime_error("cannot send on eth9: permission denied");
      LinkSenderOptions s;
      s.interface = l.name;
      s.targets = o.targets;
      s.follow = true;
      s.slot_size = o.slot_size;
      s.ring_frames = 16;
      return std::make_unique<LinkSender>(s, kernel_, kernel_.ring(), *l.mac, std::vector<LinkSender::NextHop>{});
    });
  }
  void send(const char* dst) {
    const Bytes p = packet_to(dst);
    auto slot = sender_->acquire(ip(dst));
    std::copy(p.begin(), p.end(), slot.begin());
    sender_->commit(p.size());
    sender_->flush();
  }
  void settle() {
    world_.answer(sender_->follower());
    sender_->apply();
  }
  static MacAddress dst_of(const Bytes& frame) {
    MacAddress m;
    std::copy(frame.begin(), frame.begin() + 6, m.bytes.begin());
    return m;
  }

  Logger log_;
  World world_;
  TakeAll kernel_{16, LinkSender::frame_size_for(1500)};
  RecordingSender* raw_ = nullptr;
  std::unique_ptr<RouteSender> sender_;
};

TEST_F(RouteSenderTest, RingOnceTheMacIsKnownRawSocketsUntilThen) {
  make({ip("10.0.0.2"), ip("fd00::2")});
  world_.oif = {{"10.0.0.2", 3}, {"fd00::2", 3}};
  world_.links = {{3, {"eth1", ARPHRD_ETHER}}};
  sender_->follower().start();
  send("10.0.0.2");  // nothing known yet
  EXPECT_EQ(raw_->packets.size(), 1u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kNoRoute), 1u);
  settle();  // route and link known, no neighbour entry
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 2u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kNoNeighbour), 1u);
  EXPECT_EQ(kernel_.frames.size(), 0u);
  // The kernel resolved both.
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"));
  World::tell(sender_->follower(), 3, "fd00::2", mac("02:00:00:00:00:0c"));
  sender_->apply();
  send("10.0.0.2");
  send("fd00::2");
  ASSERT_EQ(kernel_.frames.size(), 2u);
  EXPECT_EQ(raw_->packets.size(), 2u);
  EXPECT_EQ(dst_of(kernel_.frames[0]), mac("02:00:00:00:00:0a"));
  EXPECT_EQ(dst_of(kernel_.frames[1]), mac("02:00:00:00:00:0c"));
  EXPECT_EQ(kernel_.frames[1][12], 0x86);
  // The target's MAC changed: the next frame follows.
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0b"));
  sender_->apply();
  send("10.0.0.2");
  ASSERT_EQ(kernel_.frames.size(), 3u);
  EXPECT_EQ(dst_of(kernel_.frames[2]), mac("02:00:00:00:00:0b"));
  EXPECT_NE(sender_->ring_of(ip("10.0.0.2")), nullptr);
  EXPECT_NE(sender_->describe().find("10.0.0.2 transmit ring on eth1 to 02:00:00:00:00:0b"), std::string::npos)
      << sender_->describe();
}

TEST_F(RouteSenderTest, DevicesWithoutEthernetAndRingsThatFailUseRawSockets) {
  make({ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4")});
  world_.oif = {{"10.0.0.2", 8}, {"10.0.0.3", 9}, {"10.0.0.4", 1}};
  world_.links = {{8, {"tun0", ARPHRD_NONE}}, {9, {"eth9", ARPHRD_ETHER}}, {1, {"lo", ARPHRD_LOOPBACK}}};
  world_.neighbours = {{"10.0.0.3", mac("02:00:00:00:00:0a")}};
  sender_->follower().start();
  settle();
  send("10.0.0.2");
  send("10.0.0.3");
  send("10.0.0.4");
  EXPECT_EQ(raw_->packets.size(), 3u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kNoEthernet), 2u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kNoRing), 1u);
  const std::string d = sender_->describe();
  EXPECT_NE(d.find("10.0.0.2 raw sockets (tun0 has no Ethernet framing)"), std::string::npos) << d;
  EXPECT_NE(d.find("10.0.0.3 raw sockets (no transmit ring on eth9: cannot send on eth9: permission denied)"),
            std::string::npos)
      << d;
  // A destination that is no target goes to the raw sender, which refuses it.
  send("10.9.9.9");
  EXPECT_EQ(raw_->packets.size(), 4u);
}

TEST_F(RouteSenderTest, AStaleNeighbourGetsOneCopyThroughTheKernel) {
  make({ip("10.0.0.2")});
  world_.oif = {{"10.0.0.2", 3}};
  world_.links = {{3, {"eth1", ARPHRD_ETHER}}};
  world_.neighbours = {{"10.0.0.2", mac("02:00:00:00:00:0a")}};
  sender_->follower().start();
  settle();
  send("10.0.0.2");
  EXPECT_EQ(kernel_.frames.size(), 1u);
  // The entry went stale: the next copy goes through the kernel (which
  // then confirms the entry), the ones after it out the ring again.
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_STALE);
  sender_->apply();
  send("10.0.0.2");
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 1u);
  EXPECT_EQ(kernel_.frames.size(), 2u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kStaleNeighbour), 1u);
  // Still stale (another notification): no second copy through the kernel.
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_STALE);
  sender_->apply();
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 1u);
  // Probed by the kernel, confirmed, stale again later: one more.
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_PROBE);
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_REACHABLE);
  sender_->apply();
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 1u);
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_STALE);
  sender_->apply();
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 2u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kStaleNeighbour), 2u);
}

TEST_F(RouteSenderTest, ABufferTakenBackSendsNothingAndLeavesTheConfirmationPending) {
  make({ip("10.0.0.2")});
  world_.oif = {{"10.0.0.2", 3}};
  world_.links = {{3, {"eth1", ARPHRD_ETHER}}};
  world_.neighbours = {{"10.0.0.2", mac("02:00:00:00:00:0a")}};
  sender_->follower().start();
  settle();
  World::tell(sender_->follower(), 3, "10.0.0.2", mac("02:00:00:00:00:0a"), NUD_STALE);
  sender_->apply();
  // The engine asked for a buffer and built nothing in it (too large).
  EXPECT_FALSE(sender_->acquire(ip("10.0.0.2")).empty());
  sender_->commit(0);
  sender_->flush();
  EXPECT_TRUE(raw_->packets.empty());
  EXPECT_TRUE(kernel_.frames.empty());
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kStaleNeighbour), 0u);
  // The next copy is the one through the kernel.
  send("10.0.0.2");
  EXPECT_EQ(raw_->packets.size(), 1u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kStaleNeighbour), 1u);
  // A destination that is no target gets a raw socket's buffer (which
  // refuses and counts it), and no fallback reason.
  send("10.0.0.9");
  EXPECT_EQ(raw_->packets.size(), 2u);
  EXPECT_EQ(kernel_.frames.size(), 0u);
  EXPECT_EQ(sender_->fallbacks(FallbackReason::kNoRoute), 0u);
}

TEST_F(RouteSenderTest, ReportSumsTheSendersAndNamesEveryFallbackReason) {
  make({ip("10.0.0.2")});
  world_.oif = {{"10.0.0.2", 3}};
  world_.links = {{3, {"eth1", ARPHRD_ETHER}}};
  world_.neighbours = {{"10.0.0.2", mac("02:00:00:00:00:0a")}};
  sender_->follower().start();
  send("10.0.0.2");
  settle();
  send("10.0.0.2");
  send("10.0.0.2");
  CounterText text;
  sender_->report(text);
  const std::string line = text.line(true);
  EXPECT_NE(line.find("send_packets=3"), std::string::npos) << line;
  for (const char* r : {"no_route", "no_ethernet", "no_neighbour", "no_ring", "stale_neighbour"})
    EXPECT_NE(line.find(std::string("send_fallback{") + r + "}"), std::string::npos) << r << " in " << line;
  EXPECT_NE(line.find("send_fallback{no_route}=1"), std::string::npos) << line;
  EXPECT_NE(line.find("send_ring_full=0"), std::string::npos) << line;
}

}  // namespace
}  // namespace tc

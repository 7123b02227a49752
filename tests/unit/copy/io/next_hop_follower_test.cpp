// NextHopFollower against a fake rtnetlink: the tests play the kernel's
// answers and notifications, message by message, and read the requests.
#include "copy/send/next_hop_follower.h"
#include "netlink_attr.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tc {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint32_t kPort = 4242;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }
MacAddress mac(const char* s) { return *MacAddress::parse(s); }

using test::find_attr;

// What a request asks.
struct Request {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  int ifindex = 0;    // GETLINK, GETNEIGH, NEWNEIGH
  uint8_t ndm_flags = 0;
  std::optional<IpAddress> address;  // RTA_DST or NDA_DST
};

Request read_request(const Bytes& b) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.data());
  Request r;
  r.type = nlh->nlmsg_type;
  r.flags = nlh->nlmsg_flags;
  r.seq = nlh->nlmsg_seq;
  EXPECT_EQ(nlh->nlmsg_len, b.size());
  size_t header = 0;
  int family = AF_UNSPEC;
  uint16_t dst_attr = 0;
  if (r.type == RTM_GETROUTE) {
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    header = sizeof(rtmsg);
    family = rtm->rtm_family;
    dst_attr = RTA_DST;
  } else if (r.type == RTM_GETLINK) {
    r.ifindex = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
    return r;
  } else {
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    header = sizeof(ndmsg);
    family = ndm->ndm_family;
    r.ifindex = ndm->ndm_ifindex;
    r.ndm_flags = ndm->ndm_flags;
    dst_attr = NDA_DST;
  }
  if (const nlattr* attr = find_attr(nlh, header, dst_attr)) {
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
    if (family == AF_INET) r.address = IpAddress::from_v4(std::span<const uint8_t, 4>(p, 4));
    else r.address = IpAddress::from_v6(std::span<const uint8_t, 16>(p, 16));
  }
  return r;
}

void put_ip(nlmsghdr* nlh, uint16_t type, const IpAddress& a) {
  if (a.is_v4()) mnl_attr_put(nlh, type, 4, a.v4_bytes().data());
  else mnl_attr_put(nlh, type, 16, a.bytes16().data());
}

nlmsghdr* start(Bytes& b, uint16_t type, uint32_t seq, uint32_t pid) {
  b.assign(512, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(b.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_seq = seq;
  nlh->nlmsg_pid = pid;
  return nlh;
}

Bytes finish(Bytes b) {
  b.resize(reinterpret_cast<nlmsghdr*>(b.data())->nlmsg_len);
  return b;
}

Bytes route(uint32_t seq, uint32_t pid, const IpAddress& dst, unsigned oif, std::optional<IpAddress> gateway,
            uint16_t type = RTM_NEWROUTE) {
  Bytes b;
  nlmsghdr* nlh = start(b, type, seq, pid);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = dst.is_v4() ? AF_INET : AF_INET6;
  rtm->rtm_dst_len = dst.is_v4() ? 32 : 128;
  rtm->rtm_type = RTN_UNICAST;
  put_ip(nlh, RTA_DST, dst);
  mnl_attr_put_u32(nlh, RTA_OIF, oif);
  if (gateway) put_ip(nlh, RTA_GATEWAY, *gateway);
  return finish(b);
}

Bytes link(uint32_t seq, uint32_t pid, int ifindex, const char* name, uint16_t type, std::optional<MacAddress> m,
           uint16_t msg = RTM_NEWLINK) {
  Bytes b;
  nlmsghdr* nlh = start(b, msg, seq, pid);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_index = ifindex;
  ifi->ifi_type = type;
  ifi->ifi_flags = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
  if (m) mnl_attr_put(nlh, IFLA_ADDRESS, 6, m->bytes.data());
  return finish(b);
}

Bytes neighbour(uint32_t seq, uint32_t pid, int ifindex, const IpAddress& dst, std::optional<MacAddress> m,
                uint16_t state, uint16_t msg = RTM_NEWNEIGH) {
  Bytes b;
  nlmsghdr* nlh = start(b, msg, seq, pid);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = dst.is_v4() ? AF_INET : AF_INET6;
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = state;
  put_ip(nlh, NDA_DST, dst);
  if (m) mnl_attr_put(nlh, NDA_LLADDR, 6, m->bytes.data());
  return finish(b);
}

Bytes error(uint32_t seq, uint32_t pid, int err) {
  Bytes b;
  nlmsghdr* nlh = start(b, NLMSG_ERROR, seq, pid);
  auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  e->error = -err;
  e->msg.nlmsg_seq = seq;
  return finish(b);
}

// The follower with its requests taken one by one, as the socket would.
struct Fake {
  explicit Fake(std::vector<IpAddress> targets) : f(std::move(targets), kPort) {}
  std::vector<Request> take() {
    std::vector<Request> out;
    for (const Bytes& b : f.requests()) out.push_back(read_request(b));
    f.requests().clear();
    return out;
  }
  Request one() {
    auto r = take();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? Request{} : r[0];
  }
  void play(const Bytes& b) { f.on_datagram(b); }
  NextHopFollower f;
};

const MacAddress kOurMac = mac("02:00:00:00:00:01");
const MacAddress kMacA = mac("02:00:00:00:00:0a");
const MacAddress kMacB = mac("02:00:00:00:00:0b");

// Brings `t` (the only target) to a known MAC through `ifindex` on-link.
void learn(Fake& k, const IpAddress& t, int ifindex, std::optional<IpAddress> gw, const MacAddress& m) {
  k.f.start();
  const Request r = k.one();
  ASSERT_EQ(r.type, RTM_GETROUTE);
  ASSERT_EQ(r.address, t);
  k.play(route(r.seq, kPort, t, static_cast<unsigned>(ifindex), gw));
  const Request l = k.one();
  ASSERT_EQ(l.type, RTM_GETLINK);
  ASSERT_EQ(l.ifindex, ifindex);
  k.play(link(l.seq, kPort, ifindex, "eth1", ARPHRD_ETHER, kOurMac));
  const Request n = k.one();
  ASSERT_EQ(n.type, RTM_GETNEIGH);
  ASSERT_EQ(n.ifindex, ifindex);
  ASSERT_EQ(n.address, gw ? *gw : t);
  EXPECT_FALSE(k.f.settled());
  k.play(neighbour(n.seq, kPort, ifindex, gw ? *gw : t, m, NUD_REACHABLE));
  EXPECT_TRUE(k.f.settled());
  EXPECT_TRUE(k.take().empty());
}

TEST(NextHopFollower, LearnsAnOnLinkTargetsMac) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  learn(k, t, 3, std::nullopt, kMacA);
  const FollowedTarget& ft = k.f.targets()[0];
  EXPECT_TRUE(ft.route_known);
  EXPECT_EQ(ft.ifindex, 3u);
  EXPECT_FALSE(ft.gateway);
  EXPECT_EQ(ft.mac, kMacA);
  ASSERT_NE(k.f.link(3), nullptr);
  EXPECT_TRUE(k.f.link(3)->ethernet());
  EXPECT_EQ(k.f.link(3)->name, "eth1");
  EXPECT_EQ(k.f.link(3)->mac, kOurMac);
}

TEST(NextHopFollower, FollowsANeighboursNewMacAndItsFailure) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  learn(k, t, 3, std::nullopt, kMacA);
  const uint64_t g = k.f.generation();
  // The target's MAC changed: the kernel learns it (a gratuitous ARP) and
  // tells the group, with no sequence number of ours.
  k.play(neighbour(0, 0, 3, t, kMacB, NUD_STALE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacB);
  EXPECT_GT(k.f.generation(), g);
  // A stale entry is asked to be confirmed.
  const Request use = k.one();
  EXPECT_EQ(use.type, RTM_NEWNEIGH);
  EXPECT_EQ(use.ndm_flags, NTF_USE);
  EXPECT_EQ(use.address, t);
  EXPECT_EQ(use.ifindex, 3);
  // Another interface's neighbour of the same address is not ours.
  k.play(neighbour(0, 0, 7, t, kMacA, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacB);
  // It failed: no MAC (packets go through the kernel, which resolves it).
  k.play(neighbour(0, 0, 3, t, std::nullopt, NUD_FAILED));
  EXPECT_FALSE(k.f.targets()[0].mac);
  EXPECT_EQ(k.f.targets()[0].neighbour_state, NUD_FAILED);
  EXPECT_TRUE(k.take().empty());
  // It came back.
  k.play(neighbour(0, 0, 3, t, kMacA, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacA);
  // It was removed (flushed, or garbage-collected): resolved again.
  k.play(neighbour(0, 0, 3, t, kMacA, NUD_REACHABLE, RTM_DELNEIGH));
  EXPECT_FALSE(k.f.targets()[0].mac);
  const Request again = k.one();
  EXPECT_EQ(again.type, RTM_NEWNEIGH);
  EXPECT_EQ(again.ndm_flags, NTF_USE);
  EXPECT_TRUE(again.flags & NLM_F_CREATE);
}

TEST(NextHopFollower, AsksTheKernelToResolveAnAbsentNeighbour) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  k.f.start();
  Request r = k.one();
  k.play(route(r.seq, kPort, t, 3, std::nullopt));
  r = k.one();
  k.play(link(r.seq, kPort, 3, "eth1", ARPHRD_ETHER, kOurMac));
  r = k.one();
  ASSERT_EQ(r.type, RTM_GETNEIGH);
  k.play(error(r.seq, kPort, ENOENT));
  const Request use = k.one();
  EXPECT_EQ(use.type, RTM_NEWNEIGH);
  EXPECT_EQ(use.ndm_flags, NTF_USE);
  EXPECT_TRUE(use.flags & NLM_F_CREATE);
  EXPECT_EQ(use.address, t);
  EXPECT_TRUE(k.f.settled());  // the resolution is not waited for
  EXPECT_FALSE(k.f.targets()[0].mac);
  // Resolution under way, then done.
  k.play(neighbour(0, kPort, 3, t, std::nullopt, NUD_INCOMPLETE));
  EXPECT_TRUE(k.take().empty());
  k.play(neighbour(0, kPort, 3, t, kMacA, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacA);
}

TEST(NextHopFollower, AFailedEntryFoundAtStartIsResolved) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  k.f.start();
  Request r = k.one();
  k.play(route(r.seq, kPort, t, 3, std::nullopt));
  r = k.one();
  k.play(link(r.seq, kPort, 3, "eth1", ARPHRD_ETHER, kOurMac));
  r = k.one();
  k.play(neighbour(r.seq, kPort, 3, t, std::nullopt, NUD_FAILED));
  const Request use = k.one();
  EXPECT_EQ(use.ndm_flags, NTF_USE);
}

TEST(NextHopFollower, ARouteChangeMovesTheTargetToAnotherInterfaceAndGateway) {
  const IpAddress t = ip("10.0.0.2");
  const IpAddress gw = ip("192.168.5.1");
  Fake k({t});
  learn(k, t, 3, std::nullopt, kMacA);
  // Someone changed a route: every IPv4 target is asked for again.
  k.play(route(77, 999, ip("10.0.0.0"), 5, gw));
  Request r = k.one();
  ASSERT_EQ(r.type, RTM_GETROUTE);
  EXPECT_EQ(r.address, t);
  EXPECT_EQ(k.f.targets()[0].mac, kMacA);  // until the answer says otherwise
  k.play(route(r.seq, kPort, t, 5, gw));
  EXPECT_EQ(k.f.targets()[0].ifindex, 5u);
  EXPECT_EQ(k.f.targets()[0].gateway, gw);
  EXPECT_FALSE(k.f.targets()[0].mac);
  r = k.one();
  ASSERT_EQ(r.type, RTM_GETLINK);
  EXPECT_EQ(r.ifindex, 5);
  k.play(link(r.seq, kPort, 5, "eth2", ARPHRD_ETHER, kOurMac));
  r = k.one();
  ASSERT_EQ(r.type, RTM_GETNEIGH);
  EXPECT_EQ(r.address, gw);  // the gateway's MAC, not the target's
  EXPECT_EQ(r.ifindex, 5);
  k.play(neighbour(r.seq, kPort, 5, gw, kMacB, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacB);
  // The old interface's neighbour no longer matters.
  k.play(neighbour(0, 0, 3, t, kMacA, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[0].mac, kMacB);
  // The same route again changes nothing.
  const uint64_t g = k.f.generation();
  k.play(route(78, 999, ip("10.1.0.0"), 9, std::nullopt, RTM_DELROUTE));
  r = k.one();
  k.play(route(r.seq, kPort, t, 5, gw));
  EXPECT_EQ(k.f.generation(), g);
  EXPECT_EQ(k.f.targets()[0].mac, kMacB);
  EXPECT_TRUE(k.take().empty());
}

TEST(NextHopFollower, IPv6TargetsFollowTheirRouterAndOnlyIPv6RouteChanges) {
  const IpAddress v4 = ip("10.0.0.2");
  const IpAddress v6 = ip("fd00::2");
  const IpAddress router = ip("fe80::1");
  Fake k({v4, v6});
  k.f.start();
  auto rs = k.take();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].address, v6);
  k.play(route(rs[0].seq, kPort, v4, 3, std::nullopt));
  k.play(route(rs[1].seq, kPort, v6, 3, router));
  Request r = k.one();  // one link question for both
  ASSERT_EQ(r.type, RTM_GETLINK);
  k.play(link(r.seq, kPort, 3, "eth1", ARPHRD_ETHER, kOurMac));
  rs = k.take();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].address, v4);
  EXPECT_EQ(rs[1].address, router);
  k.play(neighbour(rs[0].seq, kPort, 3, v4, kMacA, NUD_REACHABLE));
  k.play(neighbour(rs[1].seq, kPort, 3, router, kMacB, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[1].mac, kMacB);
  EXPECT_EQ(k.f.targets()[1].gateway, router);
  // The router's MAC changed.
  k.play(neighbour(0, 0, 3, router, kMacA, NUD_REACHABLE));
  EXPECT_EQ(k.f.targets()[1].mac, kMacA);
  // An IPv6 route changed: only the IPv6 target asks again.
  k.play(route(5, 999, ip("fd00::"), 3, std::nullopt));
  r = k.one();
  EXPECT_EQ(r.address, v6);
  // ...and now it is on-link: its own MAC is wanted.
  k.play(route(r.seq, kPort, v6, 3, std::nullopt));
  r = k.one();
  ASSERT_EQ(r.type, RTM_GETNEIGH);
  EXPECT_EQ(r.address, v6);
  k.play(neighbour(r.seq, kPort, 3, v6, kMacB, NUD_DELAY));
  EXPECT_EQ(k.f.targets()[1].mac, kMacB);
  EXPECT_EQ(k.f.targets()[0].mac, kMacA);
}

TEST(NextHopFollower, ADeviceWithoutEthernetFramingHasNoNeighbour) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  k.f.start();
  Request r = k.one();
  k.play(route(r.seq, kPort, t, 8, std::nullopt));
  r = k.one();
  k.play(link(r.seq, kPort, 8, "tun0", ARPHRD_NONE, std::nullopt));
  EXPECT_TRUE(k.take().empty());
  EXPECT_TRUE(k.f.settled());
  ASSERT_NE(k.f.link(8), nullptr);
  EXPECT_FALSE(k.f.link(8)->ethernet());
  EXPECT_FALSE(k.f.targets()[0].mac);
  // Loopback is no Ethernet either.
  Fake lo({t});
  lo.f.start();
  r = lo.one();
  lo.play(route(r.seq, kPort, t, 1, std::nullopt));
  r = lo.one();
  lo.play(link(r.seq, kPort, 1, "lo", ARPHRD_LOOPBACK, mac("00:00:00:00:00:00")));
  EXPECT_TRUE(lo.take().empty());
  EXPECT_FALSE(lo.f.link(1)->ethernet());
}

TEST(NextHopFollower, NoRouteIsReported) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  k.f.start();
  const Request r = k.one();
  k.play(error(r.seq, kPort, ENETUNREACH));
  EXPECT_FALSE(k.f.targets()[0].route_known);
  EXPECT_EQ(k.f.targets()[0].route_error, std::strerror(ENETUNREACH));
  EXPECT_TRUE(k.f.settled());
  // Answers meant for another socket are not ours.
  Fake other({t});
  other.f.start();
  const Request o = other.one();
  other.play(route(o.seq, kPort + 1, t, 3, std::nullopt));
  EXPECT_FALSE(other.f.targets()[0].route_known);
}

TEST(NextHopFollower, FollowsTheInterfacesMacAndItsRemoval) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  learn(k, t, 3, std::nullopt, kMacA);
  const uint64_t g = k.f.generation();
  k.play(link(0, 0, 3, "eth1", ARPHRD_ETHER, kMacB));
  EXPECT_EQ(k.f.link(3)->mac, kMacB);
  EXPECT_GT(k.f.generation(), g);
  // An interface no target uses is not followed.
  k.play(link(0, 0, 4, "eth9", ARPHRD_ETHER, kMacB));
  EXPECT_EQ(k.f.link(4), nullptr);
  // The interface went away: the route is asked for again.
  k.play(link(0, 0, 3, "eth1", ARPHRD_ETHER, kMacB, RTM_DELLINK));
  const Request r = k.one();
  EXPECT_EQ(r.type, RTM_GETROUTE);
  EXPECT_FALSE(k.f.link(3)->known);
}

TEST(NextHopFollower, ResyncAsksForEverythingAgain) {
  const IpAddress t = ip("10.0.0.2");
  Fake k({t});
  learn(k, t, 3, std::nullopt, kMacA);
  k.f.resync();
  const auto rs = k.take();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].type, RTM_GETLINK);
  EXPECT_EQ(rs[1].type, RTM_GETROUTE);
  EXPECT_FALSE(k.f.settled());
}

}  // namespace
}  // namespace tc

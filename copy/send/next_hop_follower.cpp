#include "copy/send/next_hop_follower.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <string.h>

#include <algorithm>
#include <cstring>

namespace tc {

namespace {

constexpr uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
constexpr size_t kRequestBytes = 128;

struct Attrs {
  static constexpr int kMax = 64;
  const nlattr* at[kMax]{};
};

int collect(const nlattr* attr, void* data) {
  auto* a = static_cast<Attrs*>(data);
  const int type = mnl_attr_get_type(attr);
  if (type >= 0 && type < Attrs::kMax) a->at[type] = attr;
  return MNL_CB_OK;
}

Attrs parse(const nlmsghdr* nlh, size_t header) {
  Attrs a;
  mnl_attr_parse(nlh, static_cast<unsigned>(header), collect, &a);
  return a;
}

std::optional<IpAddress> address_of(const nlattr* attr, int family) {
  if (attr == nullptr) return std::nullopt;
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  const uint16_t len = mnl_attr_get_payload_len(attr);
  if (family == AF_INET && len == 4) return IpAddress::from_v4(std::span<const uint8_t, 4>(p, 4));
  if (family == AF_INET6 && len == 16) return IpAddress::from_v6(std::span<const uint8_t, 16>(p, 16));
  return std::nullopt;
}

std::optional<MacAddress> mac_of(const nlattr* attr) {
  if (attr == nullptr || mnl_attr_get_payload_len(attr) != 6) return std::nullopt;
  MacAddress m;
  std::memcpy(m.bytes.data(), mnl_attr_get_payload(attr), 6);
  return m;
}

int family_of(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

void put_address(nlmsghdr* nlh, uint16_t type, const IpAddress& a) {
  if (a.is_v4()) mnl_attr_put(nlh, type, 4, a.v4_bytes().data());
  else mnl_attr_put(nlh, type, 16, a.bytes16().data());
}

}  // namespace

bool FollowedLink::ethernet() const {
  return known && type == ARPHRD_ETHER && (flags & IFF_LOOPBACK) == 0 && mac && !mac->is_zero();
}

NextHopFollower::NextHopFollower(std::vector<IpAddress> targets, uint32_t portid) : portid_(portid) {
  for (IpAddress& t : targets) {
    FollowedTarget f;
    f.target = t;
    targets_.push_back(std::move(f));
  }
}

void NextHopFollower::start() {
  for (size_t i = 0; i < targets_.size(); ++i) ask_route(i);
}

void NextHopFollower::resync() {
  pending_.clear();
  for (const FollowedLink& l : links_) ask_link(l.ifindex);
  start();
}

const FollowedLink* NextHopFollower::link(unsigned ifindex) const {
  for (const FollowedLink& l : links_)
    if (l.ifindex == ifindex) return &l;
  return nullptr;
}

FollowedLink& NextHopFollower::link_entry(unsigned ifindex) {
  for (FollowedLink& l : links_)
    if (l.ifindex == ifindex) return l;
  FollowedLink& l = links_.emplace_back();
  l.ifindex = ifindex;
  return l;
}

bool NextHopFollower::settled() const { return pending_.empty(); }

uint8_t* NextHopFollower::put_header(std::vector<uint8_t>& buf, uint16_t type, uint16_t flags, Ask ask,
                                     size_t index) {
  buf.assign(kRequestBytes, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq_++;
  if (seq_ == 0) seq_ = 1;
  // A resolution has no answer (only an error would): nothing waits for it.
  if (ask != Ask::kResolve) pending_.push_back(Pending{nlh->nlmsg_seq, ask, index});
  return buf.data();
}

void NextHopFollower::ask_route(size_t i) {
  std::vector<uint8_t>& buf = requests_.emplace_back();
  auto* nlh = reinterpret_cast<nlmsghdr*>(put_header(buf, RTM_GETROUTE, 0, Ask::kRoute, i));
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  const IpAddress& t = targets_[i].target;
  rtm->rtm_family = static_cast<uint8_t>(family_of(t));
  rtm->rtm_dst_len = t.is_v4() ? 32 : 128;
  put_address(nlh, RTA_DST, t);
  buf.resize(nlh->nlmsg_len);
}

void NextHopFollower::ask_link(unsigned ifindex) {
  std::vector<uint8_t>& buf = requests_.emplace_back();
  auto* nlh = reinterpret_cast<nlmsghdr*>(put_header(buf, RTM_GETLINK, 0, Ask::kLink, ifindex));
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(ifindex);
  buf.resize(nlh->nlmsg_len);
}

void NextHopFollower::ask_neighbour(size_t i) {
  std::vector<uint8_t>& buf = requests_.emplace_back();
  auto* nlh = reinterpret_cast<nlmsghdr*>(put_header(buf, RTM_GETNEIGH, 0, Ask::kNeighbour, i));
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  const FollowedTarget& t = targets_[i];
  ndm->ndm_family = static_cast<uint8_t>(family_of(t.next_hop()));
  ndm->ndm_ifindex = static_cast<int>(t.ifindex);
  put_address(nlh, NDA_DST, t.next_hop());
  buf.resize(nlh->nlmsg_len);
}

// RTM_NEWNEIGH with NTF_USE: the kernel treats it as a packet waiting for
// the neighbour (neigh_event_send): an absent or failed entry is resolved,
// a stale one confirmed. NLM_F_CREATE makes the entry when there is none.
void NextHopFollower::ask_resolve(size_t i, bool create) {
  std::vector<uint8_t>& buf = requests_.emplace_back();
  auto* nlh = reinterpret_cast<nlmsghdr*>(
      put_header(buf, RTM_NEWNEIGH, static_cast<uint16_t>(create ? NLM_F_CREATE : 0), Ask::kResolve, i));
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  const FollowedTarget& t = targets_[i];
  ndm->ndm_family = static_cast<uint8_t>(family_of(t.next_hop()));
  ndm->ndm_ifindex = static_cast<int>(t.ifindex);
  ndm->ndm_state = NUD_NONE;
  ndm->ndm_flags = NTF_USE;
  put_address(nlh, NDA_DST, t.next_hop());
  buf.resize(nlh->nlmsg_len);
}

void NextHopFollower::on_datagram(std::span<const uint8_t> datagram) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
  int left = static_cast<int>(datagram.size());
  while (mnl_nlmsg_ok(nlh, left)) {
    on_message(nlh);
    nlh = mnl_nlmsg_next(nlh, &left);
  }
  // Route notifications: every target of that family asks again, once per
  // datagram however many routes changed.
  for (size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].target.is_v4() ? requery_v4_ : requery_v6_) ask_route(i);
  requery_v4_ = requery_v6_ = false;
}

std::optional<NextHopFollower::Pending> NextHopFollower::take_pending(const nlmsghdr* nlh) {
  if (nlh->nlmsg_pid != portid_ || nlh->nlmsg_seq == 0) return std::nullopt;
  const auto it = std::find_if(pending_.begin(), pending_.end(),
                               [&](const Pending& p) { return p.seq == nlh->nlmsg_seq; });
  if (it == pending_.end()) return std::nullopt;
  const Pending p = *it;
  pending_.erase(it);
  return p;
}

void NextHopFollower::on_message(const nlmsghdr* nlh) {
  const std::optional<Pending> answer = take_pending(nlh);
  switch (nlh->nlmsg_type) {
    case NLMSG_ERROR:
      if (answer) on_error(nlh, *answer);
      break;
    case RTM_NEWROUTE:
    case RTM_DELROUTE: on_route(nlh, answer ? &*answer : nullptr); break;
    case RTM_NEWLINK:
    case RTM_DELLINK: on_link(nlh, nlh->nlmsg_type == RTM_DELLINK); break;
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH: on_neighbour(nlh, nlh->nlmsg_type == RTM_DELNEIGH, answer ? &*answer : nullptr); break;
    default: break;
  }
}

void NextHopFollower::on_error(const nlmsghdr* nlh, const Pending& p) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr)) return;
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (err->error == 0) return;
  switch (p.ask) {
    case Ask::kRoute: {
      FollowedTarget& t = targets_[p.index];
      t.route_known = false;
      t.route_error = strerror(-err->error);
      t.ifindex = 0;
      t.gateway.reset();
      t.mac.reset();
      t.neighbour_state = 0;
      ++generation_;
      break;
    }
    case Ask::kNeighbour:  // no entry (ENOENT): the kernel makes and resolves one
      if (p.index < targets_.size()) ask_resolve(p.index, true);
      break;
    case Ask::kLink:
    case Ask::kResolve: break;
  }
}

void NextHopFollower::on_route(const nlmsghdr* nlh, const Pending* answer) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg)) return;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (answer == nullptr || answer->ask != Ask::kRoute) {
    // A route changed somewhere: where each target's packets go may have.
    if (rtm->rtm_family == AF_INET) requery_v4_ = true;
    if (rtm->rtm_family == AF_INET6) requery_v6_ = true;
    return;
  }
  const Attrs a = parse(nlh, sizeof(rtmsg));
  FollowedTarget& t = targets_[answer->index];
  const unsigned ifindex = a.at[RTA_OIF] ? mnl_attr_get_u32(a.at[RTA_OIF]) : 0;
  const std::optional<IpAddress> gateway = address_of(a.at[RTA_GATEWAY], rtm->rtm_family);
  const bool same = t.route_known && t.ifindex == ifindex && t.gateway == gateway;
  t.route_known = true;
  t.route_error.clear();
  if (same) return;
  t.ifindex = ifindex;
  t.gateway = gateway;
  t.mac.reset();
  t.neighbour_state = 0;
  ++generation_;
  FollowedLink& l = link_entry(ifindex);
  if (!l.known) {
    if (std::none_of(pending_.begin(), pending_.end(),
                     [&](const Pending& p) { return p.ask == Ask::kLink && p.index == ifindex; }))
      ask_link(ifindex);
    return;  // the next hop is asked for once the interface is known
  }
  follow_next_hop(answer->index);
}

void NextHopFollower::follow_next_hop(size_t i) {
  const FollowedTarget& t = targets_[i];
  const FollowedLink* l = link(t.ifindex);
  // Without Ethernet framing there is no MAC to learn.
  if (t.route_known && l && l->ethernet()) ask_neighbour(i);
}

void NextHopFollower::on_link(const nlmsghdr* nlh, bool removed) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) return;
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  const auto ifindex = static_cast<unsigned>(ifi->ifi_index);
  const auto it = std::find_if(links_.begin(), links_.end(), [&](const FollowedLink& l) { return l.ifindex == ifindex; });
  if (it == links_.end()) return;  // no target's route uses it
  FollowedLink& l = *it;
  if (removed) {
    l = FollowedLink();
    l.ifindex = ifindex;
    for (size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i].ifindex == ifindex) ask_route(i);
    ++generation_;
    return;
  }
  const Attrs a = parse(nlh, sizeof(ifinfomsg));
  const bool was_ethernet = l.ethernet();
  FollowedLink now;
  now.ifindex = ifindex;
  now.known = true;
  if (a.at[IFLA_IFNAME]) now.name = mnl_attr_get_str(a.at[IFLA_IFNAME]);
  now.type = ifi->ifi_type;
  now.flags = ifi->ifi_flags;
  if (a.at[IFLA_MTU]) now.mtu = mnl_attr_get_u32(a.at[IFLA_MTU]);
  now.mac = mac_of(a.at[IFLA_ADDRESS]);
  const bool changed = !l.known || now.name != l.name || now.type != l.type || now.mtu != l.mtu || now.mac != l.mac ||
                       ((now.flags ^ l.flags) & (IFF_UP | IFF_LOOPBACK)) != 0;
  l = std::move(now);
  if (!changed) return;
  ++generation_;
  if (!was_ethernet && l.ethernet())
    for (size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i].route_known && targets_[i].ifindex == ifindex) follow_next_hop(i);
}

void NextHopFollower::on_neighbour(const nlmsghdr* nlh, bool removed, const Pending* answer) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg)) return;
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  const Attrs a = parse(nlh, sizeof(ndmsg));
  const std::optional<IpAddress> dst = address_of(a.at[NDA_DST], ndm->ndm_family);
  if (!dst) return;
  const auto ifindex = static_cast<unsigned>(ndm->ndm_ifindex);
  const std::optional<MacAddress> lladdr = mac_of(a.at[NDA_LLADDR]);
  const uint16_t state = removed ? NUD_NONE : ndm->ndm_state;
  const bool usable = !removed && (state & kUsable) != 0 && lladdr && !lladdr->is_zero();
  for (size_t i = 0; i < targets_.size(); ++i) {
    FollowedTarget& t = targets_[i];
    if (!t.route_known || t.ifindex != ifindex || t.next_hop() != *dst) continue;
    const std::optional<MacAddress> mac = usable ? lladdr : std::nullopt;
    if (mac != t.mac || state != t.neighbour_state) ++generation_;
    t.mac = mac;
    t.neighbour_state = state;
    const bool ours = answer && answer->ask == Ask::kNeighbour && answer->index == i;
    if (usable) {
      // A stale entry is asked to be confirmed, so a MAC that changed
      // without telling is found out.
      if (state == NUD_STALE) ask_resolve(i, false);
    } else if (removed || (ours && state != NUD_INCOMPLETE)) {
      // Gone, or not there when first asked: the kernel resolves it. A
      // neighbour that failed later is left to the packets sent to it
      // meanwhile (through the kernel, which resolves it then).
      ask_resolve(i, true);
    }
  }
}

}  // namespace tc

#include "copy/send/link_sender.h"

#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "copy/send/neighbour_table.h"

namespace tc {

namespace {

constexpr size_t kErrnoOther = LinkSenderStats::kErrnoSlots - 1;
constexpr size_t kMinSlot = 576;
constexpr size_t kMaxSlot = 65535;
constexpr size_t kMaxBatch = 1024;
constexpr size_t kMinRingFrames = 16;
constexpr size_t kMaxRingBytes = size_t{16} << 20;
constexpr size_t kBlockBytes = size_t{64} << 10;
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
// A frame the kernel has not given back: requested, in flight, or refused.
constexpr uint32_t kBusy = TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT;

static_assert(TxRingMemory::kFrameOffset == TPACKET_ALIGN(sizeof(tpacket2_hdr)));
static_assert(TxRingMemory::kFrameOffset == TPACKET2_HDRLEN - sizeof(sockaddr_ll));
// struct virtio_net_hdr (linux/virtio_net.h, not usable from C++): flags,
// gso_type, then hdr_len, gso_size, csum_start, csum_offset (16 bits each,
// little-endian on the hosts this runs on). Zero flags and gso_type
// (VIRTIO_NET_HDR_GSO_NONE): no offload asked for.
constexpr size_t kVnetHdrLen = 2;

size_t errno_slot(int err) {
  return err > 0 && static_cast<size_t>(err) < kErrnoOther ? static_cast<size_t>(err) : kErrnoOther;
}

const char* errno_label(size_t slot) {
  const char* name = slot == kErrnoOther ? nullptr : strerrorname_np(static_cast<int>(slot));
  return name ? name : "other";
}

// The status word is shared with the kernel: the frame's bytes are written
// before the request is seen, and read back only after the kernel let go.
uint32_t load_status(uint8_t* header) {
  return std::atomic_ref<uint32_t>(reinterpret_cast<tpacket2_hdr*>(header)->tp_status).load(std::memory_order_acquire);
}

void store_status(uint8_t* header, uint32_t status) {
  std::atomic_ref<uint32_t>(reinterpret_cast<tpacket2_hdr*>(header)->tp_status).store(status, std::memory_order_release);
}

class SystemRingOps final : public RingOps {
 public:
  ssize_t kick(int fd) override {
    // Non-blocking: the kernel hands every requested frame to the device
    // and returns; frames come back to us when the device is done.
    const ssize_t n = ::send(fd, nullptr, 0, MSG_DONTWAIT);
    return n >= 0 ? n : -errno;
  }
};

[[noreturn]] void fail(const std::string& interface, const std::string& why) {
  throw std::runtime_error("cannot send on " + interface + ": " + why);
}

std::string errno_text(const char* what, int err) {
  if (err == EPERM || err == EACCES)
    return std::string(what) + ": permission denied: needs CAP_NET_RAW (run as root or grant the capability)";
  return std::string(what) + ": " + std::strerror(err);
}

ifreq interface_request(const std::string& interface) {
  ifreq ifr{};
  if (interface.empty() || interface.size() >= IFNAMSIZ) fail(interface, "not an interface name");
  std::memcpy(ifr.ifr_name, interface.c_str(), interface.size());
  return ifr;
}

MacAddress interface_mac(int fd, const std::string& interface) {
  ifreq ifr = interface_request(interface);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) fail(interface, errno_text("its MAC address", errno));
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) fail(interface, "not an Ethernet interface");
  MacAddress m;
  std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

size_t interface_mtu(int fd, const std::string& interface) {
  ifreq ifr = interface_request(interface);
  if (ioctl(fd, SIOCGIFMTU, &ifr) != 0) fail(interface, errno_text("its MTU", errno));
  return static_cast<size_t>(ifr.ifr_mtu);
}

std::vector<LinkSender::NextHop> resolve_next_hops(const LinkSenderOptions& o) {
  std::vector<LinkSender::NextHop> hops;
  if (o.follow) return hops;
  if (o.next_hop) {
    for (const IpAddress& t : o.targets) hops.push_back({t, *o.next_hop});
    return hops;
  }
  const std::string table = read_arp_table();
  for (const IpAddress& t : o.targets) {
    if (!t.is_v4()) fail(o.interface, "IPv6 target " + t.to_string() + " needs --dst-mac (the next hop's MAC)");
    const auto mac = find_neighbour(table, t, o.interface);
    if (!mac)
      fail(o.interface, "no complete entry for " + t.to_string() + " on " + o.interface + " in " + kArpTablePath +
                            "; reach it once (e.g. ping) or give --dst-mac (the next hop's MAC)");
    hops.push_back({t, *mac});
  }
  return hops;
}

size_t clamp_slot(size_t slot_size) { return std::clamp(slot_size, kMinSlot, kMaxSlot); }

// Frames per ring: as asked, within kMaxRingBytes, a whole number of blocks.
size_t ring_frames_for(size_t asked, size_t frame_size) {
  const size_t per_block = std::max<size_t>(kBlockBytes / frame_size, 1);
  size_t frames = std::clamp(asked, kMinRingFrames, std::max(kMaxRingBytes / frame_size, kMinRingFrames));
  return (frames + per_block - 1) / per_block * per_block;
}

}  // namespace

uint64_t LinkSenderStats::dropped_by(int err) const { return dropped[errno_slot(err)]; }

RingOps& system_ring_ops() {
  static SystemRingOps ops;  // stateless
  return ops;
}

size_t LinkSender::frame_size_for(size_t slot_size) {
  // A power of two: a block holds whole frames and frames follow each
  // other without gaps in the mapping.
  return std::bit_ceil(TxRingMemory::kFrameOffset + TxRingMemory::kVnetHeader + kEthernetHeader +
                       clamp_slot(slot_size));
}

LinkSender::Mapping::~Mapping() {
  if (base_ != nullptr) ::munmap(base_, bytes_);
}

struct LinkSender::Link {
  UniqueFd fd;
  Mapping mapping;
  TxRingMemory ring;
  MacAddress source;
  std::vector<NextHop> next_hops;
};

LinkSender::Link LinkSender::open_link(const LinkSenderOptions& options) {
  // In this order, so the first problem reported is the most basic one.
  const std::string& name = options.interface;
  Link link;
  // Protocol 0: the socket only sends; it is handed no received packet.
  link.fd = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!link.fd) fail(name, errno_text("packet socket", errno));
  const int fd = link.fd.get();
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) fail(name, errno == ENODEV ? "no such interface" : errno_text("its index", errno));
  link.source = interface_mac(fd, name);
  const size_t slot = clamp_slot(options.slot_size);
  if (const size_t mtu = interface_mtu(fd, name); mtu < slot)
    fail(name, "its MTU is " + std::to_string(mtu) + ", below the " + std::to_string(slot) +
                   "-byte packets tcpcopy sends (-M/--mtu)");
  link.next_hops = resolve_next_hops(options);

  const int version = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
    fail(name, errno_text("TPACKET_V2", errno));
  // Before the ring exists. A kernel without it sends the ring's pages.
  const int vnet = 1;
  const bool vnet_header = setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &vnet, sizeof vnet) == 0;
  const size_t frame_size = frame_size_for(slot);
  const size_t frames = ring_frames_for(options.ring_frames, frame_size);
  const size_t block = std::max(frame_size, kBlockBytes);
  tpacket_req req{};
  req.tp_block_size = static_cast<unsigned>(block);
  req.tp_frame_size = static_cast<unsigned>(frame_size);
  req.tp_frame_nr = static_cast<unsigned>(frames);
  req.tp_block_nr = static_cast<unsigned>(frames * frame_size / block);
  if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) != 0)
    fail(name, errno_text("transmit ring", errno));
  const size_t bytes = size_t{req.tp_block_nr} * block;
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) fail(name, errno_text("map the transmit ring", errno));
  link.mapping = Mapping(base, bytes);
  link.ring = TxRingMemory{static_cast<uint8_t*>(base), frame_size, frames, vnet_header};
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(index);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) fail(name, errno_text("bind", errno));
  return link;
}

LinkSender::LinkSender(const LinkSenderOptions& options) : LinkSender(options, system_ring_ops(), open_link(options)) {}

LinkSender::LinkSender(const LinkSenderOptions& options, RingOps& ops, TxRingMemory ring, MacAddress source,
                       std::vector<NextHop> next_hops)
    : LinkSender(options, ops, Link{UniqueFd(), Mapping(), ring, source, std::move(next_hops)}) {}

LinkSender::LinkSender(const LinkSenderOptions& options, RingOps& ops, Link link)
    : ops_(ops),
      fd_(std::move(link.fd)),
      mapping_(std::move(link.mapping)),
      ring_(link.ring),
      lead_(ring_.vnet_header ? TxRingMemory::kVnetHeader : 0),
      source_(link.source),
      next_hops_(std::move(link.next_hops)),
      allowed_(options.targets),
      slot_size_(clamp_slot(options.slot_size)),
      batch_(std::clamp<size_t>(options.batch, 1, std::min(kMaxBatch, ring_.frames / 2))) {
  if (options.targets.empty()) throw std::invalid_argument("link sender: no target address");
  if (ring_.frames < 2 || ring_.frame_size < frame_size_for(slot_size_))
    throw std::invalid_argument("link sender: ring frames too few or too small");
  spare_ = std::make_unique_for_overwrite<uint8_t[]>(kEthernetHeader + slot_size_);
  lengths_.resize(batch_);
}

std::span<uint8_t> LinkSender::acquire(const IpAddress&) {
  if (queued_ == batch_) flush();
  acquired_ = true;
  const size_t i = (first_ + queued_) % ring_.frames;
  // Still in flight (the device has not finished with it): never wait.
  acquired_spare_ = (load_status(header(i)) & kBusy) != 0;
  uint8_t* f = acquired_spare_ ? spare_.get() : frame(i);
  return std::span<uint8_t>(f + kEthernetHeader, slot_size_);
}

const MacAddress* LinkSender::next_hop_for(std::span<const uint8_t> packet, bool v6) const {
  // Only called for allowed destinations, which all have a next hop.
  const uint8_t* dst = packet.data() + (v6 ? 24 : 16);
  for (const NextHop& h : next_hops_) {
    if (h.target.is_v4() == v6) continue;
    if (v6 ? std::memcmp(h.target.bytes16().data(), dst, 16) == 0 : std::memcmp(h.target.v4_bytes().data(), dst, 4) == 0)
      return &h.mac;
  }
  return nullptr;
}

void LinkSender::commit(size_t len) {
  if (!acquired_) return;
  acquired_ = false;
  if (len == 0) return;
  if (len > slot_size_) {
    ++stats_.malformed;
    return;
  }
  const size_t i = (first_ + queued_) % ring_.frames;
  uint8_t* f = acquired_spare_ ? spare_.get() : frame(i);
  const std::span<const uint8_t> packet(f + kEthernetHeader, len);
  bool v6 = false;
  switch (allowed_.check(packet, v6)) {
    case DestinationFilter::Verdict::kSend: break;
    case DestinationFilter::Verdict::kRefused: ++stats_.refused_destination; return;
    case DestinationFilter::Verdict::kMalformed: ++stats_.malformed; return;
  }
  const MacAddress* dst = next_hop_for(packet, v6);
  if (dst == nullptr) {  // a target without a next hop cannot be reached
    ++stats_.refused_destination;
    return;
  }
  if (acquired_spare_) {
    ++stats_.ring_full;
    return;
  }
  std::memcpy(f, dst->bytes.data(), 6);
  std::memcpy(f + 6, source_.bytes.data(), 6);
  const uint16_t type = v6 ? kEtherIpv6 : kEtherIpv4;
  f[12] = static_cast<uint8_t>(type >> 8);
  f[13] = static_cast<uint8_t>(type);
  const auto frame_len = static_cast<uint32_t>(kEthernetHeader + len);
  if (lead_ != 0) {
    // The whole frame is the part to copy (a frame too long to say so is
    // sent from the ring's page).
    uint8_t* v = f - lead_;
    std::memset(v, 0, lead_);
    const uint32_t copy = frame_len <= 0xffff ? frame_len : 0;
    v[kVnetHdrLen] = static_cast<uint8_t>(copy);
    v[kVnetHdrLen + 1] = static_cast<uint8_t>(copy >> 8);
  }
  reinterpret_cast<tpacket2_hdr*>(header(i))->tp_len = static_cast<uint32_t>(lead_) + frame_len;
  store_status(header(i), TP_STATUS_SEND_REQUEST);
  lengths_[queued_] = frame_len;
  ++queued_;
}

size_t LinkSender::flush() {
  if (queued_ == 0) return 0;
  if (before_send_) before_send_();
  ssize_t rc = ops_.kick(fd_.get());
  for (int retry = 0; rc == -EINTR && retry < 3; ++retry) rc = ops_.kick(fd_.get());
  // The kernel takes requested frames in ring order and stops at the first
  // it cannot send; that frame stays its next one.
  size_t sent = 0;
  while (sent < queued_) {
    const size_t i = (first_ + sent) % ring_.frames;
    if (load_status(header(i)) & (TP_STATUS_SEND_REQUEST | TP_STATUS_WRONG_FORMAT)) break;
    ++stats_.packets_sent;
    stats_.bytes_sent += lengths_[sent];
    ++sent;
  }
  if (sent < queued_) {
    // Waiting for room would block the loop: give the rest back and count
    // them. Our next frame is again the kernel's next one.
    for (size_t k = sent; k < queued_; ++k) store_status(header((first_ + k) % ring_.frames), TP_STATUS_AVAILABLE);
    stats_.dropped[errno_slot(rc < 0 ? static_cast<int>(-rc) : 0)] += queued_ - sent;
  }
  first_ = (first_ + sent) % ring_.frames;
  queued_ = 0;
  return sent;
}

void LinkSender::set_next_hop(const IpAddress& target, std::optional<MacAddress> mac) {
  const auto it = std::find_if(next_hops_.begin(), next_hops_.end(), [&](const NextHop& h) { return h.target == target; });
  if (!mac) {
    if (it != next_hops_.end()) next_hops_.erase(it);
  } else if (it != next_hops_.end()) {
    it->mac = *mac;
  } else {
    next_hops_.push_back({target, *mac});
  }
}

void LinkSender::report(CounterSink& sink) const {
  stats_.report_sent(sink);
  sink.help("send_ring_full", kRingFullHelp);
  sink.counter("send_ring_full", "", stats_.ring_full);
  sink.help("send_dropped", "Frames of the transmit ring dropped because the device refused the send, by errno");
  for (size_t e = 1; e < LinkSenderStats::kErrnoSlots; ++e)
    if (stats_.dropped[e]) sink.counter("send_dropped", errno_label(e), stats_.dropped[e]);
}

}  // namespace tc

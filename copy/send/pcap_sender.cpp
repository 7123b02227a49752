#include "copy/send/pcap_sender.h"

#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/unique_fd.h"
#include "copy/send/neighbour_table.h"

namespace tc {

namespace {

constexpr size_t kErrnoOther = PcapSenderStats::kErrnoSlots - 1;
constexpr size_t kMinSlot = 576;
constexpr size_t kMaxSlot = 65535;
constexpr size_t kMaxBatch = 1024;
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;

size_t errno_slot(int err) {
  return err > 0 && static_cast<size_t>(err) < kErrnoOther ? static_cast<size_t>(err) : kErrnoOther;
}

const char* errno_label(size_t slot) {
  const char* name = slot == kErrnoOther ? nullptr : strerrorname_np(static_cast<int>(slot));
  return name ? name : "other";
}

class SystemInjectOps final : public InjectOps {
 public:
  int inject(pcap_t* handle, std::span<const uint8_t> frame) override {
    const int n = pcap_inject(handle, frame.data(), frame.size());
    if (n >= 0) return n;
    // libpcap's Linux inject is one send(); its errno is still set.
    return errno > 0 ? -errno : -EIO;
  }
};

[[noreturn]] void fail(const std::string& interface, const std::string& why) {
  throw std::runtime_error("cannot send on " + interface + ": " + why);
}

// An activated handle whose only use is pcap_inject: it captures nothing
// (a filter that accepts no packet), and its socket does not block.
PcapHandle open_for_injection(const std::string& interface) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_create(interface.c_str(), errbuf));
  if (!p) fail(interface, errbuf);
  pcap_set_snaplen(p.get(), 64);
  pcap_set_buffer_size(p.get(), 1 << 20);
  pcap_set_immediate_mode(p.get(), 1);
  if (const int rc = pcap_activate(p.get()); rc < 0) {
    std::string why = pcap_geterr(p.get());
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) why = "no such interface";
    else if (rc == PCAP_ERROR_PERM_DENIED) why = "permission denied: needs CAP_NET_RAW (run as root or grant the capability)";
    else if (why.empty()) why = pcap_statustostr(rc);
    fail(interface, why);
  }
  if (const int dlt = pcap_datalink(p.get()); dlt != DLT_EN10MB)
    fail(interface, "link type " + std::to_string(dlt) + ", only Ethernet interfaces can be used with -o");
  bpf_insn reject_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  bpf_program program{1, reject_all};
  if (pcap_setfilter(p.get(), &program) != 0) fail(interface, std::string("set filter: ") + pcap_geterr(p.get()));
  const int fd = pcap_get_selectable_fd(p.get());
  const int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail(interface, "cannot make the socket non-blocking");
  return p;
}

MacAddress interface_mac(const std::string& interface) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) fail(interface, std::string("socket: ") + std::strerror(errno));
  ifreq ifr{};
  if (interface.size() >= IFNAMSIZ) fail(interface, "interface name too long");
  std::memcpy(ifr.ifr_name, interface.c_str(), interface.size());
  if (ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) fail(interface, std::string("its MAC address: ") + std::strerror(errno));
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) fail(interface, "not an Ethernet interface");
  MacAddress m;
  std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

std::vector<PcapSender::NextHop> resolve_next_hops(const PcapSenderOptions& o) {
  std::vector<PcapSender::NextHop> hops;
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

}  // namespace

uint64_t PcapSenderStats::errors(int err) const { return inject_errors[errno_slot(err)]; }
uint64_t PcapSenderStats::dropped(int err) const { return dropped_full[errno_slot(err)]; }

InjectOps& system_inject_ops() {
  static SystemInjectOps ops;  // stateless
  return ops;
}

PcapSender::Link PcapSender::open_link(const PcapSenderOptions& options) {
  // In this order, so the first problem reported is the most basic one.
  Link link;
  link.handle = open_for_injection(options.interface);
  link.source = interface_mac(options.interface);
  link.next_hops = resolve_next_hops(options);
  return link;
}

PcapSender::PcapSender(const PcapSenderOptions& options)
    : PcapSender(options, system_inject_ops(), open_link(options)) {}

PcapSender::PcapSender(const PcapSenderOptions& options, InjectOps& ops, PcapHandle handle, MacAddress source,
                       std::vector<NextHop> next_hops)
    : PcapSender(options, ops, Link{std::move(handle), source, std::move(next_hops)}) {}

PcapSender::PcapSender(const PcapSenderOptions& options, InjectOps& ops, Link link)
    : ops_(ops),
      handle_(std::move(link.handle)),
      source_(link.source),
      next_hops_(std::move(link.next_hops)),
      allowed_(options.targets),
      slot_size_(std::clamp(options.slot_size, kMinSlot, kMaxSlot)),
      batch_(std::clamp<size_t>(options.batch, 1, kMaxBatch)) {
  if (options.targets.empty()) throw std::invalid_argument("pcap sender: no target address");
  frames_ = std::make_unique_for_overwrite<uint8_t[]>(batch_ * (kEthernetHeader + slot_size_));
  lengths_.resize(batch_);
}

std::span<uint8_t> PcapSender::acquire() {
  if (queued_ == batch_) flush();
  acquired_ = true;
  return std::span<uint8_t>(frame(queued_) + kEthernetHeader, slot_size_);
}

const MacAddress* PcapSender::next_hop_for(std::span<const uint8_t> packet, bool v6) const {
  // Only called for allowed destinations, which all have a next hop.
  const uint8_t* dst = packet.data() + (v6 ? 24 : 16);
  for (const NextHop& h : next_hops_) {
    if (h.target.is_v4() == v6) continue;
    if (v6 ? std::memcmp(h.target.bytes16().data(), dst, 16) == 0 : std::memcmp(h.target.v4_bytes().data(), dst, 4) == 0)
      return &h.mac;
  }
  return nullptr;
}

void PcapSender::commit(size_t len) {
  if (!acquired_) return;
  acquired_ = false;
  if (len == 0) return;
  if (len > slot_size_) {
    ++stats_.malformed;
    return;
  }
  uint8_t* f = frame(queued_);
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
  std::memcpy(f, dst->bytes.data(), 6);
  std::memcpy(f + 6, source_.bytes.data(), 6);
  const uint16_t type = v6 ? kEtherIpv6 : kEtherIpv4;
  f[12] = static_cast<uint8_t>(type >> 8);
  f[13] = static_cast<uint8_t>(type);
  lengths_[queued_] = static_cast<uint32_t>(kEthernetHeader + len);
  ++queued_;
}

size_t PcapSender::flush() {
  if (queued_ == 0) return 0;
  if (before_send_) before_send_();
  size_t sent = 0;
  for (size_t i = 0; i < queued_; ++i) {
    const std::span<const uint8_t> f(frame(i), lengths_[i]);
    int rc = ops_.inject(handle_.get(), f);
    for (int retry = 0; rc == -EINTR && retry < 3; ++retry) rc = ops_.inject(handle_.get(), f);
    if (rc >= 0) {
      ++sent;
      ++stats_.packets_sent;
      stats_.bytes_sent += f.size();
      continue;
    }
    const int err = -rc;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      // The socket or device queue is full: waiting would block the loop.
      stats_.dropped_full[errno_slot(err)] += queued_ - i;
      break;
    }
    ++stats_.inject_errors[errno_slot(err)];  // EMSGSIZE, ENETDOWN, ...: skip this frame
  }
  queued_ = 0;
  return sent;
}

void PcapSender::report(CounterSink& sink) const {
  sink.counter("send_packets", "", stats_.packets_sent);
  sink.counter("send_bytes", "", stats_.bytes_sent);
  sink.counter("send_refused_destination", "", stats_.refused_destination);
  sink.counter("send_malformed", "", stats_.malformed);
  for (size_t e = 1; e < PcapSenderStats::kErrnoSlots; ++e) {
    if (stats_.inject_errors[e]) sink.counter("send_inject_errors", errno_label(e), stats_.inject_errors[e]);
    if (stats_.dropped_full[e]) sink.counter("send_dropped_full", errno_label(e), stats_.dropped_full[e]);
  }
}

}  // namespace tc

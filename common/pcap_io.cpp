#include "common/pcap_io.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tc {

static_assert(linktype::kEthernet == DLT_EN10MB);
static_assert(linktype::kRaw == DLT_RAW);
static_assert(linktype::kLinuxSll == DLT_LINUX_SLL);
static_assert(linktype::kLinuxSll2 == DLT_LINUX_SLL2);
static_assert(linktype::kIpv4 == DLT_IPV4);
static_assert(linktype::kIpv6 == DLT_IPV6);

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw std::runtime_error(what + ": " + why);
}

// pcap_activate's result in words an operator can act on.
std::string activate_error(pcap_t* p, int rc) {
  const std::string detail = pcap_geterr(p);
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "no such interface";
    case PCAP_ERROR_PERM_DENIED:
      return "permission denied: needs CAP_NET_RAW (run as root or grant the capability)" +
             (detail.empty() ? "" : " (" + detail + ")");
    case PCAP_ERROR_IFACE_NOT_UP: return "interface is down";
    default: return detail.empty() ? pcap_statustostr(rc) : detail;
  }
}

}  // namespace

std::string check_filter_syntax(const std::string& expression) {
  PcapHandle dead(pcap_open_dead(DLT_EN10MB, 65535));
  if (!dead) return "cannot check the filter (pcap_open_dead failed)";
  bpf_program program{};
  if (pcap_compile(dead.get(), &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return pcap_geterr(dead.get());
  pcap_freecode(&program);
  return {};
}

std::string install_filter(pcap_t* p, const std::string& expression) {
  if (expression.empty()) return {};
  bpf_program program{};
  if (pcap_compile(p, &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return "invalid filter '" + expression + "': " + pcap_geterr(p);
  const int rc = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (rc != 0) return "cannot install filter '" + expression + "': " + pcap_geterr(p);
  return {};
}

void apply_filter(pcap_t* p, const std::string& expression, const std::string& what) {
  if (std::string err = install_filter(p, expression); !err.empty()) fail(what, err);
}

std::string link_type_problem(pcap_t* p) {
  const int dlt = pcap_datalink(p);
  if (link_type_supported(dlt)) return {};
  const char* name = pcap_datalink_val_to_name(dlt);
  return "link type " + std::to_string(dlt) + (name ? " (" + std::string(name) + ")" : "") +
         " is not supported (Ethernet, Linux cooked v1/v2 and raw IP are)";
}

int require_supported_link_type(pcap_t* p, const std::string& what) {
  if (std::string err = link_type_problem(p); !err.empty()) fail(what, err);
  return pcap_datalink(p);
}

PcapHandle open_live_capture(const std::string& interface, const LiveCaptureConfig& config) {
  const std::string what = "cannot open interface " + interface;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_create(interface.c_str(), errbuf));
  if (!p) fail(what, errbuf);
  if (pcap_set_snaplen(p.get(), config.snaplen) != 0 || pcap_set_promisc(p.get(), 0) != 0 ||
      pcap_set_buffer_size(p.get(), config.buffer_bytes) != 0 ||
      pcap_set_immediate_mode(p.get(), config.immediate ? 1 : 0) != 0 ||
      pcap_set_timeout(p.get(), config.block_timeout_ms) != 0)
    fail(what, "cannot configure the capture");
  if (const int rc = pcap_activate(p.get()); rc < 0) fail(what, activate_error(p.get(), rc));
  require_supported_link_type(p.get(), what);
  if (config.inbound_only && pcap_setdirection(p.get(), PCAP_D_IN) != 0)
    fail(what, std::string("cannot capture inbound packets only: ") + pcap_geterr(p.get()));
  apply_filter(p.get(), config.filter, what);
  if (pcap_setnonblock(p.get(), 1, errbuf) != 0) fail(what, errbuf);
  if (pcap_get_selectable_fd(p.get()) < 0) fail(what, "no descriptor to poll");
  return p;
}

PcapHandle open_capture_file(const std::string& path, std::string& error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
  if (!p) error = errbuf;
  return p;
}

uint64_t LinkErrorCounters::total() const {
  uint64_t sum = 0;
  for (uint64_t v : by_reason) sum += v;
  return sum;
}

LiveCaptureSet::LiveCaptureSet(const std::vector<std::string>& interfaces, const LiveCaptureConfig& config)
    : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  if (interfaces.empty()) throw std::invalid_argument("live capture: no interface");
  for (const std::string& name : interfaces) {
    Handle h;
    h.name = name;
    h.pcap = open_live_capture(name, config);
    h.link_type = pcap_datalink(h.pcap.get());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = handles_.size();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pcap_get_selectable_fd(h.pcap.get()), &ev) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot poll interface " + name);
    handles_.push_back(std::move(h));
  }
}

void LiveCaptureSet::on_frame(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  auto* self = reinterpret_cast<LiveCaptureSet*>(user);
  ++self->stats_.frames;
  std::span<const uint8_t> ip;
  const LinkError e = ip_packet(self->current_link_type_, std::span<const uint8_t>(bytes, header->caplen), ip);
  if (e != LinkError::kNone) {
    self->stats_.link_errors.add(e);
    return;
  }
  self->sink_->on_ip_packet(ip, header->caplen < header->len);
}

size_t LiveCaptureSet::dispatch(IpPacketSink& sink, size_t max_rounds) {
  const uint64_t before = stats_.frames;
  sink_ = &sink;
  // Every handle is asked, ready or not: a non-blocking dispatch on an
  // empty ring returns 0 at once, and the set is small.
  for (Handle& h : handles_) {
    current_link_type_ = h.link_type;
    for (size_t round = 0; round < max_rounds; ++round) {
      const int n =
          pcap_dispatch(h.pcap.get(), kDispatchBatch, &LiveCaptureSet::on_frame, reinterpret_cast<u_char*>(this));
      if (n < 0) {
        ++stats_.dispatch_errors;
        break;
      }
      if (n < kDispatchBatch) break;  // the ring is empty
    }
  }
  sink_ = nullptr;
  return static_cast<size_t>(stats_.frames - before);
}

void LiveCaptureSet::kernel_drops(uint64_t& ring_drops, uint64_t& interface_drops) const {
  ring_drops = interface_drops = 0;
  for (const Handle& h : handles_) {
    pcap_stat st{};
    if (pcap_stats(h.pcap.get(), &st) != 0) continue;
    ring_drops += st.ps_drop;
    interface_drops += st.ps_ifdrop;
  }
}

std::string LiveCaptureSet::describe() const {
  std::string out;
  for (const Handle& h : handles_) {
    if (!out.empty()) out += ", ";
    out += h.name + " (" + link_type_name(h.link_type) + ")";
  }
  return out;
}

}  // namespace tc

#include "copy/capture/ring_capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "copy/capture/port_filter.h"

namespace tc {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

UniqueFd open_ring_socket(const RingCaptureOptions& o) {
  std::vector<sock_filter> program = build_ring_filter(o.ports, o.addresses, o.excluded_ifindexes, o.answer_snaplen);
  if (program.size() > BPF_MAXINSNS)
    throw std::invalid_argument("capture: " + std::to_string(o.ports.size()) + " ports and " +
                                std::to_string(o.addresses.size()) +
                                " addresses make a filter longer than the kernel accepts");
  // Protocol 0: nothing arrives before bind(), so the filter is in place
  // before the first packet.
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    if (errno == EPERM || errno == EACCES) fail("capture ring socket: needs CAP_NET_RAW (run as root or grant the capability)");
    fail("capture ring socket");
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = program.data();
  if (setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) fail("capture ring: attach filter");
  int version = TPACKET_V3;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
    fail("capture ring: TPACKET_V3");
  return fd;
}

}  // namespace

RingCapture::RingCapture(const RingCaptureOptions& o)
    : fd_(open_ring_socket(o)),
      block_bytes_(o.block_bytes),
      block_count_(o.block_count),
      with_answers_(o.answer_snaplen > 0) {
  if (block_count_ == 0 || block_bytes_ == 0 || block_bytes_ % static_cast<size_t>(::getpagesize()) != 0)
    throw std::invalid_argument("capture ring: blocks must be a whole number of pages");
  tpacket_req3 req{};
  req.tp_block_size = static_cast<unsigned>(block_bytes_);
  req.tp_block_nr = static_cast<unsigned>(block_count_);
  req.tp_frame_size = 2048;  // V3 packs packets of any size; this only sizes tp_frame_nr
  req.tp_frame_nr = static_cast<unsigned>(block_bytes_ / req.tp_frame_size * block_count_);
  req.tp_retire_blk_tov = o.block_timeout_ms;
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) fail("capture ring: PACKET_RX_RING");
  void* mem = ::mmap(nullptr, block_bytes_ * block_count_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd_.get(), 0);
  if (mem == MAP_FAILED)  // MAP_LOCKED needs the memlock limit; the ring works unlocked too
    mem = ::mmap(nullptr, block_bytes_ * block_count_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (mem == MAP_FAILED) fail("capture ring: mmap");
  ring_ = static_cast<uint8_t*>(mem);
  sockaddr_ll where{};
  where.sll_family = AF_PACKET;
  where.sll_protocol = htons(ETH_P_ALL);
  where.sll_ifindex = 0;  // every interface
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
    const int err = errno;
    ::munmap(ring_, block_bytes_ * block_count_);
    throw std::system_error(err, std::generic_category(), "capture ring: bind");
  }
  if (o.fanout_members > 1) join_fanout(o);
}

// After bind(): the kernel takes only a bound socket into a group.
void RingCapture::join_fanout(const RingCaptureOptions& o) {
  const bool found = o.fanout_group == 0;
  const int type = PACKET_FANOUT_CBPF | (found ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
  int arg = o.fanout_group | (type << 16);
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
    fail(found ? "capture ring: found the workers' fanout group" : "capture ring: join the workers' fanout group");
  socklen_t len = sizeof arg;
  if (getsockopt(fd_.get(), SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) fail("capture ring: read the fanout group");
  fanout_group_ = static_cast<uint16_t>(arg & 0xffff);
  fanout_members_ = o.fanout_members;
  if (!found) return;
  std::vector<sock_filter> program = build_fanout_program(o.fanout_members);
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = program.data();
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog) != 0)
    fail("capture ring: the fanout program");
}

RingCapture::~RingCapture() {
  if (ring_) ::munmap(ring_, block_bytes_ * block_count_);
}

size_t RingCapture::drain(PacketHandler& handler) {
  size_t delivered = 0;
  for (size_t n = 0; n < kMaxBlocksPerDrain; ++n) {
    auto* block = reinterpret_cast<tpacket_block_desc*>(ring_ + next_block_ * block_bytes_);
    std::atomic_ref<uint32_t> status(block->hdr.bh1.block_status);
    if ((status.load(std::memory_order_acquire) & TP_STATUS_USER) == 0) break;
    ++stats_.blocks;
    const uint32_t count = block->hdr.bh1.num_pkts;
    size_t offset = block->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < count && offset < block_bytes_; ++i) {
      const auto* h = reinterpret_cast<const tpacket3_hdr*>(reinterpret_cast<const uint8_t*>(block) + offset);
      const size_t start = offset + h->tp_mac;
      const auto* from = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<const uint8_t*>(h) +
                                                              TPACKET_ALIGN(sizeof(tpacket3_hdr)));
      if (from->sll_pkttype == PACKET_OUTGOING && start + h->tp_snaplen <= block_bytes_) {
        // An online answer: cut on purpose to its headers and first bytes.
        if (answers_) {
          ++stats_.answers;
          answers_->on_packet(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(block) + start, h->tp_snaplen));
        }
      } else if (h->tp_snaplen < h->tp_len || start + h->tp_snaplen > block_bytes_) {
        ++stats_.truncated;  // part of the packet is missing: useless to replay
      } else {
        ++stats_.packets;
        stats_.bytes += h->tp_snaplen;
        ++delivered;
        handler.on_packet(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(block) + start, h->tp_snaplen));
      }
      if (h->tp_next_offset == 0) break;
      offset += h->tp_next_offset;
    }
    status.store(TP_STATUS_KERNEL, std::memory_order_release);
    next_block_ = (next_block_ + 1) % block_count_;
  }
  return delivered;
}

void RingCapture::read_kernel_stats() const {
  tpacket_stats_v3 s{};
  socklen_t len = sizeof s;
  // Each read returns the counts since the last one.
  if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &s, &len) == 0) stats_.kernel_drops += s.tp_drops;
}

const RingCaptureStats& RingCapture::stats() const {
  read_kernel_stats();
  return stats_;
}

void RingCapture::report(CounterSink& sink) const {
  read_kernel_stats();
  stats_.report(sink, with_answers_);
}

void RingCaptureStats::report(CounterSink& sink, bool with_answers) const {
  TC_COUNTER_REPORT(TC_RING_CAPTURE_COUNTERS, sink);
  if (with_answers) TC_COUNTER_REPORT(TC_RING_ANSWER_COUNTERS, sink);
}

std::string RingCapture::describe() const {
  return "packet ring on every interface (TPACKET_V3, " + std::to_string(block_count_) + " blocks of " +
         std::to_string(block_bytes_ >> 10) + " KiB" + (with_answers_ ? ", with the online answers" : "") +
         (fanout_members_ > 1 ? ", fanout group " + std::to_string(fanout_group_) + " of " +
                                    std::to_string(fanout_members_) + " workers by client port)"
                              : ")");
}

std::vector<int> enslaved_interfaces() {
  std::vector<int> out;
  using Names = struct if_nameindex;
  std::unique_ptr<Names, void (*)(Names*)> list(::if_nameindex(), ::if_freenameindex);
  if (!list) return out;
  for (const Names* i = list.get(); i->if_index != 0; ++i) {
    const std::string dir = std::string("/sys/class/net/") + i->if_name;
    if (::access((dir + "/brport").c_str(), F_OK) == 0 || ::access((dir + "/bonding_slave").c_str(), F_OK) == 0)
      out.push_back(static_cast<int>(i->if_index));
  }
  return out;
}

}  // namespace tc

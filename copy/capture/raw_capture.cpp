#include "copy/capture/raw_capture.h"

#include <netinet/in.h>
#include <string.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "copy/capture/port_filter.h"

namespace tc {

namespace {

class SystemRecvOps final : public RecvOps {
 public:
  int recvmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int flags) override {
    return ::recvmmsg(fd, msgs, vlen, flags, nullptr);
  }
};

constexpr size_t kErrnoOther = RawCaptureStats{}.receive_errors.size() - 1;

size_t errno_slot(int err) { return err > 0 && static_cast<size_t>(err) < kErrnoOther ? static_cast<size_t>(err) : kErrnoOther; }

// The IPv6 socket's counters go by capture6_* instead of capture_*.
class Capture6Names final : public CounterSink {
 public:
  explicit Capture6Names(CounterSink& out) : out_(out) {}
  void counter(std::string_view name, std::string_view reason, uint64_t value) override {
    out_.counter(rename(name), reason, value);
  }
  void gauge(std::string_view name, std::string_view reason, uint64_t value) override {
    out_.gauge(rename(name), reason, value);
  }
  void help(std::string_view name, std::string_view text) override { out_.help(rename(name), text); }

 private:
  static std::string rename(std::string_view name) {
    constexpr std::string_view kFrom = "capture_";
    if (!name.starts_with(kFrom)) return std::string(name);
    return "capture6_" + std::string(name.substr(kFrom.size()));
  }
  CounterSink& out_;
};

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

void attach(int fd, std::vector<sock_filter>& program, const char* what) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = program.data();
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) fail(what);
}

UniqueFd open_capture_socket(const RawCaptureOptions& options) {
  const bool v6 = options.family == AF_INET6;
  std::vector<sock_filter> program =
      v6 ? build_tcp_port_filter(options.ports) : build_port_filter(options.ports, options.addresses);
  if (program.size() > BPF_MAXINSNS)
    throw std::invalid_argument("raw capture: " + std::to_string(options.ports.size()) + " ports and " +
                                std::to_string(options.addresses.size()) +
                                " addresses make a filter longer than the kernel accepts");

  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd) {
    if (errno == EPERM || errno == EACCES)
      fail("raw capture socket: needs CAP_NET_RAW (run as root or grant the capability)");
    fail("raw capture socket");
  }

  // Until the port filter is in place the socket queues every TCP packet:
  // reject everything first, then flush what slipped in before that.
  std::vector<sock_filter> reject = build_reject_all_filter();
  attach(fd.get(), reject, "raw capture: attach filter");

  int size = options.receive_buffer_bytes;
  // SO_RCVBUFFORCE passes rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is
  // silently capped at rmem_max.
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0 &&
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
    fail("raw capture: set receive buffer");

  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) fail("raw capture: enable SO_RXQ_OVFL");
  if (v6 && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) != 0)
    fail("raw capture: enable IPV6_RECVPKTINFO");

  uint8_t scratch[64];
  for (int i = 0; i < 1 << 20; ++i)
    if (::recv(fd.get(), scratch, sizeof scratch, MSG_DONTWAIT) < 0) break;

  attach(fd.get(), program, "raw capture: attach port filter");
  return fd;
}

}  // namespace

RecvOps& system_recv_ops() {
  static SystemRecvOps ops;  // stateless
  return ops;
}

RawCapture::RawCapture(const RawCaptureOptions& options)
    : RawCapture(open_capture_socket(options), system_recv_ops(), options.family) {}

RawCapture::RawCapture(UniqueFd socket, RecvOps& ops, int family)
    : fd_(std::move(socket)),
      ops_(ops),
      family_(family),
      // Not zero-filled: 4 MiB that the kernel overwrites anyway.
      buffers_(std::make_unique_for_overwrite<uint8_t[]>(kBatch * kBufferSize)) {
  prepare_buffers();
}

void RawCapture::prepare_buffers() {
  for (size_t i = 0; i < kBatch; ++i) {
    const size_t front = family_ == AF_INET6 ? kV6Header : 0;
    iov_[i].iov_base = buffers_.get() + i * kBufferSize + front;
    iov_[i].iov_len = kBufferSize - front;
    msghdr& h = msgs_[i].msg_hdr;
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_[i].bytes;
    if (family_ == AF_INET6) {
      h.msg_name = &sources_[i];
      h.msg_namelen = sizeof sources_[i];
    }
  }
}

void RawCapture::read_control(msghdr& hdr, in6_addr* destination) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
    if (destination && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
        c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      *destination = info.ipi6_addr;
      continue;
    }
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL || c->cmsg_len < CMSG_LEN(sizeof(uint32_t)))
      continue;
    uint32_t total = 0;
    std::memcpy(&total, CMSG_DATA(c), sizeof total);
    // A running 32-bit total as of when this packet was queued; count the
    // growth, tolerating wrap-around and older totals arriving late.
    const uint32_t delta = total - last_drop_total_;
    if (delta != 0 && delta < 0x80000000u) {
      stats_.kernel_drops += delta;
      last_drop_total_ = total;
    }
  }
}

size_t RawCapture::drain(PacketHandler& handler) {
  size_t delivered = 0;
  for (size_t batch = 0; batch < kMaxBatchesPerDrain; ++batch) {
    for (mmsghdr& m : msgs_) {
      m.msg_hdr.msg_controllen = kControlSize;  // value-result: reset every call
      m.msg_hdr.msg_flags = 0;
      m.msg_len = 0;
      if (family_ == AF_INET6) m.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
    }
    ++stats_.receive_calls;
    const int n = ops_.recvmmsg(fd_.get(), msgs_.data(), static_cast<unsigned int>(kBatch), MSG_DONTWAIT);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err != EAGAIN && err != EWOULDBLOCK) ++stats_.receive_errors[errno_slot(err)];
      break;
    }
    for (size_t i = 0; i < static_cast<size_t>(n) && i < kBatch; ++i) {
      mmsghdr& m = msgs_[i];
      in6_addr destination{};
      read_control(m.msg_hdr, family_ == AF_INET6 ? &destination : nullptr);
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {  // part of the packet is missing: useless to replay
        ++stats_.truncated;
        continue;
      }
      uint8_t* packet = buffers_.get() + i * kBufferSize;
      size_t len = m.msg_len < iov_[i].iov_len ? m.msg_len : iov_[i].iov_len;
      if (family_ == AF_INET6) {
        // Rebuild the IPv6 header the kernel took off: version, payload
        // length, next header TCP, hop limit, source and destination.
        const uint8_t fixed[8] = {0x60, 0, 0, 0, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 6, 64};
        std::memcpy(packet, fixed, sizeof fixed);
        std::memcpy(packet + 8, &sources_[i].sin6_addr, 16);
        std::memcpy(packet + 24, &destination, 16);
        len += kV6Header;
      }
      ++stats_.packets;
      stats_.bytes += len;
      ++delivered;
      handler.on_packet(std::span<const uint8_t>(packet, len));
    }
    if (static_cast<size_t>(n) < kBatch) break;  // the queue is empty
  }
  return delivered;
}

void RawCapture::report(CounterSink& sink) const {
  if (family_ != AF_INET6) return stats_.report(sink);
  Capture6Names v6(sink);
  stats_.report(v6);
}

void RawCaptureStats::report(CounterSink& sink) const {
  TC_COUNTER_REPORT(TC_RAW_CAPTURE_COUNTERS, sink);
  // By errno, and only those that occurred: too many to list them all.
  sink.help("capture_receive_errors", "Failed reads of a raw capture socket, by errno");
  for (size_t e = 1; e < receive_errors.size(); ++e) {
    if (receive_errors[e] == 0) continue;
    const char* name = e == kErrnoOther ? nullptr : strerrorname_np(static_cast<int>(e));
    sink.counter("capture_receive_errors", name ? name : "other", receive_errors[e]);
  }
}

int RawCapture::receive_buffer_bytes() const {
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, &len) != 0) return -1;
  return size;
}

}  // namespace tc

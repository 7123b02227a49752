#include "copy/send/raw_sender.h"

#include <string.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tc {

namespace {

class SystemSendOps final : public SendOps {
 public:
  int sendmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int flags) override {
    return ::sendmmsg(fd, msgs, vlen, flags);
  }
};

constexpr size_t kErrnoOther = RawSenderStats::kErrnoSlots - 1;
constexpr size_t kMinSlot = 1500;
constexpr size_t kMaxSlot = 65535;  // an IPv4 total length
constexpr size_t kMaxBatch = 1024;  // UIO_MAXIOV, the sendmmsg limit

size_t errno_slot(int err) {
  return err > 0 && static_cast<size_t>(err) < kErrnoOther ? static_cast<size_t>(err) : kErrnoOther;
}

const char* errno_label(size_t slot) {
  const char* name = slot == kErrnoOther ? nullptr : strerrorname_np(static_cast<int>(slot));
  return name ? name : "other";
}

UniqueFd open_raw_socket(int family, int send_buffer_bytes) {
  UniqueFd fd(::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW));
  const char* what = family == AF_INET ? "raw IPv4 send socket" : "raw IPv6 send socket";
  if (!fd) {
    if (errno == EPERM || errno == EACCES)
      throw std::system_error(errno, std::generic_category(),
                              std::string(what) + ": needs CAP_NET_RAW (run as root or grant the capability)");
    throw std::system_error(errno, std::generic_category(), what);
  }
  int size = send_buffer_bytes;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0 &&
      setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size) != 0)
    throw std::system_error(errno, std::generic_category(), std::string(what) + ": set send buffer");
  return fd;
}

bool any_of_family(const std::vector<IpAddress>& targets, bool v4) {
  return std::any_of(targets.begin(), targets.end(), [v4](const IpAddress& a) { return a.is_v4() == v4; });
}

}  // namespace

uint64_t RawSenderStats::errors(int err) const { return send_errors[errno_slot(err)]; }
uint64_t RawSenderStats::dropped(int err) const { return dropped_full[errno_slot(err)]; }
uint64_t RawSenderStats::total_dropped_full() const {
  uint64_t sum = 0;
  for (uint64_t v : dropped_full) sum += v;
  return sum;
}

SendOps& system_send_ops() {
  static SystemSendOps ops;  // stateless
  return ops;
}

RawSender::RawSender(const RawSenderOptions& options)
    : RawSender(options, system_send_ops(),
                any_of_family(options.targets, true) ? open_raw_socket(AF_INET, options.send_buffer_bytes) : UniqueFd(),
                any_of_family(options.targets, false) ? open_raw_socket(AF_INET6, options.send_buffer_bytes)
                                                      : UniqueFd()) {}

RawSender::RawSender(const RawSenderOptions& options, SendOps& ops, UniqueFd v4_socket, UniqueFd v6_socket)
    : ops_(ops),
      v4_(std::move(v4_socket)),
      v6_(std::move(v6_socket)),
      allowed_(options.targets),
      slot_size_(std::clamp(options.slot_size, kMinSlot, kMaxSlot)),
      batch_(std::clamp<size_t>(options.batch, 1, kMaxBatch)) {
  if (options.targets.empty()) throw std::invalid_argument("raw sender: no target address");
  // A family without a socket has no allowed destination either.
  if (!v4_) allowed_.refuse_v4();
  if (!v6_) allowed_.refuse_v6();

  slots_ = std::make_unique_for_overwrite<uint8_t[]>(batch_ * slot_size_);
  msgs_.resize(batch_);
  iov_.resize(batch_);
  addrs_.resize(batch_);
  is_v6_.resize(batch_);
  for (size_t i = 0; i < batch_; ++i) {
    iov_[i].iov_base = slots_.get() + i * slot_size_;
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
  }
}

std::span<uint8_t> RawSender::acquire(const IpAddress&) {
  if (queued_ == batch_) flush();
  acquired_ = true;
  return std::span<uint8_t>(slots_.get() + queued_ * slot_size_, slot_size_);
}

void RawSender::commit(size_t len) {
  if (!acquired_) return;  // nothing was handed out
  acquired_ = false;
  if (len == 0) return;
  if (len > slot_size_) {
    ++stats_.malformed;
    return;
  }
  const size_t i = queued_;
  const std::span<const uint8_t> packet(slots_.get() + i * slot_size_, len);
  bool v6 = false;
  switch (allowed_.check(packet, v6)) {
    case DestinationFilter::Verdict::kSend: break;
    case DestinationFilter::Verdict::kRefused: ++stats_.refused_destination; return;
    case DestinationFilter::Verdict::kMalformed: ++stats_.malformed; return;
  }

  // The kernel routes by msg_name; with IP_HDRINCL the header's own
  // destination is what goes on the wire, and both are the same address.
  sockaddr_storage& ss = addrs_[i];
  std::memset(&ss, 0, sizeof ss);
  if (v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, packet.data() + 24, 16);
    std::memcpy(&ss, &sa, sizeof sa);
    msgs_[i].msg_hdr.msg_namelen = sizeof sa;
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, packet.data() + 16, 4);
    std::memcpy(&ss, &sa, sizeof sa);
    msgs_[i].msg_hdr.msg_namelen = sizeof sa;
  }
  iov_[i].iov_len = len;
  is_v6_[i] = v6 ? 1 : 0;
  ++queued_;
}

size_t RawSender::flush() {
  if (queued_ == 0) return 0;
  if (before_send_) before_send_();
  const uint64_t before = stats_.packets_sent;
  size_t begin = 0;
  while (begin < queued_) {
    // sendmmsg takes one socket: send each run of one IP version in order.
    size_t end = begin + 1;
    while (end < queued_ && is_v6_[end] == is_v6_[begin]) ++end;
    send_run(begin, end, is_v6_[begin] ? v6_.get() : v4_.get());
    begin = end;
  }
  queued_ = 0;
  return static_cast<size_t>(stats_.packets_sent - before);
}

void RawSender::send_run(size_t begin, size_t end, int fd) {
  int interrupts = 0;
  size_t i = begin;
  while (i < end) {
    ++stats_.send_calls;
    const int n = ops_.sendmmsg(fd, &msgs_[i], static_cast<unsigned int>(end - i), MSG_DONTWAIT);
    if (n > 0) {
      const size_t sent = std::min(static_cast<size_t>(n), end - i);
      for (size_t k = i; k < i + sent; ++k) stats_.bytes_sent += iov_[k].iov_len;
      stats_.packets_sent += sent;
      i += sent;
      continue;  // a short count means message i failed: the next call reports why
    }
    const int err = n == 0 ? EAGAIN : errno;
    if (err == EINTR && ++interrupts <= 3) continue;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      // The socket or device queue is full: waiting would block the loop,
      // so drop the rest of the run.
      stats_.dropped_full[errno_slot(err)] += end - i;
      return;
    }
    // This message cannot be sent (EPERM from a full conntrack table,
    // EMSGSIZE, EHOSTUNREACH, ...): skip it and go on with the next.
    ++stats_.send_errors[errno_slot(err)];
    ++i;
  }
}

void RawSender::report(CounterSink& sink) const {
  stats_.report_sent(sink);
  // Labelled by errno, and only the ones that happened.
  sink.help("send_errors", "Packets the raw sockets could not send, by errno");
  sink.help("send_dropped_full", "Packets dropped because the raw socket or the device queue was full");
  for (size_t e = 1; e < RawSenderStats::kErrnoSlots; ++e) {
    if (stats_.send_errors[e]) sink.counter("send_errors", errno_label(e), stats_.send_errors[e]);
    if (stats_.dropped_full[e]) sink.counter("send_dropped_full", errno_label(e), stats_.dropped_full[e]);
  }
}

}  // namespace tc

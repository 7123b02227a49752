#include "intercept/nfqueue/nfqueue_socket.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "intercept/nfqueue/nfqueue_messages.h"

namespace tc::intercept {

void MnlSocketCloser::operator()(mnl_socket* s) const { mnl_socket_close(s); }

namespace {

// Room per queued packet in the socket receive buffer: the message (about
// 700 bytes with a 512-byte copy) plus skb overhead, with slack.
constexpr uint64_t kReceiveBytesPerPacket = 2048;
constexpr uint64_t kMinReceiveBuffer = 4u << 20;
constexpr uint64_t kMaxReceiveBuffer = 1u << 30;

std::string explain(int err, uint16_t queue_num, bool has_net_admin) {
  const std::string q = std::to_string(queue_num);
  switch (err) {
    case EPERM:
      // The kernel says EPERM both for a queue owned by another socket and
      // for a caller without CAP_NET_ADMIN.
      if (has_net_admin) return "queue " + q + " is already bound by another process";
      return "permission denied: binding a queue needs CAP_NET_ADMIN (run as root)";
    case EBUSY:
      return "queue " + q + " is already bound";
    case EOPNOTSUPP:
      return "the kernel does not support the requested queue flags";
    case EINVAL:
      return "the kernel rejected the request (is the nfnetlink_queue module available?)";
    default:
      return std::strerror(err);
  }
}

}  // namespace

NfqueueSocket::NfqueueSocket(const Config& config) : config_(config) {
  nl_.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!nl_) throw std::runtime_error(std::string("cannot open netlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(nl_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw std::runtime_error(std::string("cannot bind netlink socket: ") + std::strerror(errno));
  portid_ = mnl_socket_get_portid(nl_.get());
  set_receive_buffer(config.queue_maxlen);

  // The kernel answers a request synchronously; the timeout only guards
  // against waiting forever on something unexpected.
  timeval tv{};
  tv.tv_sec = 5;
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
    throw std::runtime_error(std::string("cannot set the netlink socket's receive timeout: ") + std::strerror(errno));

  std::array<uint8_t, nfq::kConfigBufferSize> buf{};
  request(std::span(buf).first(nfq::put_bind_request(buf, config.queue_num, 1)), 1, "cannot bind NFQUEUE");
  buf.fill(0);
  request(std::span(buf).first(nfq::put_settings_request(buf, config.queue_num, config.queue_maxlen, 2)), 2,
          "cannot configure NFQUEUE");

  const int flags = fcntl(fd(), F_GETFL);
  if (flags < 0 || fcntl(fd(), F_SETFL, flags | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("cannot make the netlink socket non-blocking: ") + std::strerror(errno));
}

int NfqueueSocket::fd() const { return mnl_socket_get_fd(nl_.get()); }

void NfqueueSocket::set_receive_buffer(uint32_t queue_maxlen) {
  uint64_t want = uint64_t{queue_maxlen} * kReceiveBytesPerPacket;
  if (want < kMinReceiveBuffer) want = kMinReceiveBuffer;
  if (want > kMaxReceiveBuffer) want = kMaxReceiveBuffer;
  const int bytes = static_cast<int>(want);
  // SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN;
  // SO_RCVBUF is capped by rmem_max.
  // Its success also tells that this process holds CAP_NET_ADMIN.
  has_net_admin_ = setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0;
  if (!has_net_admin_ && setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
    throw std::runtime_error(std::string("cannot size the netlink receive buffer: ") + std::strerror(errno));
  socklen_t len = sizeof rcvbuf_bytes_;
  if (getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes_, &len) != 0)
    throw std::runtime_error(std::string("cannot read the netlink receive buffer size: ") + std::strerror(errno));
}

void NfqueueSocket::request(std::span<const uint8_t> message, uint32_t seq, const char* what) {
  if (message.empty()) throw std::logic_error("config message does not fit its buffer");
  if (mnl_socket_sendto(nl_.get(), message.data(), message.size()) < 0)
    throw std::runtime_error(std::string(what) + ": " + explain(errno, config_.queue_num, has_net_admin_));

  // Packets may be queued as soon as the bind is done, before the ack of a
  // later request is read; they get a drop verdict here, so none is stranded.
  std::optional<uint32_t> drop_up_to;
  std::optional<int> result;
  std::vector<uint8_t> buf(64 * 1024);
  while (!result) {
    const ssize_t n = mnl_socket_recvfrom(nl_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      if (errno == EAGAIN) throw std::runtime_error(std::string(what) + ": no answer from the kernel");
      throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
    }
    nfq::for_each_message(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)),
                          [&](const nfq::QueueMessage& m) {
                            if (m.kind == nfq::QueueMessage::Kind::kPacket) {
                              drop_up_to = m.packet_id;
                              ++counters_.dropped_during_setup;
                            } else if (m.kind == nfq::QueueMessage::Kind::kAck && m.seq == seq) {
                              result = m.error;
                            }
                          });
  }
  if (drop_up_to) {
    std::array<uint8_t, nfq::kVerdictMessageSize> v{};
    const Verdict drop{Verdict::Kind::kDropUpTo, *drop_up_to};
    const size_t len = nfq::put_verdicts(std::span(&drop, 1), config_.queue_num, v);
    // Unanswered, they would stay queued in the kernel until it drops them.
    if (mnl_socket_sendto(nl_.get(), v.data(), len) < 0)
      throw std::runtime_error(std::string(what) + ": cannot drop the packets queued meanwhile: " +
                               std::strerror(errno));
  }
  if (*result != 0)
    throw std::runtime_error(std::string(what) + ": " + explain(-*result, config_.queue_num, has_net_admin_));
}

int NfqueueSocket::receive(std::span<ReceivedDatagram> slots) {
  if (msgs_.size() < slots.size()) {
    msgs_.resize(slots.size());
    iovs_.resize(slots.size());
    peers_.resize(slots.size());
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    iovs_[i] = {slots[i].buffer.data(), slots[i].buffer.size()};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &peers_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_nl);
  }
  const int n = recvmmsg(fd(), msgs_.data(), static_cast<unsigned>(slots.size()), MSG_DONTWAIT, nullptr);
  if (n < 0) return -errno;
  for (int i = 0; i < n; ++i) {
    const auto at = static_cast<size_t>(i);
    // Only the kernel (port id 0) may speak on this socket; anything else is ignored.
    const bool from_kernel = peers_[at].nl_pid == 0;
    slots[at].length = from_kernel ? msgs_[at].msg_len : 0;
    slots[at].truncated = (msgs_[at].msg_hdr.msg_flags & MSG_TRUNC) != 0;
  }
  return n;
}

int NfqueueSocket::send(std::span<const uint8_t> messages) {
  if (mnl_socket_sendto(nl_.get(), messages.data(), messages.size()) < 0) return -errno;
  return 0;
}

void NfqueueSocketCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_NFQUEUE_SOCKET_COUNTERS, sink); }

}  // namespace tc::intercept

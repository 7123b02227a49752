#include "copy/capture/answer_capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include "copy/capture/port_filter.h"

namespace tc {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

void attach(int fd, std::vector<sock_filter>& program, const char* what) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = program.data();
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) fail(what);
}

UniqueFd open_answer_socket(const std::vector<uint16_t>& ports) {
  std::vector<sock_filter> program = build_answer_filter(ports, AnswerCapture::kSnaplen);
  if (program.size() > BPF_MAXINSNS)
    throw std::invalid_argument("answer capture: " + std::to_string(ports.size()) +
                                " ports make a filter longer than the kernel accepts");
  // Protocol 0: the socket receives nothing until it is bound, so the
  // filter is in place before the first packet.
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    if (errno == EPERM || errno == EACCES)
      fail("answer capture socket: needs CAP_NET_RAW (run as root or grant the capability)");
    fail("answer capture socket");
  }
  attach(fd.get(), program, "answer capture: attach filter");
  int size = 8 << 20;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0 &&
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
    fail("answer capture: set receive buffer");
  sockaddr_ll where{};
  where.sll_family = AF_PACKET;
  where.sll_protocol = htons(ETH_P_ALL);
  where.sll_ifindex = 0;  // every interface
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) fail("answer capture: bind");
  return fd;
}

}  // namespace

AnswerCapture::AnswerCapture(const std::vector<uint16_t>& ports)
    : AnswerCapture(open_answer_socket(ports), system_recv_ops()) {}

AnswerCapture::AnswerCapture(UniqueFd socket, RecvOps& ops) : fd_(std::move(socket)), ops_(ops) { prepare(); }

void AnswerCapture::prepare() {
  for (size_t i = 0; i < kBatch; ++i) {
    iov_[i].iov_base = buffers_[i].data();
    iov_[i].iov_len = kSnaplen;
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

size_t AnswerCapture::drain(PacketHandler& handler) {
  size_t delivered = 0;
  for (size_t batch = 0; batch < kMaxBatchesPerDrain; ++batch) {
    for (mmsghdr& m : msgs_) {
      m.msg_hdr.msg_flags = 0;
      m.msg_len = 0;
    }
    const int n = ops_.recvmmsg(fd_.get(), msgs_.data(), static_cast<unsigned int>(kBatch), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.receive_errors;
      break;
    }
    for (size_t i = 0; i < static_cast<size_t>(n) && i < kBatch; ++i) {
      // Cut on purpose (MSG_TRUNC): the headers and the first bytes suffice.
      const size_t len = msgs_[i].msg_len < kSnaplen ? msgs_[i].msg_len : kSnaplen;
      ++stats_.packets;
      ++delivered;
      handler.on_packet(std::span<const uint8_t>(buffers_[i].data(), len));
    }
    if (static_cast<size_t>(n) < kBatch) break;
  }
  return delivered;
}

void AnswerCapture::report(CounterSink& sink) const {
  tpacket_stats ks{};
  socklen_t len = sizeof ks;
  // Reading the statistics resets them in the kernel: add them up here.
  if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) stats_.kernel_drops += ks.tp_drops;
  stats_.report(sink);
}

void AnswerCaptureStats::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_ANSWER_CAPTURE_COUNTERS, sink); }

}  // namespace tc

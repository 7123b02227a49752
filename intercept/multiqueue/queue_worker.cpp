#include "intercept/multiqueue/queue_worker.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace tc::intercept {

bool HandoffDecider::accept(std::span<const uint8_t> packet) {
  const ParseError err = TcpPacket::parse(packet, packet_, Extent::kHeadersOnly);
  if (err != ParseError::kNone) {
    ++counters_.parse_errors[static_cast<size_t>(err)];
    return false;
  }
  if (std::find(passlist_.begin(), passlist_.end(), packet_.dst) != passlist_.end()) {
    ++counters_.passlisted;
    return true;
  }
  // The reply travels target -> client; the session key is as the target sees it.
  const SessionKey key{packet_.dst, packet_.src, packet_.dport, packet_.sport};
  if (ring_.push(key, RoutedReply::of(packet_))) ++counters_.handed_off;
  else ++counters_.shed;
  return false;
}

void HandoffCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_HANDOFF_COUNTERS, sink); }

namespace {

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  return fd;
}

void signal_fd(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t r = ::write(fd, &one, sizeof one);
}

}  // namespace

QueueWorker::QueueWorker(uint16_t queue_num, uint32_t queue_maxlen, std::vector<IpAddress> passlist,
                         std::chrono::microseconds batch_wait, size_t ring_slots)
    : source_(queue_num, queue_maxlen),
      ring_(ring_slots),
      decider_(std::move(passlist), ring_),
      notify_(make_eventfd()),
      wake_(make_eventfd()),
      pacer_(batch_wait) {}

QueueWorker::~QueueWorker() { stop(); }

void QueueWorker::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void QueueWorker::stop() {
  if (!thread_.joinable()) return;
  signal_fd(wake_.get());
  thread_.join();
}

void QueueWorker::run() {
  pollfd fds[2] = {{source_.fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  try {
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
      }
      if (fds[1].revents) return;
      if (fds[0].revents == 0) continue;
      uint64_t before;
      uint64_t after;
      size_t handled;
      {
        std::lock_guard lock(mu_);
        before = decider_.handed_off();
        handled = source_.drain(decider_);
        after = decider_.handed_off();
      }
      if (after != before) signal_fd(notify_.get());
      pacer_.end_of_turn(handled);
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    failure_ = describe() + ": " + e.what();
    signal_fd(notify_.get());
  }
}

std::string QueueWorker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void QueueWorker::report(CounterSink& sink) const {
  std::lock_guard lock(mu_);
  source_.report(sink);
  decider_.report(sink);
}

}  // namespace tc::intercept

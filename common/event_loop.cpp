#include "common/event_loop.h"

#include <cerrno>
#include <system_error>

namespace tc {

EventLoop::EventLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

EventLoop::~EventLoop() {
  for (Slot* slot : slots_) {
    slot->loop = nullptr;
    slot->live = false;
  }
}

EventLoop::Registration EventLoop::add(int fd, uint32_t events, Handler h) {
  auto slot = std::make_unique<Slot>(Slot{this, fd, std::move(h), true});
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = slot.get();
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
  slots_.insert(slot.get());
  return Registration(std::move(slot));
}

bool EventLoop::modify(Slot& slot, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &slot;
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, slot.fd, &ev) == 0) return true;
  ++ctl_failures_;
  return false;
}

void EventLoop::remove(std::unique_ptr<Slot> slot) {
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, slot->fd, nullptr) != 0 && errno != EBADF && errno != ENOENT)
    ++ctl_failures_;
  slots_.erase(slot.get());
  slot->live = false;
  // A handler may be running (it may be removing itself), and the batch
  // may hold an event for this slot: keep it until the batch ends.
  if (dispatching_) retired_.push_back(std::move(slot));
}

EventLoop::Registration& EventLoop::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    slot_ = std::move(other.slot_);
  }
  return *this;
}

bool EventLoop::Registration::modify(uint32_t events) {
  if (!slot_ || slot_->loop == nullptr) return false;
  return slot_->loop->modify(*slot_, events);
}

void EventLoop::Registration::reset() {
  if (!slot_) return;
  EventLoop* loop = slot_->loop;
  if (loop != nullptr) loop->remove(std::move(slot_));
  slot_.reset();
}

size_t EventLoop::run_once(Duration timeout) {
  epoll_event events[64];
  int ms = -1;
  if (timeout.count() >= 0) ms = static_cast<int>((timeout.count() + 999999) / 1000000);
  const int n = epoll_wait(epfd_.get(), events, 64, ms);
  if (n < 0 && errno != EINTR) ++wait_failures_;
  if (n <= 0) return 0;  // timed out, or a signal came
  struct BatchScope {
    EventLoop& loop;
    explicit BatchScope(EventLoop& l) : loop(l) { loop.dispatching_ = true; }
    ~BatchScope() {
      loop.dispatching_ = false;
      loop.retired_.clear();
    }
  } scope(*this);
  for (int i = 0; i < n; ++i) {
    Slot* slot = static_cast<Slot*>(events[i].data.ptr);
    if (slot != nullptr && slot->live) slot->handler(events[i].events);
  }
  return static_cast<size_t>(n);
}

}  // namespace tc

#include "common/event_loop.h"

#include <cerrno>
#include <system_error>

namespace tc {

EventLoop::EventLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void EventLoop::add(int fd, uint32_t events, Handler h) {
  auto slot = std::make_unique<Slot>(Slot{std::move(h), true});
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = slot.get();
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
  auto& entry = slots_[fd];
  if (entry) retire(std::move(entry));  // an fd closed and reopened without remove()
  entry = std::move(slot);
}

bool EventLoop::modify(int fd, uint32_t events) {
  const auto it = slots_.find(fd);
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = it == slots_.end() ? nullptr : it->second.get();
  if (ev.data.ptr && epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0) return true;
  ++ctl_failures_;
  return false;
}

void EventLoop::remove(int fd) {
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF && errno != ENOENT) ++ctl_failures_;
  const auto it = slots_.find(fd);
  if (it == slots_.end()) return;
  retire(std::move(it->second));
  slots_.erase(it);
}

void EventLoop::retire(std::unique_ptr<Slot> slot) {
  slot->live = false;
  // A handler may be running (it may be removing itself): keep the slot
  // until the batch ends.
  if (dispatching_) retired_.push_back(std::move(slot));
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

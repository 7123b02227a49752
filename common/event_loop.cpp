#include "common/event_loop.h"

#include <cerrno>
#include <system_error>

namespace tc {

EventLoop::EventLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void EventLoop::add(int fd, uint32_t events, Handler h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
  handlers_[fd] = std::move(h);
}

bool EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0) return true;
  ++ctl_failures_;
  return false;
}

void EventLoop::remove(int fd) {
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF && errno != ENOENT) ++ctl_failures_;
  handlers_.erase(fd);
}

size_t EventLoop::run_once(Duration timeout) {
  epoll_event events[64];
  int ms = -1;
  if (timeout.count() >= 0) ms = static_cast<int>((timeout.count() + 999999) / 1000000);
  const int n = epoll_wait(epfd_.get(), events, 64, ms);
  if (n < 0 && errno != EINTR) ++wait_failures_;
  if (n <= 0) return 0;  // timed out, or a signal came
  for (int i = 0; i < n; ++i) {
    auto it = handlers_.find(events[i].data.fd);
    if (it == handlers_.end()) continue;
    Handler h = it->second;  // the handler may remove itself
    h(events[i].events);
  }
  return static_cast<size_t>(n);
}

}  // namespace tc

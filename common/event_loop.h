// A small epoll loop for the I/O shells. Handlers are registered per fd;
// the loop wakes for I/O or at the earliest deadline a caller asks for.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "common/clock.h"
#include "common/unique_fd.h"

namespace tc {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;

  EventLoop();  // throws std::system_error
  void add(int fd, uint32_t events, Handler h);
  void modify(int fd, uint32_t events);
  void remove(int fd);
  // Waits at most `timeout` (negative: forever) and dispatches ready fds.
  // Returns how many fds were ready (0: timed out or interrupted).
  size_t run_once(Duration timeout);

 private:
  UniqueFd epfd_;
  std::unordered_map<int, Handler> handlers_;
};

}  // namespace tc

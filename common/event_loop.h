// A small epoll loop for the I/O shells. Handlers are registered per fd;
// the loop wakes for I/O or at the earliest deadline a caller asks for.
//
// Each registration lives in a slot of its own whose address epoll carries,
// so an event reaches the handler it was armed for: a handler that removes
// another fd (or its own) mid-batch leaves a dead slot that the rest of the
// batch skips, even when the fd number comes back at once with a new
// handler. Dead slots are freed after the batch; handlers are never copied.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/unique_fd.h"

namespace tc {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;

  EventLoop();  // throws std::system_error
  void add(int fd, uint32_t events, Handler h);
  // Data path: a refusal by the kernel is counted, never thrown. False when
  // the events could not be changed (the fd keeps its previous ones).
  bool modify(int fd, uint32_t events);
  // An fd closed before its removal is already gone from epoll: not a failure.
  void remove(int fd);
  // Waits at most `timeout` (negative: forever) and dispatches ready fds.
  // Returns how many fds were ready (0: timed out or interrupted).
  size_t run_once(Duration timeout);

  // epoll_ctl calls the kernel refused after start-up, and failed waits
  // (other than interruptions by a signal).
  uint64_t ctl_failures() const { return ctl_failures_; }
  uint64_t wait_failures() const { return wait_failures_; }

 private:
  struct Slot {
    Handler handler;
    bool live = true;
  };
  void retire(std::unique_ptr<Slot> slot);

  UniqueFd epfd_;
  std::unordered_map<int, std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<Slot>> retired_;  // removed during a batch
  bool dispatching_ = false;
  uint64_t ctl_failures_ = 0;
  uint64_t wait_failures_ = 0;
};

}  // namespace tc

// A small epoll loop for the I/O shells. add() registers a handler for an
// fd and returns the Registration that owns it; the loop wakes for I/O or
// at the earliest deadline a caller asks for.
//
// Each registration lives in a slot of its own whose address epoll
// carries, so an event reaches the handler it was armed for: a handler
// that ends a registration mid-batch (another's or its own) leaves a dead
// slot that the rest of the batch skips, even when the fd number comes
// back at once with a new handler. Dead slots are freed after the batch;
// handlers are never copied, and a moved Registration keeps its slot.
//
// Order of destruction: a Registration ends before the fd it watches is
// closed (a closed fd's number may already watch something else) and
// before anything its handler uses. One that outlives its loop is
// detached by the loop's destructor and then ends without touching it.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/unique_fd.h"

namespace tc {

class EventLoop {
  struct Slot;

 public:
  using Handler = std::function<void(uint32_t events)>;

  // One fd's registration; move-only. An empty one (default, moved from,
  // or reset) watches nothing.
  class Registration {
   public:
    Registration() = default;
    ~Registration() { reset(); }
    Registration(Registration&& other) noexcept = default;
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

    // Data path: a refusal by the kernel is counted, never thrown. False
    // when the events could not be changed (the fd keeps its previous
    // ones), or when this registration is empty or its loop is gone.
    bool modify(uint32_t events);
    // Removes the fd from epoll; its handler is not called again, not even
    // for an event already taken in the current batch. An fd closed before
    // is already gone from epoll: not a failure.
    void reset();
    bool active() const { return slot_ != nullptr; }

   private:
    friend class EventLoop;
    explicit Registration(std::unique_ptr<Slot> slot) : slot_(std::move(slot)) {}
    std::unique_ptr<Slot> slot_;
  };

  EventLoop();  // throws std::system_error
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` for `events` until the returned Registration ends.
  // Throws std::system_error when epoll refuses the fd.
  [[nodiscard]] Registration add(int fd, uint32_t events, Handler h);
  // Waits at most `timeout` (negative: forever) and dispatches ready fds.
  // Returns how many fds were ready (0: timed out or interrupted).
  size_t run_once(Duration timeout);

  // epoll_ctl calls the kernel refused after start-up, and failed waits
  // (other than interruptions by a signal).
  uint64_t ctl_failures() const { return ctl_failures_; }
  uint64_t wait_failures() const { return wait_failures_; }

 private:
  struct Slot {
    EventLoop* loop;  // null once the loop is gone
    int fd;
    Handler handler;
    bool live = true;
  };
  bool modify(Slot& slot, uint32_t events);
  void remove(std::unique_ptr<Slot> slot);

  UniqueFd epfd_;
  std::unordered_set<Slot*> slots_;              // registered, owned by their Registrations
  std::vector<std::unique_ptr<Slot>> retired_;  // removed during a batch
  bool dispatching_ = false;
  uint64_t ctl_failures_ = 0;
  uint64_t wait_failures_ = 0;
};

}  // namespace tc

// The event loop: each event reaches the handler it was armed for, also
// when handlers remove fds (their own or others') in the middle of a batch
// and a removed fd's number comes back at once.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/unique_fd.h"

namespace tc {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  Pipe() {
    std::array<int, 2> p{};
    EXPECT_EQ(::pipe2(p.data(), O_NONBLOCK | O_CLOEXEC), 0);
    read_end.reset(p[0]);
    write_end.reset(p[1]);
  }
  void ready() { EXPECT_EQ(::write(write_end.get(), "x", 1), 1); }
  UniqueFd read_end;
  UniqueFd write_end;
};

TEST(EventLoop, DispatchesReadyFdsToTheirHandlers) {
  EventLoop loop;
  Pipe a, b;
  std::vector<std::string> seen;
  loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t ev) { seen.push_back(ev & EPOLLIN ? "a" : "?"); });
  loop.add(b.read_end.get(), EPOLLIN, [&](uint32_t) { seen.push_back("b"); });
  EXPECT_EQ(loop.run_once(0ms), 0u);
  b.ready();
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"b"}));
}

// Whichever of two ready fds runs first removes the other: the other's
// event in the same batch is dropped, not delivered to a freed handler.
TEST(EventLoop, AnFdRemovedMidBatchGetsNoEvent) {
  EventLoop loop;
  Pipe a, b;
  int calls = 0;
  loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(b.read_end.get());
  });
  loop.add(b.read_end.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(a.read_end.get());
  });
  a.ready();
  b.ready();
  EXPECT_EQ(loop.run_once(100ms), 2u);
  EXPECT_EQ(calls, 1);
}

// The first handler closes the other fd and reopens its number with a new
// handler: the pending event of the old fd does not reach the new handler.
TEST(EventLoop, AReusedFdNumberDoesNotInheritAPendingEvent) {
  EventLoop loop;
  Pipe a, b, c;
  const int number = b.read_end.get();
  std::vector<std::string> seen;
  bool reopened = false;
  auto first = [&](const char* who, int other) {
    return [&, who, other](uint32_t) {
      seen.push_back(who);
      if (reopened) return;
      reopened = true;
      loop.remove(other);
      // The other fd's number now names a fresh, ready pipe end.
      ASSERT_EQ(::dup3(c.read_end.get(), other, O_CLOEXEC), other);
      loop.add(other, EPOLLIN, [&](uint32_t) { seen.push_back("new"); });
    };
  };
  loop.add(a.read_end.get(), EPOLLIN, first("a", number));
  loop.add(number, EPOLLIN, first("b", a.read_end.get()));
  a.ready();
  b.ready();
  c.ready();
  loop.run_once(100ms);
  ASSERT_EQ(seen.size(), 1u) << "the second event of the batch belonged to the replaced fd";
  loop.run_once(100ms);  // the new fd's own event, and the first again (nothing was read)
  EXPECT_EQ(std::count(seen.begin(), seen.end(), std::string("new")), 1);
}

TEST(EventLoop, AHandlerMayRemoveItself) {
  EventLoop loop;
  Pipe a;
  int calls = 0;
  const int fd = a.read_end.get();
  loop.add(fd, EPOLLIN, [&, fd](uint32_t) {
    ++calls;
    loop.remove(fd);
  });
  a.ready();
  loop.run_once(100ms);
  loop.run_once(0ms);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ModifyingAnUnknownFdIsCounted) {
  EventLoop loop;
  Pipe a;
  EXPECT_FALSE(loop.modify(a.read_end.get(), EPOLLIN));
  EXPECT_EQ(loop.ctl_failures(), 1u);
  loop.add(a.read_end.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_TRUE(loop.modify(a.read_end.get(), EPOLLIN | EPOLLOUT));
  EXPECT_EQ(loop.ctl_failures(), 1u);
}

}  // namespace
}  // namespace tc

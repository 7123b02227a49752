// The event loop: each event reaches the handler it was armed for, also
// when handlers end registrations (their own or others') in the middle of
// a batch and a removed fd's number comes back at once; a Registration
// owns its fd's place in epoll, moved or not.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
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
  auto ra = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t ev) { seen.push_back(ev & EPOLLIN ? "a" : "?"); });
  auto rb = loop.add(b.read_end.get(), EPOLLIN, [&](uint32_t) { seen.push_back("b"); });
  EXPECT_EQ(loop.run_once(0ms), 0u);
  b.ready();
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"b"}));
}

// Whichever of two ready fds runs first ends the other's registration: the
// other's event in the same batch is dropped, not delivered to a freed
// handler.
TEST(EventLoop, ARegistrationResetMidBatchGetsNoEvent) {
  EventLoop loop;
  Pipe a, b;
  int calls = 0;
  EventLoop::Registration ra, rb;
  ra = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    rb.reset();
  });
  rb = loop.add(b.read_end.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    ra.reset();
  });
  a.ready();
  b.ready();
  EXPECT_EQ(loop.run_once(100ms), 2u);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(ra.active(), rb.active());
}

// The first handler ends the other registration, reopens its fd number on
// a fresh pipe and registers a new handler for it: the pending event of
// the old registration does not reach the new handler.
TEST(EventLoop, AReusedFdNumberDoesNotInheritAPendingEvent) {
  EventLoop loop;
  Pipe a, b, c;
  const int number = b.read_end.get();
  std::vector<std::string> seen;
  bool reopened = false;
  EventLoop::Registration ra, rb, renewed;
  auto first = [&](const char* who, int other, EventLoop::Registration* other_registration) {
    return [&, who, other, other_registration](uint32_t) {
      seen.push_back(who);
      if (reopened) return;
      reopened = true;
      other_registration->reset();
      // The other fd's number now names a fresh, ready pipe end.
      ASSERT_EQ(::dup3(c.read_end.get(), other, O_CLOEXEC), other);
      renewed = loop.add(other, EPOLLIN, [&](uint32_t) { seen.push_back("new"); });
    };
  };
  ra = loop.add(a.read_end.get(), EPOLLIN, first("a", number, &rb));
  rb = loop.add(number, EPOLLIN, first("b", a.read_end.get(), &ra));
  a.ready();
  b.ready();
  c.ready();
  loop.run_once(100ms);
  ASSERT_EQ(seen.size(), 1u) << "the second event of the batch belonged to the replaced registration";
  loop.run_once(100ms);  // the new fd's own event, and the first again (nothing was read)
  EXPECT_EQ(std::count(seen.begin(), seen.end(), std::string("new")), 1);
  renewed.reset();
}

TEST(EventLoop, AHandlerMayResetItsOwnRegistration) {
  EventLoop loop;
  Pipe a;
  int calls = 0;
  EventLoop::Registration r;
  r = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    r.reset();
  });
  a.ready();
  loop.run_once(100ms);
  loop.run_once(0ms);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(r.active());
}

TEST(EventLoop, DestroyingTheRegistrationUnregisters) {
  EventLoop loop;
  Pipe a;
  int calls = 0;
  {
    const EventLoop::Registration r = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) { ++calls; });
    EXPECT_TRUE(r.active());
  }
  a.ready();
  EXPECT_EQ(loop.run_once(0ms), 0u);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(loop.ctl_failures(), 0u);
  // The fd is free for a new registration.
  const EventLoop::Registration again = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) { ++calls; });
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, AMovedRegistrationStillDispatches) {
  EventLoop loop;
  Pipe a;
  int calls = 0;
  EventLoop::Registration first = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) { ++calls; });
  EventLoop::Registration second(std::move(first));
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): a moved-from handle is empty
  std::vector<EventLoop::Registration> many;
  many.push_back(std::move(second));
  for (int i = 0; i < 16; ++i) many.emplace_back();  // the vector moves its elements
  a.ready();
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(calls, 1);
  first.reset();  // an empty handle: nothing to do
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(calls, 2);
  many.clear();
  EXPECT_EQ(loop.run_once(0ms), 0u);
  EXPECT_EQ(calls, 2);
}

TEST(EventLoop, MoveAssignmentEndsTheRegistrationItReplaces) {
  EventLoop loop;
  Pipe a, b;
  std::vector<std::string> seen;
  EventLoop::Registration r = loop.add(a.read_end.get(), EPOLLIN, [&](uint32_t) { seen.push_back("a"); });
  r = loop.add(b.read_end.get(), EPOLLIN, [&](uint32_t) { seen.push_back("b"); });
  a.ready();
  b.ready();
  EXPECT_EQ(loop.run_once(100ms), 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"b"}));
}

// A handler resets a registration whose event is later in the same batch
// (whichever of the two runs first): the rest of the batch skips it.
TEST(EventLoop, ResetDuringABatchStopsItsLaterEvents) {
  EventLoop loop;
  Pipe a, b, c;
  std::vector<std::string> seen;
  EventLoop::Registration ra, rb, rc;
  auto handler = [&](const char* who) {
    return [&, who](uint32_t) {
      seen.push_back(who);
      if (seen.size() == 1) {
        // The first to run ends every other registration.
        if (std::string(who) != "a") ra.reset();
        if (std::string(who) != "b") rb.reset();
        if (std::string(who) != "c") rc.reset();
      }
    };
  };
  ra = loop.add(a.read_end.get(), EPOLLIN, handler("a"));
  rb = loop.add(b.read_end.get(), EPOLLIN, handler("b"));
  rc = loop.add(c.read_end.get(), EPOLLIN, handler("c"));
  a.ready();
  b.ready();
  c.ready();
  EXPECT_EQ(loop.run_once(100ms), 3u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(loop.run_once(100ms), 1u);  // only the survivor, still ready
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);
}

TEST(EventLoop, ModifyThroughTheRegistration) {
  EventLoop loop;
  Pipe a;
  std::vector<uint32_t> seen;
  EventLoop::Registration r = loop.add(a.write_end.get(), 0, [&](uint32_t ev) { seen.push_back(ev); });
  EXPECT_EQ(loop.run_once(0ms), 0u);  // writable, but not asked
  EXPECT_TRUE(r.modify(EPOLLOUT));
  EXPECT_EQ(loop.run_once(100ms), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & EPOLLOUT);
  EXPECT_TRUE(r.modify(0));
  EXPECT_EQ(loop.run_once(0ms), 0u);
  EXPECT_EQ(loop.ctl_failures(), 0u);
}

TEST(EventLoop, ModifyingAnEmptyOrClosedRegistrationFails) {
  EventLoop loop;
  EventLoop::Registration empty;
  EXPECT_FALSE(empty.modify(EPOLLIN));
  EXPECT_EQ(loop.ctl_failures(), 0u);  // not the loop's: nothing was asked of it
  auto a = std::make_unique<Pipe>();
  EventLoop::Registration r = loop.add(a->read_end.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_TRUE(r.modify(EPOLLIN | EPOLLOUT));
  a.reset();  // the fd closes first: epoll dropped it, the kernel refuses
  EXPECT_FALSE(r.modify(EPOLLIN));
  EXPECT_EQ(loop.ctl_failures(), 1u);
  r.reset();  // an fd already gone from epoll: not a failure
  EXPECT_EQ(loop.ctl_failures(), 1u);
}

TEST(EventLoop, ARegistrationThatOutlivesItsLoopEndsQuietly) {
  Pipe a;
  EventLoop::Registration r;
  {
    EventLoop loop;
    r = loop.add(a.read_end.get(), EPOLLIN, [](uint32_t) {});
  }
  EXPECT_TRUE(r.active());
  EXPECT_FALSE(r.modify(EPOLLOUT));
  r.reset();
  EXPECT_FALSE(r.active());
}

}  // namespace
}  // namespace tc

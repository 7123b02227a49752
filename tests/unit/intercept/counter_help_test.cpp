// Every counter intercept's components report comes with its help text.
#include <gtest/gtest.h>

#include "common/turn_pacer.h"
#include "fake_reply_sink.h"
#include "intercept/control/control_counters.h"
#include "intercept/multiqueue/queue_worker.h"
#include "intercept/nfqueue/nfqueue_socket.h"
#include "intercept/nfqueue/queue_stats.h"
#include "intercept/pcap/pcap_reply_source.h"
#include "intercept/reply_dispatcher.h"
#include "intercept/routing/route_table.h"
#include "tests/unit/common/help_check.h"

namespace tc::intercept {
namespace {

template <typename Counters>
void expect_help(const Counters& c, const char* what) {
  HelpCheck check;
  c.report(check);
  EXPECT_GT(check.reported, 0u) << what;
  EXPECT_TRUE(check.without_help.empty()) << what << ": " << ::testing::PrintToString(check.without_help);
}

TEST(CounterHelp, EveryInterceptCounterHasHelp) {
  testing::FakeReplySink sink;
  RouteTable routes(RouteTable::Config{});
  ReplyDispatcher dispatcher({}, routes, sink);
  expect_help(routes, "route table");
  expect_help(dispatcher, "dispatcher");
  expect_help(HandoffCounters{}, "queue handoff");
  expect_help(NfqueueSocketCounters{}, "queue socket");
  expect_help(NfqueueKernelCounters(NfqueueProcEntry{}), "kernel queue");
  expect_help(ControlCounters{}, "control");
  expect_help(ControlReadings{}, "control connections");
  expect_help(PcapReplyCounters{}, "assistant capture");
  expect_help(TurnPacerCounters{}, "turn pacer");
}

TEST(CounterHelp, ListedCountersKeepTheirOrder) {
  HandoffCounters c;
  c.passlisted = 1;
  c.parse_errors[static_cast<size_t>(ParseError::kNotTcp)] = 2;
  c.handed_off = 3;
  c.shed = 4;
  CounterText text;
  c.report(text);
  EXPECT_EQ(text.line(), "passlisted=1 parse_errors{not_tcp}=2 queue_handoffs=3 queue_handoffs_shed=4");
}

}  // namespace
}  // namespace tc::intercept

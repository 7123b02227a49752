// tcpcopy's InterceptLink against intercept's ControlServer, both real, on
// loopback in one event loop: the shared-secret handshake in every
// combination of who holds which secret.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "copy/control/intercept_link.h"
#include "intercept/control/control_server.h"

namespace tc {
namespace {

using namespace std::chrono_literals;

SharedSecret secret(char c) { return SharedSecret(std::vector<uint8_t>(32, static_cast<uint8_t>(c))); }

class NullHandler final : public ReplyHandler {
 public:
  void on_reply(std::span<const uint8_t>) override {}
  void on_link_up() override { ++ups; }
  int ups = 0;
};

class LinkAuthTest : public ::testing::Test {
 protected:
  LinkAuthTest() : routes(intercept::RouteTable::Config{}) { log.open("/dev/null"); }

  void start(std::optional<SharedSecret> server_secret, std::optional<SharedSecret> client_secret) {
    intercept::ControlServer::Config sc;
    sc.bind = {*IpAddress::parse("127.0.0.1")};
    sc.port = 0;
    sc.secret = std::move(server_secret);
    server = std::make_unique<intercept::ControlServer>(sc, loop, routes, log);
    InterceptLinkOptions lo;
    lo.connections_per_intercept = 1;
    lo.backoff_min = 20ms;
    lo.backoff_max = 40ms;
    lo.hello_timeout = 500ms;
    lo.secret = std::move(client_secret);
    link = std::make_unique<InterceptLink>(
        loop, log, std::vector<Endpoint>{{*IpAddress::parse("127.0.0.1"), server->listening_ports().at(0)}}, handler,
        lo);
  }
  bool pump(const std::function<bool()>& done, Duration limit = 2s) {
    const TimePoint end = monotonic_now() + limit;
    while (!done()) {
      const TimePoint now = monotonic_now();
      if (now >= end) return false;
      link->tick(now);
      link->flush();
      server->tick(now);
      server->flush();
      loop.run_once(5ms);
    }
    return true;
  }
  uint64_t link_auth_failures() const {
    return link->stats().failures(LinkFailure::kAuthFailed);
  }
  uint64_t server_auth_failures() const {
    return server->counters().closed[static_cast<size_t>(intercept::CloseReason::kAuthFailed)];
  }

  Logger log;
  EventLoop loop;
  intercept::RouteTable routes;
  std::unique_ptr<intercept::ControlServer> server;
  NullHandler handler;
  std::unique_ptr<InterceptLink> link;
};

TEST_F(LinkAuthTest, SameSecretOnBothSidesComesUpAndRegisters) {
  start(secret('a'), secret('a'));
  ASSERT_TRUE(pump([&] { return link->connections_up() == 1; }));
  EXPECT_EQ(server->counters().authenticated, 1u);
  SessionKey k{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"), 1234, 80};
  ASSERT_TRUE(link->register_session(k));
  ASSERT_TRUE(pump([&] { return routes.route_count() == 1; }));
}

TEST_F(LinkAuthTest, DifferentSecretsNeverComeUp) {
  start(secret('a'), secret('b'));
  ASSERT_TRUE(pump([&] { return link_auth_failures() >= 2 && server_auth_failures() >= 2; }));
  EXPECT_EQ(link->connections_up(), 0u);
  EXPECT_EQ(handler.ups, 0);
  EXPECT_EQ(routes.client_count(), 0u);
  EXPECT_EQ(server->counters().hellos, 0u);
}

TEST_F(LinkAuthTest, TcpcopyWithASecretRefusesAnInterceptWithout) {
  start(std::nullopt, secret('a'));
  ASSERT_TRUE(pump([&] { return link_auth_failures() >= 2; }));
  EXPECT_EQ(link->connections_up(), 0u);
  EXPECT_EQ(handler.ups, 0);
}

TEST_F(LinkAuthTest, InterceptWithASecretRefusesTcpcopyWithout) {
  start(secret('a'), std::nullopt);
  ASSERT_TRUE(pump([&] { return link_auth_failures() >= 2; }));
  EXPECT_EQ(link->connections_up(), 0u);
  EXPECT_EQ(routes.client_count(), 0u);
}

TEST_F(LinkAuthTest, NoSecretAnywhereIsTheOldHandshake) {
  start(std::nullopt, std::nullopt);
  ASSERT_TRUE(pump([&] { return link->connections_up() == 1; }));
  EXPECT_EQ(server->counters().authenticated, 0u);
  EXPECT_EQ(server->counters().hellos, 1u);
}

}  // namespace
}  // namespace tc

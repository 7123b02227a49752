#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "common/metrics_server.h"
#include "common/socket_address.h"

namespace tc {
namespace {

// ---- pure request parsing and answers ----------------------------------------

TEST(HttpHead, CompleteRequests) {
  HttpRequestHead h;
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.0\r\n\r\n", h), HeadStatus::kComplete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(parse_http_head("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", h),
            HeadStatus::kComplete);
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(parse_http_head("HEAD / HTTP/1.1\n\n", h), HeadStatus::kComplete);  // bare LF
  EXPECT_EQ(h.method, "HEAD");
  EXPECT_EQ(h.path, "/");
}

TEST(HttpHead, IncompleteUntilTheEmptyLine) {
  HttpRequestHead h;
  EXPECT_EQ(parse_http_head("", h), HeadStatus::kIncomplete);
  EXPECT_EQ(parse_http_head("GET /metr", h), HeadStatus::kIncomplete);
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\n", h), HeadStatus::kIncomplete);
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\nHost: x\r\n", h), HeadStatus::kIncomplete);
}

TEST(HttpHead, BadRequestLines) {
  HttpRequestHead h;
  for (const char* bad : {"\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.0\r\n\r\n",
                          "get /metrics HTTP/1.0\r\n\r\n", "GET metrics HTTP/1.0\r\n\r\n",
                          "GET /metrics HTTP/2.0\r\n\r\n", "GET /metrics HTTP/1.0 x\r\n\r\n",
                          "\x16\x03\x01\x02\x01\n", "VERYLONGMETHODNAMEXX / HTTP/1.0\r\n\r\n"}) {
    EXPECT_EQ(parse_http_head(bad, h), HeadStatus::kBad) << bad;
  }
  // A bad request line is known before the headers end.
  EXPECT_EQ(parse_http_head("FOO BAR BAZ\r\n", h), HeadStatus::kBad);
}

TEST(HttpResponse, MetricsNotFoundAndMethods) {
  int calls = 0;
  auto body = [&calls] {
    ++calls;
    return std::string("# TYPE x_a counter\nx_a 1\n");
  };
  const std::string ok = http_response({"GET", "/metrics"}, body);
  EXPECT_EQ(ok,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 25\r\nConnection: close\r\n\r\n# TYPE x_a counter\nx_a 1\n");
  const std::string head = http_response({"HEAD", "/metrics"}, body);
  EXPECT_NE(head.find("Content-Length: 25\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(http_response({"GET", "/"}, body).starts_with("HTTP/1.0 404 Not Found\r\n"));
  EXPECT_TRUE(http_response({"GET", "/metrics/x"}, body).starts_with("HTTP/1.0 404 "));
  const std::string post = http_response({"POST", "/metrics"}, body);
  EXPECT_TRUE(post.starts_with("HTTP/1.0 405 "));
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(calls, 2);  // no counters collected for those
  EXPECT_TRUE(http_error_response(431).starts_with("HTTP/1.0 431 "));
}

// ---- a live server on loopback ---------------------------------------------------

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MetricsServerConfig config;
    config.listen = Endpoint{*IpAddress::parse("127.0.0.1"), 0};
    config.max_connections = 2;
    config.max_request_bytes = 256;
    config.timeout = 300ms;
    server_ = std::make_unique<MetricsServer>(loop_, config, "test", [this](CounterSink& sink) {
      sink.counter("packets", "", packets_);
      sink.gauge("open", "", 2);
    });
  }

  UniqueFd connect_client() {
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(server_->local(), ss);
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len), 0);
    return fd;
  }

  // Runs the loop until the server closed the connection; returns what came.
  std::string read_all(int fd) {
    std::string out;
    const TimePoint end = monotonic_now() + 2s;
    while (monotonic_now() < end) {
      loop_.run_once(10ms);
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      if (n == 0) return out;
      if (n < 0 && errno != EAGAIN) return out + "<error>";
    }
    return out + "<timeout>";
  }

  std::string request(const std::string& text) {
    UniqueFd fd = connect_client();
    EXPECT_EQ(::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
    std::string answer = read_all(fd.get());
    fd.reset();
    // The server waits for the client's close after answering.
    for (int i = 0; i < 100 && server_->open_connections() > 0; ++i) loop_.run_once(10ms);
    return answer;
  }

  EventLoop loop_;
  uint64_t packets_ = 41;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, ServesCountersThatMove) {
  std::string r = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.0 200 OK\r\n")) << r;
  EXPECT_NE(r.find("\r\n\r\n# HELP test_build_info "), std::string::npos) << r;
  EXPECT_NE(r.find("\ntest_build_info{version=\"" TCPCOPY_VERSION "\"} 1\n"), std::string::npos) << r;
  EXPECT_NE(r.find("# TYPE test_packets_total counter\ntest_packets_total 41\n"
                   "# HELP test_open open\n# TYPE test_open gauge\ntest_open 2\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("test_metrics_requests_total 1\n"), std::string::npos) << r;
  for (const char* family : {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
                             "process_open_fds gauge", "process_max_fds gauge", "process_start_time_seconds gauge"})
    EXPECT_NE(r.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family << " in " << r;
  packets_ = 42;
  r = request("GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_NE(r.find("test_packets_total 42\n"), std::string::npos) << r;
  EXPECT_EQ(server_->stats().requests, 2u);
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(MetricsServerTest, NotFoundBadAndTooLong) {
  EXPECT_TRUE(request("GET / HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 404 ")) << "404";
  EXPECT_TRUE(request("hello\r\n\r\n").starts_with("HTTP/1.0 400 ")) << "400";
  EXPECT_TRUE(request("GET /metrics HTTP/1.0\r\nX: " + std::string(400, 'a') + "\r\n\r\n").starts_with("HTTP/1.0 431 "));
  EXPECT_EQ(server_->stats().bad_requests, 2u);
}

TEST_F(MetricsServerTest, SilentClientTimesOutAndExtraClientsAreRefused) {
  UniqueFd a = connect_client();
  UniqueFd b = connect_client();
  for (int i = 0; i < 10 && server_->open_connections() < 2; ++i) loop_.run_once(10ms);
  EXPECT_EQ(server_->open_connections(), 2u);
  UniqueFd c = connect_client();
  EXPECT_EQ(read_all(c.get()), "");  // closed at once: the cap is 2
  EXPECT_EQ(server_->stats().rejected, 1u);
  EXPECT_EQ(read_all(a.get()), "");  // closed by the 300 ms timeout
  EXPECT_EQ(read_all(b.get()), "");
  EXPECT_EQ(server_->stats().timeouts, 2u);
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(MetricsServerTest, RequestInPieces) {
  UniqueFd fd = connect_client();
  for (const char* part : {"GET /met", "rics HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}) {
    ASSERT_GT(::send(fd.get(), part, std::strlen(part), MSG_NOSIGNAL), 0);
    loop_.run_once(10ms);
  }
  EXPECT_TRUE(read_all(fd.get()).starts_with("HTTP/1.0 200 OK"));
}

TEST(MetricsServer, BindFailureNamesTheAddress) {
  EventLoop loop;
  MetricsServerConfig config;
  config.listen = Endpoint{*IpAddress::parse("192.0.2.1"), 9100};  // not an address of this host
  try {
    MetricsServer s(loop, config, "x", [](CounterSink&) {});
    FAIL() << "bound to an address this host does not have";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("192.0.2.1:9100"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tc

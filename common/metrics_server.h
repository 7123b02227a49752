// A small HTTP/1.0 responder for Prometheus scrapes, driven by the
// program's EventLoop: non-blocking accept, read the request head, answer
// GET /metrics with every counter, 404 for other paths, close. Requests are
// bounded in size and in time, and connections in number, so a slow or
// hostile client costs a few bytes and never blocks the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/counters.h"
#include "common/event_loop.h"
#include "common/ip_address.h"
#include "common/unique_fd.h"

namespace tc {

struct HttpRequestHead {
  std::string method;
  std::string path;  // the target without its query string
};

enum class HeadStatus : uint8_t { kIncomplete, kComplete, kBad };

// Pure: looks at the bytes received so far. kComplete once the request line
// and the headers up to the empty line are in; kBad for anything that is not
// "METHOD /target HTTP/1.x".
HeadStatus parse_http_head(std::string_view received, HttpRequestHead& out);

// Pure: the whole answer (status line, headers, body). `metrics_body` is
// called only for GET or HEAD of /metrics.
std::string http_response(const HttpRequestHead& head, const std::function<std::string()>& metrics_body);
// The answer to a request that could not be read (400) or was too long (431).
std::string http_error_response(int status);

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

struct MetricsServerConfig {
  Endpoint listen;
  size_t max_connections = 16;
  size_t max_request_bytes = 8192;
  Duration timeout = 5s;  // accept to last byte sent
};

// Declared once; see common/counters.h.
#define TC_METRICS_SERVER_COUNTERS(COUNTER, GAUGE, REASONS)                                     \
  COUNTER(requests, "metrics_requests", "", "Metrics requests answered, any status")            \
  COUNTER(bad_requests, "metrics_bad_requests", "", "Metrics requests answered 400, 405 or 431") \
  COUNTER(rejected, "metrics_rejected", "", "Metrics connections closed at once: too many connections") \
  COUNTER(timeouts, "metrics_timeouts", "", "Metrics connections that timed out")               \
  COUNTER(accept_errors, "metrics_accept_errors", "", "accept() calls on the metrics socket that failed")

struct MetricsServerStats {
  TC_COUNTER_FIELDS(TC_METRICS_SERVER_COUNTERS)

  void report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_METRICS_SERVER_COUNTERS, sink); }
};

class MetricsServer {
 public:
  using Collect = std::function<void(CounterSink&)>;
  // Families the counter sink cannot express (histograms, matrices),
  // appended as exposition text after the counters.
  using AppendText = std::function<void(std::string&)>;

  // Binds and listens; throws std::runtime_error naming the address.
  // `prefix` starts every metric name ("tcpcopy", "intercept").
  MetricsServer(EventLoop& loop, const MetricsServerConfig& config, std::string prefix, Collect collect,
                AppendText append = {});
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  Endpoint local() const;  // the bound address (port 0 in the config: the one chosen)
  const MetricsServerStats& stats() const { return stats_; }
  size_t open_connections() const { return conns_.size(); }
  void report(CounterSink& sink) const;

 private:
  struct Connection {
    UniqueFd fd;
    EventLoop::Registration registration;  // ends before fd closes
    std::string in;
    std::string out;
    size_t sent = 0;
    TimePoint deadline{};
  };

  void on_accept();
  void on_connection(int fd, uint32_t events);
  // False when the client went away before a whole request.
  bool read_request(Connection& c);
  void write_answer(int fd, Connection& c);
  void close_connection(int fd);
  void on_timer();
  void arm_timer();
  std::string render() const;

  EventLoop& loop_;
  MetricsServerConfig config_;
  std::string prefix_;
  Collect collect_;
  AppendText append_;
  UniqueFd listen_fd_;
  UniqueFd timer_fd_;
  EventLoop::Registration listening_;  // ends before the fds above close
  EventLoop::Registration timer_;
  bool accepting_ = true;
  TimePoint resume_accept_{};
  std::unordered_map<int, Connection> conns_;
  MetricsServerStats stats_;
};

}  // namespace tc

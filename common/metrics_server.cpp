#include "common/metrics_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/metrics_text.h"
#include "common/process_metrics.h"
#include "common/socket_address.h"

namespace tc {

namespace {

constexpr int kBacklog = 16;
constexpr int kAcceptsPerWake = 16;
constexpr Duration kAcceptPause = 1s;  // after EMFILE and the like
constexpr size_t kReadChunk = 2048;

bool is_token_char(char c) { return c >= 'A' && c <= 'Z'; }

std::string_view status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

std::string answer(int status, std::string_view content_type, const std::string& body, bool with_body,
                   std::string_view extra_header = {}) {
  std::string out = "HTTP/1.0 " + std::to_string(status) + " " + std::string(status_text(status)) + "\r\n";
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_header;
  out += "Connection: close\r\n\r\n";
  if (with_body) out += body;
  return out;
}

timespec to_timespec(TimePoint t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(s.count());
  ts.tv_nsec = static_cast<long>((t - s).count());
  return ts;
}

}  // namespace

HeadStatus parse_http_head(std::string_view received, HttpRequestHead& out) {
  const size_t eol = received.find('\n');
  if (eol == std::string_view::npos) return HeadStatus::kIncomplete;
  std::string_view line = received.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // METHOD SP target SP HTTP/1.x, single spaces.
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 16) return HeadStatus::kBad;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return HeadStatus::kBad;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!is_token_char(c)) return HeadStatus::kBad;
  if (target.front() != '/' || target.find(' ') != std::string_view::npos) return HeadStatus::kBad;
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' || version[7] > '9')
    return HeadStatus::kBad;

  // The headers end with an empty line.
  if (received.find("\r\n\r\n") == std::string_view::npos && received.find("\n\n") == std::string_view::npos)
    return HeadStatus::kIncomplete;
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find_first_of("?#")));
  return HeadStatus::kComplete;
}

std::string http_response(const HttpRequestHead& head, const std::function<std::string()>& metrics_body) {
  const bool head_only = head.method == "HEAD";
  if (head.method != "GET" && !head_only)
    return answer(405, "text/plain", "only GET and HEAD\n", true, "Allow: GET, HEAD\r\n");
  if (head.path != "/metrics") return answer(404, "text/plain", "not found: the metrics are at /metrics\n", !head_only);
  return answer(200, kPrometheusContentType, metrics_body(), !head_only);
}

std::string http_error_response(int status) {
  return answer(status, "text/plain", std::string(status_text(status)) + "\n", true);
}

// ---- server ----------------------------------------------------------------

MetricsServer::MetricsServer(EventLoop& loop, const MetricsServerConfig& config, std::string prefix, Collect collect,
                             AppendText append)
    : loop_(loop), config_(config), prefix_(std::move(prefix)), collect_(std::move(collect)), append_(std::move(append)) {
  const std::string name = config.listen.to_string();
  auto fail = [&name](const char* what) {
    throw std::runtime_error("cannot serve metrics on " + name + ": " + what + ": " + std::strerror(errno));
  };
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(config.listen, ss);
  listen_fd_ = UniqueFd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_) fail("socket");
  const int one = 1;
  setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6) setsockopt(listen_fd_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) fail("bind");
  if (::listen(listen_fd_.get(), kBacklog) != 0) fail("listen");
  timer_fd_ = UniqueFd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_fd_) fail("timerfd_create");
  listening_ = loop_.add(listen_fd_.get(), EPOLLIN, [this](uint32_t) { on_accept(); });
  timer_ = loop_.add(timer_fd_.get(), EPOLLIN, [this](uint32_t) { on_timer(); });
}

Endpoint MetricsServer::local() const { return local_endpoint(listen_fd_.get()); }

void MetricsServer::report(CounterSink& sink) const { stats_.report(sink); }

std::string MetricsServer::render() const {
  PrometheusText text(prefix_);
  text.labelled_gauge("build_info", "version=\"" + prometheus_label_value(TCPCOPY_VERSION) + "\"",
                      "The version this daemon was built from; always 1.", 1);
  collect_(text);
  report(text);
  if (const auto process = read_process_stats()) report_process_metrics(*process, text);
  std::string body = text.text();
  if (append_) append_(body);
  return body;
}

void MetricsServer::on_accept() {
  const TimePoint now = monotonic_now();
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      ++stats_.accept_errors;
      // Out of descriptors or memory: the listener would stay readable and
      // spin the loop, so stop watching it for a moment.
      accepting_ = false;
      resume_accept_ = now + kAcceptPause;
      listening_.modify(0);
      break;
    }
    if (conns_.size() >= config_.max_connections) {
      ++stats_.rejected;
      continue;  // closed here
    }
    const int raw = fd.get();
    EventLoop::Registration registration =
        loop_.add(raw, EPOLLIN, [this, raw](uint32_t events) { on_connection(raw, events); });
    Connection& c = conns_[raw];
    c.fd = std::move(fd);
    c.registration = std::move(registration);
    c.deadline = now + config_.timeout;
  }
  arm_timer();
}

void MetricsServer::on_connection(int fd, uint32_t events) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Connection& c = it->second;
  if (c.out.empty()) {
    if (!read_request(c)) close_connection(fd);
    else if (!c.out.empty()) write_answer(fd, c);
    return;
  }
  if (c.sent < c.out.size()) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) write_answer(fd, c);
    return;
  }
  // Answer sent, write side shut: wait for the client to close, so unread
  // bytes never turn our close into a reset that could cut the answer.
  char sink[512];
  while (true) {
    const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close_connection(fd);
}

bool MetricsServer::read_request(Connection& c) {
  char buf[kReadChunk];
  while (c.in.size() <= config_.max_request_bytes) {
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;  // closed or failed before a whole request: nothing to answer
  }
  if (c.in.size() > config_.max_request_bytes) {
    ++stats_.bad_requests;
    c.out = http_error_response(431);
    return true;
  }
  HttpRequestHead head;
  switch (parse_http_head(c.in, head)) {
    case HeadStatus::kIncomplete:
      return true;
    case HeadStatus::kBad:
      ++stats_.bad_requests;
      c.out = http_error_response(400);
      return true;
    case HeadStatus::kComplete:
      break;
  }
  ++stats_.requests;
  if (head.method != "GET" && head.method != "HEAD") ++stats_.bad_requests;
  c.out = http_response(head, [this] { return render(); });
  return true;
}

void MetricsServer::write_answer(int fd, Connection& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.registration.modify(EPOLLOUT);
      return;
    }
    close_connection(fd);
    return;
  }
  ::shutdown(fd, SHUT_WR);
  c.registration.modify(EPOLLIN);
}

void MetricsServer::close_connection(int fd) {
  conns_.erase(fd);  // ends its registration, then closes it
  arm_timer();
}

void MetricsServer::on_timer() {
  uint64_t expirations = 0;
  while (::read(timer_fd_.get(), &expirations, sizeof expirations) > 0) {
  }
  const TimePoint now = monotonic_now();
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second.deadline <= now) {
      if (it->second.sent < it->second.out.size() || it->second.out.empty()) ++stats_.timeouts;
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
  if (!accepting_ && now >= resume_accept_) {
    accepting_ = true;
    listening_.modify(EPOLLIN);
  }
  arm_timer();
}

void MetricsServer::arm_timer() {
  TimePoint next = TimePoint::max();
  for (const auto& [fd, c] : conns_) next = std::min(next, c.deadline);
  if (!accepting_) next = std::min(next, resume_accept_);
  itimerspec spec{};
  if (next != TimePoint::max()) {
    spec.it_value = to_timespec(next);
    // An absolute time of zero would disarm the timer.
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  }
  timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace tc

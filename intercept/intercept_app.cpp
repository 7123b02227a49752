#include "intercept/intercept_app.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "intercept/nfqueue/nfqueue_reply_source.h"
#include "common/doctor.h"
#include "intercept/pcap/pcap_reply_source.h"

namespace tc::intercept {

namespace {

// The loop wakes at least this often for expiry (parked replies live ~2 s).
constexpr Duration kTick = std::chrono::milliseconds(100);

RouteTable::Config route_config(const Options& o) {
  RouteTable::Config c;
  c.hash_size = o.hash_size;
  c.max_routes = std::max<size_t>(size_t{o.hash_size} * 16, 1u << 16);
  c.route_timeout = std::chrono::seconds(o.route_timeout_s);
  return c;
}

ControlServer::Config control_config(const Options& o) {
  ControlServer::Config c;
  const ControlExposure exposure = control_exposure(o);
  c.bind = exposure.bind;
  c.bind_best_effort = exposure.loopback_default;
  c.port = o.port;
  c.allow = o.allow;
  c.secret = o.secret;
  return c;
}

// The one place that picks the reply source from --mode.
std::unique_ptr<ReplySource> make_reply_source(const Options& o) {
  if (o.mode == Mode::kNfqueue && o.queue_count > 1) return nullptr;  // queue threads instead
  if (o.mode == Mode::kAssistant) {
    PcapReplyOptions p;
    p.interfaces = o.interfaces;
    p.filter = o.filter;
    p.target_ports = o.target_ports;
    p.snaplen = static_cast<int>(o.snaplen);
    p.buffer_bytes = static_cast<int>(o.buffer_mb << 20);
    return std::make_unique<PcapReplySource>(p);
  }
  return std::make_unique<NfqueueReplySource>(o.queue_num, o.queue_maxlen);
}

}  // namespace

InterceptApp::InterceptApp(const Options& options, Logger& log)
    : options_(options),
      log_(log),
      pacer_(options.batch_wait),
      routes_(route_config(options)),
      control_(control_config(options), loop_, routes_, log),
      dispatcher_(options.passlist, routes_, control_),
      source_(make_reply_source(options)) {
  if (source_) {
    registrations_.push_back(loop_.add(source_->fd(), EPOLLIN, [this](uint32_t) { on_replies_readable(); }));
  } else {
    for (uint16_t i = 0; i < options.queue_count; ++i) {
      workers_.push_back(std::make_unique<QueueWorker>(static_cast<uint16_t>(options.queue_num + i),
                                                       options.queue_maxlen, options.passlist,
                                                       options.batch_wait));
      QueueWorker* w = workers_.back().get();
      registrations_.push_back(loop_.add(w->notify_fd(), EPOLLIN, [this, w](uint32_t) { on_worker_headers(*w); }));
    }
  }
  if (options.mode == Mode::kAssistant) warn_if_forwarding();
  if (options.metrics)
    metrics_ = std::make_unique<MetricsServer>(loop_, MetricsServerConfig{.listen = *options.metrics}, "intercept",
                                               [this](CounterSink& sink) { report(sink); });
}

// An assistant host that forwards would route the replies it captures on
// to the clients: the doctor's check, run at start, and its finding logged
// and printed (also when the log goes to a file: seen before detaching).
void InterceptApp::warn_if_forwarding() {
  doctor::SystemHost host;
  doctor::Report report;
  doctor::check_ip_forward(host, report, true);
  for (const doctor::Finding& f : report.findings()) {
    if (f.severity != doctor::Severity::kProblem) continue;
    const std::string line = f.check + ": " + f.detail + "; fix: " + f.fix;
    TC_LOG(log_, kWarn, "%s", line.c_str());
    if (!options_.log_file.empty() && options_.log_file != "-")
      std::fprintf(stderr, "intercept: [warn] %s\n", line.c_str());
  }
}

void InterceptApp::log_start() const {
  std::string ports;
  for (uint16_t p : control_.listening_ports()) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  TC_LOG(log_, kInfo, "intercept %s: %s mode, replies from %s, control port %s", TCPCOPY_VERSION,
         options_.mode == Mode::kAssistant ? "assistant" : "nfqueue", describe_source().c_str(), ports.c_str());
  if (control_exposure(options_).loopback_default) {
    TC_LOG(log_, kWarn,
           "control: no --allow and no --secret-file: listening on loopback only, so only a tcpcopy on this host "
           "can connect; to serve other hosts give --allow ADDR[/LEN] (their addresses), --secret-file FILE, "
           "or --allow any");
  } else if (options_.allow.empty()) {
    TC_LOG(log_, kWarn, "control: accepting tcpcopy connections from any address%s; restrict them with --allow ADDR[/LEN]",
           options_.allow_any ? " (--allow any)" : "");
  } else {
    std::string list;
    for (const auto& p : options_.allow) list += (list.empty() ? "" : ",") + p.to_string();
    TC_LOG(log_, kInfo, "control: accepting tcpcopy connections from %s only", list.c_str());
  }
  if (options_.secret)
    TC_LOG(log_, kInfo, "control: tcpcopy must prove the shared secret of %s", options_.secret_file.c_str());
  else
    TC_LOG(log_, kWarn, "control: no --secret-file, connections are not authenticated");
  if (!options_.passlist.empty()) {
    std::string list;
    for (const auto& a : options_.passlist) list += (list.empty() ? "" : ",") + a.to_string();
    TC_LOG(log_, kInfo, "replies to %s are let through", list.c_str());
  }
  if (options_.metrics) TC_LOG(log_, kInfo, "metrics at http://%s/metrics", options_.metrics->to_string().c_str());
}

void InterceptApp::run_until(const std::atomic<bool>& stop) {
  log_start();
  const std::string warning = source_ ? source_->start_warning() : workers_.front()->start_warning();
  if (!warning.empty()) TC_LOG(log_, kWarn, "%s", warning.c_str());
  // Threads start here, in the process that stays after daemonize().
  for (auto& w : workers_) w->start();

  const Duration stats_every = options_.stats_interval;
  TimePoint next_stats = monotonic_now() + stats_every;
  while (!stop && !done_) {
    turn_handled_ = 0;
    loop_.run_once(kTick);
    const TimePoint now = monotonic_now();
    routes_.expire(now);
    control_.tick(now);
    control_.flush();
    pacer_.end_of_turn(turn_handled_);
    if (options_.stats_interval.count() > 0 && now >= next_stats) {
      TC_LOG(log_, kInfo, "counters: %s", counters_line().c_str());
      next_stats = now + stats_every;
    }
  }
  done_ = true;
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) on_worker_headers(*w);  // what they handed over last
}

void InterceptApp::on_replies_readable() {
  dispatcher_.set_now(monotonic_now());
  turn_handled_ += source_->drain(dispatcher_);
  control_.flush();
}

void InterceptApp::on_worker_headers(QueueWorker& worker) {
  dispatcher_.set_now(monotonic_now());
  turn_handled_ +=
      worker.take([this](const SessionKey& key, const RoutedReply& reply) { dispatcher_.route(key, reply); });
  control_.flush();
  if (const std::string why = worker.failure(); !why.empty() && !done_) {
    TC_LOG(log_, kError, "queue thread stopped: %s; shutting down", why.c_str());
    exit_status_ = 1;
    done_ = true;
  }
}

std::string InterceptApp::describe_source() const {
  if (source_) return source_->describe();
  return std::to_string(workers_.size()) + " queues " + std::to_string(options_.queue_num) + "-" +
         std::to_string(options_.queue_num + workers_.size() - 1) + ", a thread each (first: " +
         workers_.front()->describe() + ")";
}

void InterceptApp::report(CounterSink& sink) const {
  if (source_) {
    source_->report(sink);
    dispatcher_.report(sink);
  } else {
    // The queues' counters, and the dispatcher's, summed under one name each.
    CounterTotals totals;
    for (const auto& w : workers_) w->report(totals);
    dispatcher_.report(totals);
    totals.report(sink);
  }
  routes_.report(sink);
  control_.report(sink);
  pacer_.report(sink);
}

std::string InterceptApp::counters_line() const {
  CounterText text;
  report(text);
  std::string line = text.line();
  return line.empty() ? "all zero" : line;
}

}  // namespace tc::intercept

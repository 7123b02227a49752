#include "copy/tcpcopy_app.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <system_error>

#include "common/counters.h"
#include "common/pcap_filter.h"
#include "copy/capture/answer_capture.h"
#include "copy/capture/pcap_capture.h"
#include "copy/capture/pcap_file_replay.h"
#include "copy/capture/raw_capture.h"
#include "copy/capture/ring_capture.h"
#include "copy/send/link_sender.h"
#include "copy/send/raw_sender.h"
#include "copy/send/route_sender.h"

namespace tc {

namespace {

struct IoBackends {
  std::vector<std::unique_ptr<CaptureSource>> captures;
  std::unique_ptr<PacketSender> sender;
  PcapFileReplay* replay = nullptr;
  // The online server's answers, when the requests' capture does not
  // already see both directions (raw sockets see only arriving packets).
  std::unique_ptr<CaptureSource> answers;
  // The packet ring, when it carries the online answers as well.
  RingCapture* ring_answers = nullptr;
  // The packet ring's fanout group with workers (0: none); without it a
  // worker keeps its own share of what it captures.
  uint16_t fanout_group = 0;
  std::string capture_text;
  std::string send_text;
};

// The one place that turns the flags into a capture source and a sender:
// the packet ring by default, libpcap with -i, a capture file with
// --pcap-file; a transmit ring on each target's route by default (raw
// sockets where it cannot be), on one interface with -o.
IoBackends make_backends(const CopyOptions& options, Logger& log, const WorkerSetup& setup) {
  std::vector<uint16_t> ports;
  std::vector<IpAddress> addresses;
  std::vector<IpAddress> targets;
  bool want_v4 = false, want_v6 = false;
  const auto& ts = options.engine.transfers.transfers();
  for (const Transfer& t : ts) {
    if (std::find(ports.begin(), ports.end(), t.online_port) == ports.end()) ports.push_back(t.online_port);
    if (std::find(targets.begin(), targets.end(), t.target.addr) == targets.end()) targets.push_back(t.target.addr);
    (t.target.addr.is_v4() ? want_v4 : want_v6) = true;
  }
  // Address filters only when every transfer names its online address.
  if (std::all_of(ts.begin(), ts.end(), [](const Transfer& t) { return t.online_addr.has_value(); }))
    for (const Transfer& t : ts) addresses.push_back(*t.online_addr);

  const LinkOptions& link = options.link;
  IoBackends io;
  if (!link.pcap_file.empty()) {
    PcapReplayOptions r;
    r.path = link.pcap_file;
    r.filter = link.filter;
    r.speed = link.speed;
    r.idle_threshold = link.idle_threshold;
    r.repeat = link.repeat;
    auto replay = std::make_unique<PcapFileReplay>(r);
    io.replay = replay.get();
    io.capture_text = "offline replay of " + r.path + " (" + link_type_name(replay->link_type()) + "), " +
                      std::to_string(r.repeat) + " pass(es), " + std::to_string(r.speed) + "x" +
                      (r.filter.empty() ? "" : ", filter '" + r.filter + "'");
    io.captures.push_back(std::move(replay));
  } else if (!link.capture_interfaces.empty()) {
    PcapCaptureOptions c;
    c.interfaces = link.capture_interfaces;
    if (!link.filter.empty()) c.filter = link.filter;
    else if (options.compare.enabled) c.filter = request_and_answer_filter_expression(ports, addresses);
    else c.filter = request_filter_expression(ports, addresses);
    c.snaplen = link.snaplen;
    c.buffer_bytes = link.buffer_mb << 20;
    auto capture = std::make_unique<PcapCapture>(c);
    io.capture_text = "pcap on " + capture->describe() + ", filter '" + c.filter + "'";
    io.captures.push_back(std::move(capture));
  } else {
    // The packet ring first; raw sockets where the kernel refuses it.
    RingCaptureOptions r;
    r.ports = ports;
    r.addresses = addresses;
    r.excluded_ifindexes = enslaved_interfaces();
    if (options.compare.enabled) r.answer_snaplen = AnswerCapture::kSnaplen;
    r.fanout_members = setup.shard.count;
    r.fanout_group = setup.fanout_group;
    try {
      // A worker whose first sibling has no ring keeps to raw sockets too:
      // a ring of its own would see the others' connections as well.
      if (setup.shard.index > 0 && setup.fanout_group == 0)
        throw std::system_error(ENODEV, std::generic_category(), "the first worker has no ring to share");
      auto ring = std::make_unique<RingCapture>(r);
      io.fanout_group = ring->fanout_group();
      if (options.compare.enabled) io.ring_answers = ring.get();
      io.capture_text = ring->describe();
      if (!r.excluded_ifindexes.empty())
        io.capture_text += ", " + std::to_string(r.excluded_ifindexes.size()) + " bond/bridge port(s) left to their master";
      io.captures.push_back(std::move(ring));
    } catch (const std::system_error& e) {
      // A raw socket sees one IP version: one per version the targets use.
      RawCaptureOptions c;
      c.ports = ports;
      c.addresses = addresses;
      if (want_v4) io.captures.push_back(std::make_unique<RawCapture>(c));
      if (want_v6) {
        c.family = AF_INET6;
        io.captures.push_back(std::make_unique<RawCapture>(c));
      }
      io.capture_text = std::string("raw socket") + (want_v4 && want_v6 ? "s (IPv4, IPv6)" : want_v6 ? " (IPv6)" : "") +
                        " (the packet ring failed: " + e.what() + ")";
    }
    if (options.compare.enabled && !io.ring_answers) {
      io.answers = std::make_unique<AnswerCapture>(ports);
      io.capture_text += "; online answers: packet socket on every interface";
    }
  }

  if (!link.output_interface.empty()) {
    LinkSenderOptions s;
    s.interface = link.output_interface;
    s.targets = targets;
    s.next_hop = link.dst_mac;
    s.slot_size = options.engine.mtu;
    auto sender = std::make_unique<LinkSender>(s);
    io.send_text = "transmit ring on " + s.interface + " from " + sender->source_mac().to_string();
    for (const LinkSender::NextHop& h : sender->next_hops())
      io.send_text += ", " + h.target.to_string() + " via " + h.mac.to_string();
    io.sender = std::move(sender);
  } else {
    RouteSenderOptions r;
    r.targets = targets;
    r.slot_size = options.engine.mtu;
    try {
      auto sender = std::make_unique<RouteSender>(r, log);
      io.send_text = sender->describe();
      io.sender = std::move(sender);
    } catch (const std::system_error& e) {
      RawSenderOptions s;
      s.targets = targets;
      s.slot_size = options.engine.mtu;
      io.sender = std::make_unique<RawSender>(s);
      io.send_text = std::string("raw sockets (the route follower failed: ") + e.what() + ")";
    }
  }
  return io;
}

}  // namespace

TcpcopyApp::TcpcopyApp(const CopyOptions& options, Logger& log, const WorkerSetup& setup)
    : options_(options),
      log_(log),
      setup_(setup),
      engine_config_(options.engine),
      pacer_(options.batch_wait),
      now_(monotonic_now()) {
  if (is_worker()) {
    // The limits are the process's: each worker gets its share.
    engine_config_.shard = setup.shard;
    engine_config_.max_sessions = std::max<uint32_t>(1024, engine_config_.max_sessions / setup.shard.count);
    engine_config_.buffer_bytes = std::max<size_t>(1u << 20, engine_config_.buffer_bytes / setup.shard.count);
  }
  // The comparison's files first: a path that cannot be written fails
  // before any socket is open.
  if (setup.comparison) {
    worker_tracker_ = setup.comparison->worker_tracker(setup.shard.count);
    tracker_ = worker_tracker_.get();
  } else if (options.compare.enabled) {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    comparison_ = std::make_unique<compare::Comparison>(
        options.compare, std::chrono::duration_cast<Duration>(wall) - monotonic_now());
    tracker_ = &comparison_->tracker();
  }
  IoBackends io = make_backends(options, log_, setup);
  captures_ = std::move(io.captures);
  answers_ = std::move(io.answers);
  fanout_group_ = io.fanout_group;
  if (io.ring_answers) io.ring_answers->deliver_answers_to(answer_handler_);
  if (is_worker() && fanout_group_ == 0) capture_shard_.emplace(*this, setup.shard, ClientPort::kSource, shard_stats_);
  if (is_worker()) answer_shard_.emplace(answer_handler_, setup.shard, ClientPort::kDestination, shard_stats_);
  sender_ = std::move(io.sender);
  replay_ = io.replay;
  progress_tty_ = replay_ && ::isatty(STDERR_FILENO) == 1;
  if (is_worker())
    TC_LOG(log_, kInfo, "worker %u of %u: capture: %s; send: %s", setup.shard.index + 1u, setup.shard.count + 0u,
           io.capture_text.c_str(), io.send_text.c_str());
  else
    TC_LOG(log_, kInfo, "capture: %s; send: %s", io.capture_text.c_str(), io.send_text.c_str());

  if (!options.reply_interfaces.empty()) {
    start_reply_capture();
  } else {
    InterceptLinkOptions link;
    link.connections_per_intercept = options.connections;
    link.secret = options.secret;
    link.reply_prefix = options.reply_prefix;
    link_ = std::make_unique<InterceptLink>(loop_, log_, options.intercepts, *this, link);
    engine_ = std::make_unique<SessionEngine>(engine_config_, *sender_, *link_, now_, tracker_);
    // Connections live on the online port are captured from the first
    // packet on, before the link is up: their sessions wait for it.
    engine_->await_link();
    // A full sender sends before the end of the turn; registrations go first.
    sender_->set_before_send([this] { link_->flush(); });
  }

  // The default sender follows routes and neighbours on a socket of its own.
  if (const int fd = sender_->event_fd(); fd >= 0)
    registrations_.push_back(loop_.add(fd, EPOLLIN, [this](uint32_t) { sender_->on_readable(); }));

  PacketHandler* requests = capture_shard_ ? static_cast<PacketHandler*>(&*capture_shard_) : this;
  for (auto& source : captures_) {
    CaptureSource* c = source.get();
    registrations_.push_back(loop_.add(c->fd(), EPOLLIN, [this, c, requests](uint32_t) {
      now_ = monotonic_now();
      c->drain(*requests);
    }));
  }
  if (answers_) {
    // A request reaches the capture's queue before the server reads it, so
    // before its answer leaves: draining the requests first hands the
    // engine each request before its answer, whichever socket woke us.
    PacketHandler* answers = answer_shard_ ? static_cast<PacketHandler*>(&*answer_shard_) : &answer_handler_;
    registrations_.push_back(loop_.add(answers_->fd(), EPOLLIN, [this, requests, answers](uint32_t) {
      now_ = monotonic_now();
      for (auto& c : captures_) c->drain(*requests);
      answers_->drain(*answers);
    }));
  }
  if (options.metrics && !is_worker()) {  // workers: the pool serves the sum
    MetricsServer::AppendText append = [this](std::string& out) {
      engine_->counters().hold_wait.write_text(out, "tcpcopy_hold_wait_seconds",
                                               "How long held requests waited for the target's previous answer");
      if (link_)
        link_->stats().rtt.write_text(out, "tcpcopy_link_rtt_seconds",
                                      "Round trip of the control channel to intercept, measured about once a second");
      if (comparison_) comparison_->write_prometheus(out);
    };
    metrics_ = std::make_unique<MetricsServer>(loop_, MetricsServerConfig{.listen = *options.metrics}, "tcpcopy",
                                               [this](CounterSink& sink) { report(sink); }, std::move(append));
    TC_LOG(log_, kInfo, "metrics at http://%s/metrics", options.metrics->to_string().c_str());
  }
}

TcpcopyApp::~TcpcopyApp() = default;

// Architecture 1: replies are captured here; every session may start, and
// an offline replay starts at once, as nobody has to be connected first.
void TcpcopyApp::start_reply_capture() {
  ReplyCaptureOptions r;
  r.interfaces = options_.reply_interfaces;
  r.filter = target_reply_filter(options_.engine.transfers);
  r.payload_prefix = options_.reply_prefix;
  reply_capture_ = std::make_unique<ReplyCapture>(r);
  TC_LOG(log_, kInfo, "replies: %s (no intercept)", reply_capture_->describe().c_str());
  engine_ = std::make_unique<SessionEngine>(engine_config_, *sender_, accept_all_, now_, tracker_);
  registrations_.push_back(
      loop_.add(reply_capture_->fd(), EPOLLIN, [this](uint32_t) { reply_capture_->drain(*this); }));
  if (replay_) {
    TC_LOG(log_, kInfo, "offline replay starts");
    replay_->start(monotonic_now());
  }
}

void TcpcopyApp::on_packet(std::span<const uint8_t> packet) { engine_->on_captured(packet, now_); }

// A pass of an offline replay ended: the sessions it left open are closed
// on the target once answered, so neither the next pass nor a later run
// of the same file meets them there.
void TcpcopyApp::on_capture_end() {
  if (const uint32_t open = engine_->end_capture(now_); open > 0)
    TC_LOG(log_, kInfo, "offline replay: end of pass %u; %u session(s) still open close on the target once answered",
           replay_ ? static_cast<unsigned>(replay_->stats().passes) : 0u, open);
}

void TcpcopyApp::AnswerHandler::on_packet(std::span<const uint8_t> packet) {
  app.engine_->on_online_answer(packet, app.now_);
}

compare::ReportLedger TcpcopyApp::ledger() const {
  const EngineCounters& c = engine_->counters();
  compare::ReportLedger l;
  l.packets_captured = c.packets_captured;
  l.requests_captured = c.requests_captured;
  l.sessions_replicated = c.sessions_created;
  l.requests_sent = c.requests_replicated;
  l.generated_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < c.requests_undelivered.size(); ++i)
    if (c.requests_undelivered[i] > 0)
      l.lost.emplace_back(std::string("requests_undelivered ") + to_string(static_cast<UndeliveredReason>(i)),
                          c.requests_undelivered[i]);
  for (size_t i = 0; i < c.sessions_lost.size(); ++i)
    if (c.sessions_lost[i] > 0) l.lost.emplace_back(std::string("sessions_lost ") + to_string(static_cast<LostReason>(i)), c.sessions_lost[i]);
  for (size_t i = 0; i < c.skipped.size(); ++i)
    if (c.skipped[i] > 0) l.lost.emplace_back(std::string("packets_skipped ") + to_string(static_cast<SkipReason>(i)), c.skipped[i]);
  for (size_t i = 1; i < c.malformed.size(); ++i)
    if (c.malformed[i] > 0) l.lost.emplace_back(std::string("packets_malformed ") + to_string(static_cast<ParseError>(i)), c.malformed[i]);
  return l;
}

void TcpcopyApp::log_comparison_errors() {
  if (!comparison_) return;
  if (std::string err = comparison_->take_error(); !err.empty()) TC_LOG(log_, kError, "comparison: %s", err.c_str());
}

void TcpcopyApp::on_reply(std::span<const uint8_t> header) {
  // Replies captured here reach every worker; the intercept link brings a
  // worker only its own.
  if (reply_capture_ && !shard_keeps(setup_.shard, header, ClientPort::kDestination)) {
    ++shard_stats_.others;
    return;
  }
  now_ = monotonic_now();
  engine_->on_reply(header, now_);
}

void TcpcopyApp::on_link_up() {
  TC_LOG(log_, kInfo, "intercept link up (%zu intercept(s)); re-registering %u live session(s)",
         link_->intercepts_up(), engine_->active_sessions());
  engine_->reregister_all();
  // The sessions that waited for the link register with every intercept,
  // after this call (during it, registrations go to this one only).
  if (!link_ready_ && link_->intercepts_up() >= options_.intercepts.size()) link_ready_due_ = true;
  // Offline replay starts once every intercept can take registrations:
  // sessions started earlier would be lost.
  if (replay_ && !replay_->started() && link_->intercepts_up() >= options_.intercepts.size()) {
    TC_LOG(log_, kInfo, "offline replay starts");
    replay_->start(monotonic_now());
  }
}

// Replies made acks due; registrations must leave before the SYNs they
// announce, so the link flushes before the sender.
void TcpcopyApp::end_of_turn() {
  engine_->flush();
  if (link_) link_->flush();
  sender_->flush();
}

bool TcpcopyApp::replay_complete() {
  if (!replay_ || !replay_->finished()) return false;
  const uint64_t replies = engine_->counters().replies;
  if (!replay_drained_) {
    replay_drained_ = true;
    report_progress(true);
    on_capture_end();  // a file without a packet ends without a pass
    replies_seen_ = replies;
    last_progress_ = now_;
    if (const auto& damage = replay_->damage()) {
      const PcapReplayStats& st = replay_->stats();
      TC_LOG(log_, kError,
             "offline replay: the file broke in pass %u after record %llu (byte offset %lld): %s; "
             "replayed %llu packet(s), %llu byte(s) before it; waiting for %u session(s) to end",
             damage->pass + 1, static_cast<unsigned long long>(damage->record),
             static_cast<long long>(damage->offset), damage->reason.c_str(),
             static_cast<unsigned long long>(st.packets), static_cast<unsigned long long>(st.bytes),
             engine_->active_sessions());
    } else {
      TC_LOG(log_, kInfo, "offline replay: every packet of the file delivered; waiting for %u session(s) to end",
             engine_->active_sessions());
    }
  } else if (replies != replies_seen_) {  // the target is still answering
    replies_seen_ = replies;
    last_progress_ = now_;
  }
  if (engine_->active_sessions() == 0) return true;
  if (now_ - last_progress_ >= options_.engine.session_timeout) {
    TC_LOG(log_, kWarn, "offline replay: the target stayed silent for the session timeout; %u session(s) left",
           engine_->active_sessions());
    return true;
  }
  return false;
}

void TcpcopyApp::run_until(const std::atomic<bool>& stop_flag) {
  TimePoint next_stats = monotonic_now() + options_.stats_interval;
  while (!stop_flag) {
    now_ = monotonic_now();
    Duration timeout = link_ ? link_->next_timeout(now_) : Duration{1s};
    if (engine_->active_sessions() > 0) timeout = std::min(timeout, engine_->next_tick());
    // A worker logs no counters (its pool logs the sum): it wakes to publish them.
    if (is_worker()) timeout = std::min(timeout, std::max(Duration{0}, next_publish_ - now_));
    else if (options_.stats_interval.count() > 0) timeout = std::min(timeout, std::max(Duration{0}, next_stats - now_));
    if (progress_ && !progress_over_) timeout = std::min(timeout, std::max(Duration{0}, next_progress_ - now_));
    if (timeout < Duration{0}) timeout = Duration{0};
    const uint64_t replies_before = engine_->counters().replies;
    const uint64_t captured_before = engine_->counters().packets_captured;
    loop_.run_once(timeout);
    now_ = monotonic_now();
    if (link_ready_due_) {
      link_ready_due_ = false;
      link_ready_ = true;
      const uint32_t waiting = engine_->link_waiting();
      engine_->link_ready(now_);
      if (waiting > 0) TC_LOG(log_, kInfo, "%u session(s) that waited for the intercept link start now", waiting);
    }
    engine_->on_tick(now_);
    if (comparison_) {
      comparison_->on_tick(now_, ledger());
      log_comparison_errors();
    } else if (worker_tracker_) {
      worker_tracker_->on_tick(now_);
    }
    if (link_) link_->tick(now_);
    for (const std::string& line : unreplayable_notices_.due(engine_->counters(), engine_->unreplayable_seen(), now_))
      TC_LOG(log_, kWarn, "%s", line.c_str());
    end_of_turn();
    report_progress(false);
    pacer_.end_of_turn(turn_batch(engine_->counters().replies - replies_before,
                                  engine_->counters().packets_captured - captured_before));
    if (is_worker() && now_ >= next_publish_) {
      publish_figures();
      next_publish_ = now_ + 250ms;
    }
    if (!is_worker() && options_.stats_interval.count() > 0 && now_ >= next_stats) {
      TC_LOG(log_, kInfo, "counters: %s", counters_line(false).c_str());
      if (comparison_) TC_LOG(log_, kInfo, "comparison: %s", comparison_->summary_line().c_str());
      next_stats = now_ + options_.stats_interval;
    }
    if (replay_complete()) {
      if (!replay_->damage()) TC_LOG(log_, kInfo, "offline replay complete");
      break;
    }
  }
  end_of_turn();
  if (progress_tty_) log_.end_status();  // stopped before the end: the line stays
  if (comparison_) {
    comparison_->finish(ledger());
    log_comparison_errors();
    TC_LOG(log_, kInfo, "comparison: %s", comparison_->summary_line().c_str());
  }
  if (worker_tracker_) worker_tracker_->close_all();
  if (is_worker()) publish_figures();
}

void TcpcopyApp::publish_figures() {
  WorkerFigures f;
  report(f.counters);
  f.hold_wait = engine_->counters().hold_wait;
  if (link_) f.link_rtt = link_->stats().rtt;
  f.ledger = ledger();
  std::lock_guard lock(figures_mu_);
  figures_ = std::move(f);
}

WorkerFigures TcpcopyApp::figures() const {
  std::lock_guard lock(figures_mu_);
  return figures_;
}

// What the pacer weighs a turn by: its replies when it had any, as they
// are what copies wait for (a turn of one reply must not sleep: that
// copy's next request would wait out the sleep on every round trip, however
// many captured packets came with it); else its captured packets.
size_t TcpcopyApp::turn_batch(uint64_t replies, uint64_t captured) {
  return static_cast<size_t>(replies > 0 ? replies : captured);
}

std::string TcpcopyApp::ending_line() const {
  if (!replay_ || !replay_->damage()) return {};
  const ReplayBreak& damage = *replay_->damage();
  const PcapReplayStats& st = replay_->stats();
  char line[512];
  std::snprintf(line, sizeof line,
                "offline replay ended early: the file broke in pass %u after record %llu (byte offset %lld); "
                "replayed %llu packet(s), %llu byte(s) before it; exit status %d; libpcap: ",
                damage.pass + 1, static_cast<unsigned long long>(damage.record), static_cast<long long>(damage.offset),
                static_cast<unsigned long long>(st.packets), static_cast<unsigned long long>(st.bytes),
                kExitReplayDamaged);
  return line + damage.reason;
}

void TcpcopyApp::report_progress(bool last) {
  if (!replay_ || !replay_->started() || progress_over_ || options_.daemon) return;
  // A terminal shows a line redrawn twice a second; a log or a pipe gets a
  // line every 10 s.
  const Duration period = progress_tty_ ? Duration{500ms} : Duration{10s};
  if (!progress_) {
    progress_.emplace(now_);
    next_progress_ = now_ + period;
    if (!last) return;
  }
  if (!last && now_ < next_progress_) return;
  next_progress_ = now_ + period;
  const std::string line = progress_->line(replay_->position(), now_);
  if (progress_tty_) {
    log_.status(line);
    if (last) log_.end_status();
  } else {
    std::fprintf(stderr, "tcpcopy: %s\n", line.c_str());
  }
  progress_over_ = last;
}

int TcpcopyApp::exit_status() const {
  if (replay_ && replay_->damage()) return kExitReplayDamaged;
  return 0;
}

void TcpcopyApp::report(CounterSink& sink) const {
  engine_->counters().report(sink);
  sink.help("sessions_active", "Sessions in the table now (copies included)");
  sink.gauge("sessions_active", "", engine_->active_sessions());
  sink.help("buffered_segments",
            "Segments of captured payload held now (512 bytes each), waiting for the target to acknowledge them");
  sink.gauge("buffered_segments", "", engine_->buffered_segments());
  for (const auto& c : captures_) c->report(sink);
  if (answers_) answers_->report(sink);
  if (comparison_) comparison_->report(sink);
  if (worker_tracker_) worker_tracker_->counters().report(sink);
  if (is_worker()) shard_stats_.report(sink);
  sender_->report(sink);
  if (link_) link_->report(sink);
  if (reply_capture_) reply_capture_->report(sink);
  pacer_.report(sink);
}

std::string TcpcopyApp::counters_line(bool include_zero) const {
  CounterText text;
  report(text);
  return text.line(include_zero);
}

}  // namespace tc

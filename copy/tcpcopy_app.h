// tcpcopy's I/O shell: capture -> session engine -> sender, with the
// intercept link feeding reply headers back. One thread, one epoll loop.
// The capture source (raw socket, libpcap, or a capture file) and the
// sender (raw sockets or a packet socket's transmit ring) are chosen by
// flag in one place.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_loop.h"
#include "common/flow_shard.h"
#include "common/histogram.h"
#include "common/log.h"
#include "common/metrics_server.h"
#include "common/turn_pacer.h"
#include "copy/capture/capture_source.h"
#include "copy/capture/replay_progress.h"
#include "copy/capture/shard_filter.h"
#include "copy/compare/comparison.h"
#include "copy/control/intercept_link.h"
#include "copy/engine/session_engine.h"
#include "copy/options.h"
#include "copy/reply/reply_capture.h"
#include "copy/send/packet_sender.h"

namespace tc {

class PcapFileReplay;

// How a worker of several (--workers) is set up by the pool; the defaults
// make the one engine of a process without workers.
struct WorkerSetup {
  FlowShard shard;            // the worker's client ports
  uint16_t fanout_group = 0;  // the packet ring's group to join (0: found it)
  // The pool's comparison, which every worker's exchanges go to.
  compare::Comparison* comparison = nullptr;
};

// What a worker hands its pool to sum (counters, histograms, the
// comparison report's figures); taken on the worker's thread, read on the
// pool's.
struct WorkerFigures {
  CounterTotals counters;
  std::optional<Histogram> hold_wait;
  std::optional<Histogram> link_rtt;
  compare::ReportLedger ledger;
};

class TcpcopyApp final : public PacketHandler, public ReplyHandler {
 public:
  // Opens every socket and handle; throws std::system_error or
  // std::runtime_error/std::invalid_argument with a message that says what
  // failed.
  TcpcopyApp(const CopyOptions& options, Logger& log, const WorkerSetup& setup = {});
  ~TcpcopyApp() override;

  // Runs until `stop_flag` is set (a SIGTERM/SIGINT seen by the caller's
  // loop, or the pool stopping its workers) or, in offline replay, until
  // the file is replayed and its sessions have ended.
  void run_until(const std::atomic<bool>& stop_flag);
  EventLoop& loop() { return loop_; }
  // Every counter, to the log line and the metrics endpoint.
  void report(CounterSink& sink) const;
  std::string counters_line(bool include_zero) const;
  // What the process exits with once run_until() returned: 0, or
  // kExitReplayDamaged when an offline replay's file broke before its end
  // (the last log lines say where).
  static constexpr int kExitReplayDamaged = 3;
  int exit_status() const;
  // The process's last words when the exit status is not 0 (where an
  // offline replay's file broke and how much of it was replayed); empty
  // otherwise.
  std::string ending_line() const;
  // The packet ring's fanout group (0: none), for the next worker to join.
  uint16_t fanout_group() const { return fanout_group_; }
  // A worker's figures as last published (about four times a second, and
  // when it stops); any thread.
  WorkerFigures figures() const;

  void on_packet(std::span<const uint8_t> packet) override;
  void on_capture_end() override;
  void on_reply(std::span<const uint8_t> header) override;
  void on_link_up() override;

 private:
  // Online answers go to the engine's comparison, not to its capture.
  struct AnswerHandler final : PacketHandler {
    TcpcopyApp& app;
    explicit AnswerHandler(TcpcopyApp& a) : app(a) {}
    void on_packet(std::span<const uint8_t> packet) override;
  };

  void end_of_turn();
  bool is_worker() const { return setup_.shard.sharded(); }
  void publish_figures();
  void start_reply_capture();
  // The replication figures for the comparison report.
  compare::ReportLedger ledger() const;
  void log_comparison_errors();
  // Offline replay: true once the file is done and its sessions ended (or
  // the target stayed silent for the session timeout).
  bool replay_complete();
  // Offline replay: how far through the file, on stderr (a line redrawn in
  // place on a terminal, else a plain line now and then); `last` once done.
  void report_progress(bool last);
  static size_t turn_batch(uint64_t replies, uint64_t captured);

  const CopyOptions& options_;
  Logger& log_;
  WorkerSetup setup_;
  EngineConfig engine_config_;  // the options' with the worker's share
  EventLoop loop_;
  TurnPacer pacer_;
  TimePoint now_;
  // One per IP version with raw sockets; one for libpcap or a file.
  std::vector<std::unique_ptr<CaptureSource>> captures_;
  std::unique_ptr<CaptureSource> answers_;  // the online answers, with raw sockets and a comparison
  AnswerHandler answer_handler_{*this};
  std::unique_ptr<compare::Comparison> comparison_;  // --compare*
  std::unique_ptr<compare::ExchangeTracker> worker_tracker_;  // a worker's, feeding the pool's comparison
  compare::ExchangeTracker* tracker_ = nullptr;      // one of them, for the engine
  // A worker's share of what a capture the kernel cannot share out reads.
  ShardStats shard_stats_;
  std::optional<ShardFilter> capture_shard_;
  std::optional<ShardFilter> answer_shard_;
  uint16_t fanout_group_ = 0;
  std::unique_ptr<PacketSender> sender_;
  PcapFileReplay* replay_ = nullptr;  // in captures_, in offline replay
  std::unique_ptr<InterceptLink> link_;           // -s; else:
  std::unique_ptr<ReplyCapture> reply_capture_;  // --reply-interface (architecture 1)
  AcceptingRegistrar accept_all_;                // its registrar: no intercept to tell
  std::unique_ptr<SessionEngine> engine_;
  std::unique_ptr<MetricsServer> metrics_;  // --metrics
  // Sessions the copy cannot replay (TLS, HTTP/2, SSH): a line per kind at
  // first, then at most one per kind every ten minutes.
  UnreplayableNotices unreplayable_notices_{std::chrono::minutes(10)};
  // Offline replay, after the file's last packet: when that was and when
  // the target last answered.
  bool replay_drained_ = false;
  // The link came up to every intercept once (link_ready_due_: in this
  // turn): sessions waiting for it may go.
  bool link_ready_ = false;
  bool link_ready_due_ = false;
  std::optional<ReplayProgress> progress_;  // from the replay's start
  bool progress_tty_ = false;
  bool progress_over_ = false;
  TimePoint next_progress_{};
  TimePoint last_progress_{};
  uint64_t replies_seen_ = 0;
  TimePoint next_publish_{};
  mutable std::mutex figures_mu_;
  WorkerFigures figures_;
  // The loop's watch on the sender, captures and reply capture; declared
  // last, so they end before the sockets they watch close.
  std::vector<EventLoop::Registration> registrations_;
};

}  // namespace tc

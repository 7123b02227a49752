// Pairs the exchanges of replicated sessions with their online
// counterparts. Pure logic: the session engine reports what it sees (the
// client's requests and acks, the online server's answers, what it sends to
// the target and what the target answers) with the time, and the tracker
// hands one ExchangeRecord per finished exchange to an ExchangeSink.
//
// Offsets, not times, find the boundaries. On each side an exchange's
// answer starts where the server's output stood when the request began:
//   - online, the client's ack on the request's first byte says how much the
//     online server had sent (the engine's `expect`);
//   - at the target, the engine knows how much the target had sent when it
//     sent the request's first byte.
// The answer's size is the distance to the next exchange's start (or to the
// end of the server's output when the session ends). So capture order and
// lost answer packets never shift a pairing; they only cost the latency or
// the status of one exchange.
//
// Latency is the time from the request's last byte to the answer's first
// byte, each side on its own clock: online, both come from the capture on
// the online host; at the target, the request's last byte is when tcpcopy
// sent it and the answer's first byte is when its header came back through
// the intercept, so the target's figure includes the path to the target
// and the control channel's way back.
//
// Memory: a fixed table of tracks, each with a ring of a few exchanges in
// flight, allocated once. A session beyond the table, or one whose target
// falls more than the ring behind, is not compared, and counted.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/counters.h"
#include "common/intrusive_list.h"
#include "copy/compare/exchange.h"

namespace tc::compare {

// What to read answers as: one protocol, or found from each session's
// first request bytes (detect_protocol in judge.h).
enum class ProtocolChoice : uint8_t { kAuto, kBytes, kHttp, kRedis };

class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  virtual void on_exchange(const ExchangeRecord& record) = 0;
};

#define TC_NOT_COMPARED_REASONS(X)                                                         \
  X(kNoTrack, "no_track", "more sessions at once than --compare-sessions")                 \
  X(kTargetBehind, "target_behind", "the target fell more exchanges behind than are kept")
TC_REASON_ENUM(NotComparedReason, TC_NOT_COMPARED_REASONS);

#define TC_TRACKER_COUNTERS(COUNTER, GAUGE, REASONS)                                                  \
  COUNTER(sessions, "compare_sessions", "", "Sessions whose exchanges are compared")                  \
  GAUGE(tracks_open, "compare_sessions_open", "", "Sessions being compared now")                      \
  COUNTER(exchanges, "compare_exchanges_paired", "", "Exchanges paired with their online counterpart and judged")                                   \
  REASONS(not_compared, "compare_not_compared", NotComparedReason, 0,                                 \
          "Sessions or exchanges left out of the comparison, by reason")                              \
  COUNTER(online_answers, "compare_online_answer_packets", "", "Online answer packets seen")          \
  COUNTER(online_unmatched, "compare_online_answer_unmatched", "",                                    \
          "Online answer packets for no compared session")                                            \
  COUNTER(online_early, "compare_online_answer_early", "",                                           \
          "Online answers captured before the request they answer (kept and paired when it came)")   \
  COUNTER(online_first_unseen, "compare_online_first_byte_unseen", "",                                \
          "Exchanges whose online answer's first byte was not captured (no latency or status)")

struct TrackerCounters {
  TC_COUNTER_FIELDS(TC_TRACKER_COUNTERS)
  void report(CounterSink& sink) const;
};

class ExchangeTracker {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kRing = 4;  // exchanges in flight per session

  // `capacity`: sessions compared at once. `wall_offset`: added to a
  // TimePoint to get Unix time. `quiet`: an exchange whose session has been
  // quiet this long is reported with what was seen (long-lived connections
  // would otherwise hold their last exchange until they close).
  ExchangeTracker(uint32_t capacity, ExchangeSink& sink, Duration wall_offset, Duration quiet);

  // --compare-protocol: what the answers on an online port are read as
  // (ports not listed: `fallback`).
  void set_protocols(ProtocolChoice fallback, std::vector<std::pair<uint16_t, ProtocolChoice>> by_port);

  // A session to `online_port` starts; kNone when it is not compared
  // (counted).
  uint32_t open(const SessionKey& origin, uint16_t online_port, TimePoint now);

  // Online side. `online_offset`: the online server's output as the
  // client's ack on this packet shows it (meaningful on a request start).
  void client_data(uint32_t h, uint32_t seq, std::span<const uint8_t> payload, bool request_start,
                   uint32_t online_offset, TimePoint now);
  // Any client ack: the online server had sent `online_offset` bytes.
  void client_ack(uint32_t h, uint32_t online_offset);
  // The client's FIN; `online_total`: the online server's output by its ack.
  void client_fin(uint32_t h, uint32_t online_total);
  // A packet of the online server's answer: its payload covers
  // [offset, offset + len); `present` is as much of it as was captured.
  void online_answer(uint32_t h, uint32_t offset, uint32_t len, std::span<const uint8_t> present, TimePoint now);
  void online_reset(uint32_t h);

  // Target side. A request's first byte went to the target while the target
  // had sent `target_offset` bytes.
  void target_request(uint32_t h, uint32_t target_offset, TimePoint now);
  // More request bytes went to the target for the first time.
  void target_data_sent(uint32_t h, TimePoint now);
  void target_answer(uint32_t h, uint32_t offset, uint32_t len, std::span<const uint8_t> present, TimePoint now);
  void target_reset(uint32_t h);

  // The session ended; `target_total`: the target's whole output. Every
  // exchange is complete, and reported once its online answer's first
  // byte was seen: the answer capture may deliver it after the client's
  // FIN. The handle stays valid for those late answers until release().
  void close(uint32_t h, uint32_t target_total);
  // The session is gone: whatever is left is reported as it is.
  void release(uint32_t h);
  // Reports exchanges of sessions quiet for `quiet`.
  void on_tick(TimePoint now);
  // Reports every exchange in flight (at exit).
  void close_all();

  const TrackerCounters& counters() const { return counters_; }

 private:
  struct Pending {
    ExchangeRecord record;
    uint32_t request_seq = 0;      // the request's first byte (client space)
    uint32_t online_start = 0;     // online output offset where the answer begins
    uint32_t target_start = 0;     // target output offset where the answer begins
    bool online_done = false;      // the next exchange began online (bytes known)
    bool online_first = false;     // the online answer's first byte was seen
    bool target_started = false;   // the request went to the target
    bool target_first = false;
    bool target_done = false;
    TimePoint online_request_last{};
    TimePoint target_request_last{};
  };
  struct Track {
    ListLink activity;             // quiet order, oldest first
    bool in_use = false;
    ProtocolChoice choice = ProtocolChoice::kAuto;
    Protocol protocol = Protocol::kBytes;
    bool protocol_known = false;
    SessionKey origin;
    uint32_t next_index = 0;       // index of the next exchange to begin online
    uint32_t target_index = 0;     // index of the next exchange to reach the target
    uint32_t online_end = 0;       // highest online output offset seen
    bool online_end_known = false;
    uint32_t target_end = 0;       // highest target output offset seen
    uint8_t head = 0;              // oldest exchange in the ring
    uint8_t count = 0;
    TimePoint last_activity{};
    // An online answer that began before any exchange known here: the
    // request capture can be a little behind the answer capture.
    struct Early {
      bool valid = false;
      uint32_t offset = 0;
      uint32_t len = 0;
      TimePoint at{};
      Prefix<kAnswerPrefix> prefix;
    } early;
    std::array<Pending, kRing> ring;

    Pending& at(size_t i) { return ring[(head + i) % kRing]; }
    Pending* latest() { return count ? &at(count - 1u) : nullptr; }
    Pending* find(uint32_t index) {
      for (size_t i = 0; i < count; ++i)
        if (at(i).record.index == index) return &at(i);
      return nullptr;
    }
  };
  struct ActivityLinks {
    std::vector<Track>* tracks;
    ListLink& operator()(uint32_t i) const { return (*tracks)[i].activity; }
  };

  Track* track(uint32_t h);
  void touch(uint32_t h, Track& t, TimePoint now);
  void finish_online(Track& t, Pending& p, uint32_t online_end);
  // Reports finished exchanges from the oldest on. Finished: both sides'
  // sizes are known and the online answer's first byte was seen (or there
  // was no online answer).
  void emit_ready(Track& t);
  // Ends both sides of every exchange in flight (sizes from what was seen).
  void complete(Track& t, uint32_t target_total);
  void emit_oldest(Track& t);
  // Reports everything in flight; the last exchange's sizes come from what
  // was seen. Keeps the track open.
  void flush(Track& t, uint32_t target_total);
  void free_track(uint32_t h);

  ExchangeSink& sink_;
  ProtocolChoice fallback_ = ProtocolChoice::kAuto;
  std::vector<std::pair<uint16_t, ProtocolChoice>> by_port_;
  Duration wall_offset_;
  Duration quiet_;
  std::vector<Track> tracks_;
  std::vector<uint32_t> free_;
  IntrusiveList<ActivityLinks> by_activity_{ActivityLinks{&tracks_}};
  TrackerCounters counters_;
};

}  // namespace tc::compare

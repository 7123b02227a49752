#include "copy/compare/exchange_tracker.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/tcp_packet.h"
#include "copy/compare/judge.h"

namespace tc::compare {

TC_REASON_TO_STRING(NotComparedReason, TC_NOT_COMPARED_REASONS)

void TrackerCounters::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_TRACKER_COUNTERS, sink); }

namespace {

double millis(Duration d) { return static_cast<double>(d.count()) / 1e6; }

// Appends to `prefix` the bytes of a packet covering [offset, offset +
// present.size()) that continue it, where the prefix starts at stream
// offset `start` and must not pass `limit` (when `limited`).
template <size_t N>
void extend_prefix(Prefix<N>& prefix, uint32_t start, uint32_t offset, std::span<const uint8_t> present,
                   bool limited, uint32_t limit) {
  if (prefix.len >= N) return;
  const uint32_t pos = start + prefix.len;
  if (seq_lt(pos, offset) || !seq_lt(pos, offset + static_cast<uint32_t>(present.size()))) return;
  size_t n = std::min<size_t>(N - prefix.len, offset + present.size() - pos);
  if (limited) {
    if (!seq_lt(pos, limit)) return;
    n = std::min<size_t>(n, limit - pos);
  }
  std::memcpy(prefix.bytes.data() + prefix.len, present.data() + (pos - offset), n);
  prefix.len = static_cast<uint8_t>(prefix.len + n);
}

Protocol chosen(ProtocolChoice choice, std::span<const uint8_t> first_request) {
  switch (choice) {
    case ProtocolChoice::kBytes: return Protocol::kBytes;
    case ProtocolChoice::kHttp: return Protocol::kHttp;
    case ProtocolChoice::kRedis: return Protocol::kRedis;
    case ProtocolChoice::kAuto: break;
  }
  return detect_protocol(first_request);
}

}  // namespace

ExchangeTracker::ExchangeTracker(uint32_t capacity, ExchangeSink& sink, Duration wall_offset, Duration quiet)
    : sink_(sink), wall_offset_(wall_offset), quiet_(quiet), tracks_(capacity) {
  free_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
}

ExchangeTracker::Track* ExchangeTracker::track(uint32_t h) {
  if (h >= tracks_.size() || !tracks_[h].in_use) return nullptr;
  return &tracks_[h];
}

void ExchangeTracker::touch(uint32_t h, Track& t, TimePoint now) {
  t.last_activity = now;
  by_activity_.move_to_back(h);
}

void ExchangeTracker::set_protocols(ProtocolChoice fallback, std::vector<std::pair<uint16_t, ProtocolChoice>> by_port) {
  fallback_ = fallback;
  by_port_ = std::move(by_port);
}

uint32_t ExchangeTracker::open(const SessionKey& origin, uint16_t online_port, TimePoint now) {
  ProtocolChoice choice = fallback_;
  for (const auto& [port, c] : by_port_)
    if (port == online_port) choice = c;
  if (free_.empty()) {
    ++counters_.not_compared[static_cast<size_t>(NotComparedReason::kNoTrack)];
    return kNone;
  }
  const uint32_t h = free_.back();
  free_.pop_back();
  Track& t = tracks_[h];
  t = Track{};
  t.in_use = true;
  t.origin = origin;
  t.choice = choice;
  ++counters_.sessions;
  ++counters_.tracks_open;
  touch(h, t, now);
  return h;
}

// ---------------------------------------------------------------- online

void ExchangeTracker::client_data(uint32_t h, uint32_t seq, std::span<const uint8_t> payload, bool request_start,
                                  uint32_t online_offset, TimePoint now) {
  Track* t = track(h);
  if (!t) return;
  touch(h, *t, now);
  if (!request_start) {
    Pending* p = t->latest();
    if (!p) return;
    if (!p->online_first) p->online_request_last = now;
    extend_prefix(p->record.request, p->request_seq, seq, payload, false, 0);
    return;
  }
  if (Pending* last = t->latest(); last && !last->online_done) finish_online(*t, *last, online_offset);
  if (t->count == kRing) {
    // The target is this many exchanges behind: the oldest cannot be paired.
    ++counters_.not_compared[static_cast<size_t>(NotComparedReason::kTargetBehind)];
    t->head = static_cast<uint8_t>((t->head + 1) % kRing);
    --t->count;
  }
  if (!t->protocol_known) {
    t->protocol = chosen(t->choice, payload);
    t->protocol_known = true;
  }
  Pending& p = t->ring[(t->head + t->count) % kRing];
  ++t->count;
  p = Pending{};
  p.record.index = t->next_index++;
  p.record.origin = t->origin;
  p.record.protocol = t->protocol;
  p.record.unix_us = (now + wall_offset_).count() / 1000;
  p.request_seq = seq;
  extend_prefix(p.record.request, seq, seq, payload, false, 0);
  p.online_start = online_offset;
  p.online_request_last = now;
  Track::Early& e = t->early;
  if (e.valid && seq_le(e.offset, online_offset) && seq_lt(online_offset, e.offset + e.len)) {
    // Its answer was captured first: the request was already on its way.
    p.online_first = true;
    p.record.online.ms = e.at < now ? 0.0 : millis(e.at - now);
    extend_prefix(p.record.online.prefix, online_offset, e.offset,
                  std::span<const uint8_t>(e.prefix.bytes.data(), e.prefix.len), false, 0);
    e.valid = false;
  }
}

void ExchangeTracker::client_ack(uint32_t h, uint32_t online_offset) {
  Track* t = track(h);
  if (!t) return;
  if (!t->online_end_known || seq_gt(online_offset, t->online_end)) {
    t->online_end = online_offset;
    t->online_end_known = true;
  }
}

void ExchangeTracker::client_fin(uint32_t h, uint32_t online_total) {
  Track* t = track(h);
  if (!t) return;
  client_ack(h, online_total);
  if (Pending* p = t->latest(); p && !p->online_done) finish_online(*t, *p, online_total);
}

void ExchangeTracker::finish_online(Track& t, Pending& p, uint32_t online_end) {
  p.online_done = true;
  p.record.online.bytes = seq_gt(online_end, p.online_start) ? online_end - p.online_start : 0;
  emit_ready(t);
}

void ExchangeTracker::online_answer(uint32_t h, uint32_t offset, uint32_t len, std::span<const uint8_t> present,
                                    TimePoint now) {
  ++counters_.online_answers;
  Track* t = track(h);
  if (!t) {
    ++counters_.online_unmatched;
    return;
  }
  touch(h, *t, now);
  client_ack(h, offset + len);
  const uint32_t end = offset + len;
  for (size_t i = 0; i < t->count; ++i) {
    Pending& p = t->at(i);
    const uint32_t limit = p.online_start + static_cast<uint32_t>(p.record.online.bytes);
    if (!p.online_first) {
      if (seq_gt(offset, p.online_start) || !seq_lt(p.online_start, end)) continue;
      p.online_first = true;
      p.record.online.ms = millis(now - p.online_request_last);
    }
    extend_prefix(p.record.online.prefix, p.online_start, offset, present, p.online_done, limit);
  }
  // Past every answer known here: the answer to a request not seen yet.
  const Pending* last = t->latest();
  const bool ahead = !last || (last->online_done && seq_ge(offset, last->online_start + static_cast<uint32_t>(
                                                                      last->record.online.bytes)));
  if (ahead && !t->early.valid) {
    Track::Early& e = t->early;
    e.valid = true;
    e.offset = offset;
    e.len = len;
    e.at = now;
    e.prefix.len = 0;
    extend_prefix(e.prefix, offset, offset, present, false, 0);
    ++counters_.online_early;
  }
  emit_ready(*t);
}

void ExchangeTracker::online_reset(uint32_t h) {
  Track* t = track(h);
  if (!t) return;
  if (Pending* p = t->latest()) p->record.online.reset = true;
}

// ---------------------------------------------------------------- target

void ExchangeTracker::target_request(uint32_t h, uint32_t target_offset, TimePoint now) {
  Track* t = track(h);
  if (!t) return;
  touch(h, *t, now);
  if (t->target_index > 0) {
    if (Pending* prev = t->find(t->target_index - 1); prev && prev->target_started && !prev->target_done) {
      prev->target_done = true;
      prev->record.target.bytes = seq_gt(target_offset, prev->target_start) ? target_offset - prev->target_start : 0;
    }
  }
  if (Pending* p = t->find(t->target_index)) {
    p->target_started = true;
    p->target_start = target_offset;
    p->target_request_last = now;
  }
  ++t->target_index;
  emit_ready(*t);
}

void ExchangeTracker::target_data_sent(uint32_t h, TimePoint now) {
  Track* t = track(h);
  if (!t || t->target_index == 0) return;
  if (Pending* p = t->find(t->target_index - 1); p && !p->target_first) p->target_request_last = now;
}

void ExchangeTracker::target_answer(uint32_t h, uint32_t offset, uint32_t len, std::span<const uint8_t> present,
                                    TimePoint now) {
  Track* t = track(h);
  if (!t) return;
  touch(h, *t, now);
  const uint32_t end = offset + len;
  if (seq_gt(end, t->target_end)) t->target_end = end;
  if (t->target_index == 0) return;
  Pending* p = t->find(t->target_index - 1);
  if (!p || !p->target_started || p->target_done) return;
  if (!p->target_first) {
    if (seq_gt(offset, p->target_start) || !seq_lt(p->target_start, end)) return;
    p->target_first = true;
    p->record.target.ms = millis(now - p->target_request_last);
  }
  extend_prefix(p->record.target.prefix, p->target_start, offset, present, false, 0);
}

void ExchangeTracker::target_reset(uint32_t h) {
  Track* t = track(h);
  if (!t) return;
  Pending* p = t->target_index > 0 ? t->find(t->target_index - 1) : nullptr;
  if (!p) p = t->latest();
  if (p) p->record.target.reset = true;
}

// ---------------------------------------------------------------- reporting

void ExchangeTracker::emit_oldest(Track& t) {
  Pending& p = t.at(0);
  ExchangeRecord& r = p.record;
  if (!p.online_first && r.online.bytes > 0) ++counters_.online_first_unseen;
  r.online.seen = p.online_first || r.online.bytes > 0;
  r.target.seen = p.target_first || r.target.bytes > 0;
  if (r.target.bytes == 0 && p.target_first) r.target.bytes = r.target.prefix.len;
  if (r.online.bytes == 0 && p.online_first) r.online.bytes = r.online.prefix.len;
  ++counters_.exchanges;
  sink_.on_exchange(r);
  t.head = static_cast<uint8_t>((t.head + 1) % kRing);
  --t.count;
}

void ExchangeTracker::emit_ready(Track& t) {
  while (t.count > 0) {
    const Pending& p = t.at(0);
    if (!p.online_done || !p.target_done || (!p.online_first && p.record.online.bytes > 0)) break;
    emit_oldest(t);
  }
}

void ExchangeTracker::flush(Track& t, uint32_t target_total) {
  complete(t, target_total);
  while (t.count > 0) emit_oldest(t);
}

void ExchangeTracker::complete(Track& t, uint32_t target_total) {
  for (size_t i = 0; i < t.count; ++i) {
    Pending& p = t.at(i);
    if (!p.online_done) {
      p.online_done = true;
      const uint32_t end = t.online_end_known ? t.online_end : p.online_start;
      p.record.online.bytes = seq_gt(end, p.online_start) ? end - p.online_start : 0;
    }
    if (p.target_started && !p.target_done) {
      p.target_done = true;
      p.record.target.bytes = seq_gt(target_total, p.target_start) ? target_total - p.target_start : 0;
    }
  }
}

void ExchangeTracker::close(uint32_t h, uint32_t target_total) {
  Track* t = track(h);
  if (!t) return;
  if (seq_gt(target_total, t->target_end)) t->target_end = target_total;
  complete(*t, t->target_end);
  emit_ready(*t);
}

void ExchangeTracker::release(uint32_t h) {
  Track* t = track(h);
  if (!t) return;
  flush(*t, t->target_end);
  free_track(h);
}

void ExchangeTracker::free_track(uint32_t h) {
  tracks_[h].in_use = false;
  by_activity_.remove(h);
  free_.push_back(h);
  --counters_.tracks_open;
}

void ExchangeTracker::on_tick(TimePoint now) {
  for (uint32_t h = by_activity_.front(); h != ListLink::kNil; h = by_activity_.front()) {
    Track& t = tracks_[h];
    if (now - t.last_activity < quiet_) break;
    flush(t, t.target_end);
    by_activity_.remove(h);  // back in the list with its next packet
  }
}

void ExchangeTracker::close_all() {
  for (uint32_t h = 0; h < tracks_.size(); ++h)
    if (tracks_[h].in_use) release(h);
}

}  // namespace tc::compare

#include "copy/engine/session_engine.h"

#include <algorithm>
#include <utility>


namespace tc {

namespace {

constexpr Duration kWheelTick = 4ms;
constexpr uint32_t kWheelSlots = 16384;  // about 65 s per turn

bool armed(TimePoint t) { return t.count() != 0; }

bool is_loopback(const IpAddress& a) {
  if (a.is_v4()) return (a.v4_host() >> 24) == 127;
  static const IpAddress kV6Loopback = *IpAddress::parse("::1");
  return a == kV6Loopback;
}

// A client is never more than one receive window ahead of what its peer
// acknowledged, and the largest window (scale 14) is just under 2^30. So
// no real packet of a session starts more than 1 GiB past the captured
// data, or 1 GiB before what the target acknowledged; one that does is
// forged or corrupt, and acting on it (a FIN or RST far away, a buffer
// that never becomes contiguous) would only harm the copy.
constexpr uint32_t kMaxSeqJump = 1u << 30;

bool plausible_seq(const Session& s, uint32_t seq) {
  return !seq_gt(seq, s.segments.data_end + kMaxSeqJump) && !seq_lt(seq, s.snd_una - kMaxSeqJump);
}

// Sessions looked at, oldest first, for one to evict from a full table.
constexpr int kEvictScan = 64;

// Segments one session may hold past gaps in its captured data. Real
// reordering needs a handful; beyond that the gap is a capture loss that
// never fills, or a sender spraying out-of-order bytes, each of which would
// pin a whole segment and lengthen every insertion's walk of the list.
constexpr uint16_t kMaxReorderSegments = 256;

}  // namespace

SessionEngine::SessionEngine(EngineConfig config, PacketOutput& out, SessionRegistrar& registrar, TimePoint now,
                             compare::ExchangeTracker* tracker)
    : config_(std::move(config)),
      registrar_(registrar),
      tracker_(tracker),
      table_(config_.max_sessions),
      pool_(config_.buffer_bytes),
      wheel_(config_.max_sessions, kWheelTick, kWheelSlots, now),
      move_ports_(config_.move_ports, uint32_t{config_.instance} * 7919u),
      emitter_(out, counters_),
      start_(now),
      pacer_times_{config_.hold_timeout, config_.answer_quiet},
      scratch_(config_.mtu) {
  ack_due_.reserve(config_.max_sessions);
}

// ---------------------------------------------------------------- capture

void SessionEngine::on_captured(std::span<const uint8_t> packet, TimePoint now) {
  ++counters_.packets_captured;
  counters_.bytes_captured += packet.size();
  TcpPacket pkt;
  if (ParseError e = TcpPacket::parse(packet, pkt); e != ParseError::kNone) {
    ++counters_.malformed[static_cast<size_t>(e)];
    return;
  }
  if (!valid_tcp_flags(pkt.flags)) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kBadFlags)];
    return;
  }
  const Transfer* t = config_.transfers.find(pkt.dst, pkt.dport);
  if (!t && tracker_ && config_.transfers.find(pkt.src, pkt.sport)) {
    on_online_answer(packet, now);  // a capture of both directions (-i, a file)
    return;
  }
  if (!t || t->target.addr.is_v4() != pkt.src.is_v4()) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kNotTransfer)];
    return;
  }
  const SessionKey origin{pkt.src, t->target.addr, pkt.sport, t->target.port};
  for (uint16_t copy = 0; copy < config_.copies; ++copy) {
    const uint32_t slot = table_.find_origin(origin, copy);
    if (slot == SessionTable<Session>::kNil) {
      if (copy == 0 && !sampled(origin, now)) {
        ++counters_.skipped[static_cast<size_t>(SkipReason::kSampledOut)];
        return;
      }
      start_session(pkt, origin, copy, now);
    } else {
      handle_client_packet(table_.at(slot), slot, pkt, now);
    }
  }
}

// The online server's answer to a client, captured leaving the online host
// (or read from a capture file): offsets in its output count from the
// client's first ack, as the request pacer's do.
void SessionEngine::on_online_answer(std::span<const uint8_t> packet, TimePoint now) {
  if (!tracker_) return;
  TcpPacket pkt;
  if (TcpPacket::parse(packet, pkt, Extent::kHeadersOnly) != ParseError::kNone || !valid_tcp_flags(pkt.flags)) {
    ++counters_.malformed_answers;
    return;
  }
  const Transfer* t = config_.transfers.find(pkt.src, pkt.sport);
  if (!t || pkt.syn()) return;
  const SessionKey origin{pkt.dst, t->target.addr, pkt.dport, t->target.port};
  const uint32_t slot = table_.find_origin(origin, 0);
  Session* s = slot == SessionTable<Session>::kNil ? nullptr : &table_.at(slot);
  if (!s || s->compare == compare::ExchangeTracker::kNone || !s->pacer.have_ref_ack) {
    if (pkt.payload_len > 0) tracker_->online_answer(compare::ExchangeTracker::kNone, 0, 0, {}, now);  // unmatched
    return;
  }
  if (pkt.rst()) {
    tracker_->online_reset(s->compare);
    return;
  }
  if (pkt.payload_len > 0)
    tracker_->online_answer(s->compare, pkt.seq - s->pacer.online_base, pkt.payload_len, pkt.payload, now);
}

// -r/-g: a session is chosen by a hash of its origin, so every packet of it
// (and every copy) gets the same answer.
bool SessionEngine::sampled(const SessionKey& origin, TimePoint now) const {
  uint32_t percent = config_.sample_percent;
  if (config_.ramp.count() > 0 && now - start_ < config_.ramp)
    percent = static_cast<uint32_t>(percent * (now - start_).count() / config_.ramp.count());
  if (percent >= 100) return true;
  return (SessionKeyHash{}(origin) >> 7) % 100 < percent;
}

// The connection as the target sees it: -c or -H client address, and for
// -n copies and -f instances a shifted client port.
bool SessionEngine::wire_key(const SessionKey& origin, uint16_t copy, SessionKey& out) {
  out = origin;
  if (!config_.client_map.empty()) {
    auto mapped = config_.client_map.map(origin.client);
    if (!mapped) {
      ++counters_.skipped[static_cast<size_t>(SkipReason::kNoClientAddress)];
      return false;
    }
    out.client = *mapped;
  } else if (is_loopback(origin.client)) {
    if (!config_.local_address || config_.local_address->is_v4() != origin.client.is_v4()) {
      ++counters_.skipped[static_cast<size_t>(SkipReason::kLoopbackClient)];
      return false;
    }
    out.client = *config_.local_address;
  }
  const uint32_t shift = uint32_t{copy} * 16411u + uint32_t{config_.instance} * 257u;
  if (shift != 0) {
    out.client_port = static_cast<uint16_t>(1024 + (origin.client_port + shift) % (65536u - 1024u));
    out.client_port = FlowShard::align(out.client_port, origin.client_port, config_.shard.count);
  }
  return true;
}

Session* SessionEngine::start_session(const TcpPacket& pkt, const SessionKey& origin, uint16_t copy,
                                      TimePoint now) {
  if (!may_start(pkt)) return nullptr;
  SessionKey key;
  if (!wire_key(origin, copy, key)) return nullptr;
  if (table_.full() && !evict_one(now)) {
    ++counters_.sessions_lost[static_cast<size_t>(LostReason::kSessionCap)];
    return nullptr;
  }
  uint32_t holder = SessionTable<Session>::kNil;
  if (!settle_port(key, origin, copy, holder, now)) return nullptr;
  const bool waits = holder != SessionTable<Session>::kNil;
  const uint32_t slot = table_.insert(key, origin, copy, !waits);
  Session& s = table_.at(slot);
  lru_.move_to_back(slot);
  ++counters_.sessions_created;
  if (tracker_ && copy == 0) s.compare = tracker_->open(origin, pkt.dport, now);
  s.last_activity = s.last_reply = now;
  s.rto = config_.initial_rto;
  take_client_open(s, pkt);
  if (waits) {
    s.state = SessionState::kPortWait;
    ports_.join(holder, slot);
    s.port_deadline = now + config_.port_wait;
    ++counters_.ports_waited;
  } else if (!launch(s, slot, now)) {
    return nullptr;
  }
  if (s.joined) handle_client_packet(s, slot, pkt, now);
  if (s.in_use) reschedule(s, slot, now);
  return &s;
}

// A session starts from a client SYN, or mid-stream from data (not with
// -O); anything else is counted and skipped.
bool SessionEngine::may_start(const TcpPacket& pkt) {
  if (pkt.syn() && !pkt.has_ack()) return true;
  if (pkt.syn() || pkt.rst() || pkt.payload_len == 0) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kNoSession)];
    return false;
  }
  if (config_.only_full_sessions) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kNotFullSession)];
    return false;
  }
  return true;
}

// The client reused a port online; the target may still see the earlier
// copy on it. A finished copy gives the port up at once (the target takes
// a new SYN over its TIME_WAIT, as it did online). A running one keeps it,
// and the new copy queues behind it (and behind copies already waiting
// there): `holder` is set to the session to wait behind. So the target
// sees the connections of a port one after the other, as the online server
// did, and never more of them at once than production had. A wait that
// runs out, a full queue, or a port held by another client's copy (-n, -c)
// moves the copy (`key` changes). False when no port is free: lost.
bool SessionEngine::settle_port(SessionKey& key, const SessionKey& origin, uint16_t copy, uint32_t& holder,
                                TimePoint now) {
  const uint32_t old = table_.find(key);
  if (old == SessionTable<Session>::kNil) return true;
  const Session& o = table_.at(old);
  if (o.state == SessionState::kClosed) {
    erase(old, now);
    return true;
  }
  if (o.origin == origin && o.copy == copy && config_.port_wait.count() > 0) {
    holder = ports_.tail(old);
    if (holder != SessionTable<Session>::kNil) return true;
  }
  if (free_wire_key(key, now)) return true;
  ++counters_.sessions_lost[static_cast<size_t>(LostReason::kNoFreePort)];
  return false;
}

// What the first packet tells of the client: its SYN's options, or, when
// joining mid-stream, a faked SYN one byte before the first data seen.
void SessionEngine::take_client_open(Session& s, const TcpPacket& pkt) {
  if (pkt.syn()) {
    s.isn = pkt.seq;
    s.client_mss = pkt.options.mss;
    s.client_wscale = pkt.options.wscale;
    s.syn_window = pkt.window;
  } else {
    s.joined = true;
    ++counters_.sessions_joined;
    s.isn = pkt.seq - 1;
    s.client_mss = config_.fake_syn_mss;
    s.client_wscale = 7;
    s.syn_window = 65535;
  }
  s.client_ts = pkt.options.has_timestamp;
  s.client_ts_val = pkt.options.ts_val;
  s.client_window = pkt.window;
  s.snd_una = s.snd_nxt = s.snd_max = s.segments.data_end = s.isn + 1;
}

// Registers the session with the intercepts and sends its SYN. At
// start-up, before the link is up, the session waits for it instead.
bool SessionEngine::launch(Session& s, uint32_t slot, TimePoint now) {
  const bool was_waiting = s.state == SessionState::kLinkWait;
  s.state = SessionState::kSynSent;
  s.last_reply = now;
  if (!registrar_.register_session(s.key)) {
    if (link_pending_ && config_.link_wait.count() > 0) {
      s.state = SessionState::kLinkWait;
      if (!was_waiting) {
        s.link_deadline = now + config_.link_wait;
        ++link_waiting_;
        ++counters_.sessions_link_waited;
      }
      return true;
    }
    if (was_waiting) --link_waiting_;
    lose(s, slot, LostReason::kNoIntercept, now);
    return false;
  }
  if (was_waiting) --link_waiting_;
  s.registered = true;
  send_syn(s);
  arm_rto(s, now);
  return true;
}

// The copy that held a port is gone: the first one queued for it takes the
// port (another one if something took it meanwhile) and starts; the rest of
// the queue waits behind it.
void SessionEngine::take_port(uint32_t slot, TimePoint now) {
  Session& s = table_.at(slot);
  if (!s.in_use || s.state != SessionState::kPortWait) return;  // waiters leave the queue when they end
  if (table_.find(s.key) != SessionTable<Session>::kNil) {
    launch_moved(s, slot, now);
    return;
  }
  table_.place_wire(slot);
  if (launch(s, slot, now)) reschedule(s, slot, now);
}

// The wait ran out: the earlier copy keeps the port, this one moves.
void SessionEngine::stop_waiting(Session& s, uint32_t slot, TimePoint now) {
  ports_.leave(slot);
  launch_moved(s, slot, now);
}

// A waiting session starts on a port of the move range.
void SessionEngine::launch_moved(Session& s, uint32_t slot, TimePoint now) {
  SessionKey key = s.key;
  if (!free_wire_key(key, now)) {
    lose(s, slot, LostReason::kNoFreePort, now);
    return;
  }
  table_.rekey(slot, key);
  if (launch(s, slot, now)) reschedule(s, slot, now);
}

void SessionEngine::handle_client_packet(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now) {
  if (s.state == SessionState::kClosed) {
    handle_after_close(s, slot, pkt, now);
    return;
  }
  if (!pkt.syn() && !plausible_seq(s, pkt.seq)) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kOutOfWindow)];
    return;
  }
  s.last_activity = now;
  lru_.move_to_back(slot);
  if (pkt.syn()) {
    handle_client_syn(s, slot, pkt, now);
    return;
  }
  if (pkt.options.has_timestamp && s.client_ts && seq_ge(pkt.options.ts_val, s.client_ts_val))
    s.client_ts_val = pkt.options.ts_val;
  if (pkt.has_ack()) s.client_window = pkt.window;
  if (pkt.rst()) {
    s.rst_captured = true;
  } else {
    // Request pacing: the client's ack moving between two pieces of data
    // means the online server answered in between, so a new request starts
    // here.
    const bool moved = pkt.has_ack() && s.pacer.client_ack(pkt.ack, pkt.payload_len > 0 || pkt.fin());
    if (pkt.payload_len > 0 && !take_client_data(s, slot, pkt, moved, now)) return;
    if (s.compare != compare::ExchangeTracker::kNone && pkt.has_ack() && s.pacer.have_ref_ack)
      tracker_->client_ack(s.compare, s.pacer.online_output(pkt.ack));
    if (pkt.fin() && !s.fin_captured) take_client_fin(s, pkt, moved);
  }
  try_send(s, slot, now);
  if (s.in_use && s.state != SessionState::kClosed) reschedule(s, slot, now);
}

void SessionEngine::handle_after_close(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now) {
  if (pkt.syn() && !pkt.has_ack() && pkt.seq != s.isn) {
    // The client reused the port for a new connection.
    const SessionKey origin = s.origin;
    const uint16_t copy = s.copy;
    erase(slot, now);
    start_session(pkt, origin, copy, now);
    return;
  }
  ++counters_.skipped[static_cast<size_t>(SkipReason::kAfterClose)];
}

void SessionEngine::handle_client_syn(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now) {
  if (!pkt.has_ack() && pkt.seq != s.isn) {
    // The client reused the port while the target is still finishing the
    // old connection: the old copy runs on, the new one takes another port.
    const SessionKey origin = s.origin;
    const uint16_t copy = s.copy;
    table_.drop_origin(slot);
    start_session(pkt, origin, copy, now);
    return;
  }
  ++counters_.skipped[static_cast<size_t>(SkipReason::kClientRetransmit)];
}

// Buffers a captured segment's payload, marked as a request's start (and
// held) when the online server answered before it. False when the session
// was lost for want of buffer.
bool SessionEngine::take_client_data(Session& s, uint32_t slot, const TcpPacket& pkt, bool moved, TimePoint now) {
  uint8_t flags = 0;
  if (s.pacer.requests_seen == 0 || moved) flags |= Segment::kRequestStart;
  if (moved && config_.hold_requests) flags |= Segment::kHold;
  const uint32_t expect = moved ? s.pacer.online_output(pkt.ack) : 0;
  const uint32_t end = pkt.seq + pkt.payload_len;
  if (seq_le(end, s.segments.data_end) || seq_le(end, s.snd_una)) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kClientRetransmit)];
    return true;
  }
  if (seq_gt(pkt.seq, s.segments.data_end) && s.segments.reorder_segments >= kMaxReorderSegments) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kReorderCap)];
    return true;
  }
  if (flags & Segment::kRequestStart) {
    ++s.pacer.requests_seen;
    ++counters_.requests_captured;
  }
  if (!s.segments.insert(pool_, pkt.seq, pkt.payload, flags, expect)) {
    ++counters_.skipped[static_cast<size_t>(SkipReason::kNoBuffer)];
    lose(s, slot, LostReason::kNoBuffer, now);
    return false;
  }
  if (s.compare != compare::ExchangeTracker::kNone)
    tracker_->client_data(s.compare, pkt.seq, pkt.payload, flags & Segment::kRequestStart, expect, now);
  // The session's first bytes (a joined session's first bytes seen) tell a
  // protocol whose copy cannot work; counted once, for copy 0.
  if (s.copy == 0 && pkt.seq == s.isn + 1) {
    if (const auto kind = unreplayable_kind(pkt.payload)) {
      const size_t k = static_cast<size_t>(*kind);
      ++counters_.sessions_unreplayable[k];
      unreplayable_seen_[k] = {Endpoint{s.origin.client, s.origin.client_port}, pkt.dport};
    }
  }
  return true;
}

void SessionEngine::take_client_fin(Session& s, const TcpPacket& pkt, bool moved) {
  s.fin_captured = true;
  s.fin_seq = pkt.seq + pkt.payload_len;
  s.fin_hold = moved && pkt.payload_len == 0 && config_.hold_requests;
  s.fin_expect = moved ? s.pacer.online_output(pkt.ack) : 0;
  if (s.compare != compare::ExchangeTracker::kNone && pkt.has_ack() && s.pacer.have_ref_ack)
    tracker_->client_fin(s.compare, s.pacer.online_output(pkt.ack));
}

// Moves `key` to the next port of the move range that no live session uses
// toward the same target (see PortRotor). A finished session that lingers
// there (to absorb its late packets) gives the port up: when copies move
// faster than they linger, the lingering ones would otherwise fill the
// range. Bounded: a range crowded with live sessions loses the copy.
bool SessionEngine::free_wire_key(SessionKey& key, TimePoint now) {
  // With workers, only ports that hash to this worker may be taken.
  const int probes = 256 * config_.shard.count;
  for (int k = 0; k < probes; ++k) {
    SessionKey candidate = key;
    candidate.client_port = move_ports_.next();
    if (candidate.client_port == key.client_port) continue;
    if (!FlowShard::same_worker(candidate.client_port, key.client_port, config_.shard.count)) continue;
    if (const uint32_t other = table_.find(candidate); other != SessionTable<Session>::kNil) {
      if (table_.at(other).state != SessionState::kClosed) continue;
      erase(other, now);
    }
    key = candidate;
    ++counters_.ports_moved;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- replies

void SessionEngine::on_reply(std::span<const uint8_t> header, TimePoint now) {
  TcpPacket pkt;
  const uint32_t slot = reply_session(header, pkt);
  if (slot == SessionTable<Session>::kNil) return;
  Session& s = table_.at(slot);
  if (s.state == SessionState::kClosed) {
    // The target repeats its FIN when our last ack was lost: ack again.
    if (pkt.fin() && !pkt.rst() && !s.ack_pending) {
      s.ack_pending = true;
      ack_due_.push_back(slot);
    }
    return;
  }
  s.last_reply = now;
  s.last_activity = now;
  lru_.move_to_back(slot);
  if (pkt.rst()) {
    handle_target_reset(s, slot, now);
    return;
  }
  if (pkt.syn()) {
    if (pkt.has_ack()) handle_synack(s, pkt, now);
  } else if (s.state == SessionState::kSynSent) {
    if (pkt.has_ack()) handle_stale_ack(s, slot, pkt, now);
  } else if (pkt.has_ack() && s.state == SessionState::kEstablished) {
    handle_ack(s, pkt, now);
    if (s.in_use && !s.ack_pending && s.state == SessionState::kEstablished &&
        (pkt.payload_len > 0 || pkt.fin())) {
      s.ack_pending = true;
      ack_due_.push_back(slot);
    }
  }
  if (s.state == SessionState::kEstablished) try_send(s, slot, now);
  if (s.in_use && s.state == SessionState::kEstablished) maybe_complete(s, slot, now);
  if (s.in_use) reschedule(s, slot, now);
}

// Parses a reply's headers and finds its session; kNil (counted) when the
// headers are bad or no session has them.
uint32_t SessionEngine::reply_session(std::span<const uint8_t> header, TcpPacket& pkt) {
  ++counters_.replies;
  if (TcpPacket::parse(header, pkt, Extent::kHeadersOnly) != ParseError::kNone) {
    ++counters_.replies_malformed;
    return SessionTable<Session>::kNil;
  }
  if (!valid_tcp_flags(pkt.flags)) {
    ++counters_.replies_bad_flags;
    return SessionTable<Session>::kNil;
  }
  const uint32_t slot = table_.find(SessionKey{pkt.dst, pkt.src, pkt.dport, pkt.sport});
  if (slot == SessionTable<Session>::kNil) ++counters_.replies_unknown;
  return slot;
}

void SessionEngine::handle_target_reset(Session& s, uint32_t slot, TimePoint now) {
  if (s.compare != compare::ExchangeTracker::kNone) tracker_->target_reset(s.compare);
  if (s.state == SessionState::kSynSent) {
    lose(s, slot, LostReason::kTargetRefused, now);
  } else if (s.snd_una != s.segments.data_end || (s.fin_captured && !s.fin_acked)) {
    lose(s, slot, LostReason::kTargetReset, now);
  } else if (!s.target_fin && s.pacer.requests_seen > 0) {
    // Everything was acknowledged, but a target that resets instead of
    // closing may have dropped requests it had not read yet.
    lose(s, slot, LostReason::kTargetAborted, now);
  } else {
    ++counters_.sessions_completed;
    close(s, slot, now);
  }
}

void SessionEngine::handle_synack(Session& s, const TcpPacket& pkt, TimePoint now) {
  if (pkt.ack != s.isn + 1) return;  // not an answer to our SYN
  if (s.state == SessionState::kEstablished) {
    send_ack(s);  // our handshake ack was lost; the target repeats its SYN-ACK
    return;
  }
  if (s.state != SessionState::kSynSent) return;
  s.rcv_nxt = s.target_base = pkt.seq + 1;
  s.ts_ok = s.client_ts && pkt.options.has_timestamp;
  if (s.ts_ok) s.ts_recent = pkt.options.ts_val;
  const bool wscale_ok = s.client_wscale >= 0 && pkt.options.wscale >= 0;
  s.snd_wscale = wscale_ok ? static_cast<uint8_t>(pkt.options.wscale) : 0;
  s.target_mss = pkt.options.mss ? pkt.options.mss : 536;
  s.snd_wnd = pkt.window;  // never scaled in a SYN
  s.last_window = pkt.window;
  s.state = SessionState::kEstablished;
  s.retries = 0;
  s.rto = config_.initial_rto;
  s.rto_deadline = {};
  (void)now;
  send_ack(s);
}

// Our SYN was answered by a bare ACK: the target still holds a connection
// on this 4-tuple, mostly in TIME_WAIT after it closed an earlier copy, and
// refuses a SYN whose sequence number and timestamp are not past it; or the
// connection is still open there, left by an earlier replay of the same
// clients that ended before they closed (its challenge ACK names what it
// expects next: past our ISN when that replay's data got through, our ISN
// + 1 itself when it was the same SYN and nothing more). No target answers
// a SYN it takes with a bare ACK, so either way it is an old connection. As
// any TCP in SYN-SENT, answer with a reset at the ACK's number (RFC 793),
// which Linux takes to end a TIME_WAIT and, being exactly the next
// sequence number it expects, an open connection (RFC 5961), and send the
// SYN again at once. A target that ignores the reset (tcp_rfc1337) answers
// again; the copy then moves to a free client port. Both are bounded: a
// target that answers every SYN so leaves the session to the retransmission
// timer.
void SessionEngine::handle_stale_ack(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now) {
  constexpr uint8_t kMaxResets = 3;
  constexpr uint8_t kMaxMoves = 2;
  ++counters_.stale_connections;
  if (s.stale_resets < kMaxResets && s.stale_resets <= s.stale_moves) {
    ++s.stale_resets;
    ++counters_.stale_resets;
    send_segment(s, pkt.ack, 0, tcpflag::kRst);
    send_syn(s);
    return;
  }
  if (s.stale_moves >= kMaxMoves) return;
  SessionKey key = s.key;
  if (!free_wire_key(key, now)) return;
  ++s.stale_moves;
  if (s.registered) registrar_.unregister_session(s.key);
  s.registered = false;
  table_.rekey(slot, key);
  if (!registrar_.register_session(key)) {
    lose(s, slot, LostReason::kNoIntercept, now);
    return;
  }
  s.registered = true;
  send_syn(s);
}

void SessionEngine::handle_ack(Session& s, const TcpPacket& pkt, TimePoint now) {
  if (seq_gt(pkt.ack, s.snd_una) && seq_le(pkt.ack, s.snd_max)) {
    s.snd_una = pkt.ack;
    if (s.fin_sent && seq_gt(pkt.ack, s.fin_seq)) s.fin_acked = true;
    if (seq_lt(s.snd_nxt, s.snd_una)) s.snd_nxt = s.snd_una;
    counters_.requests_replicated += s.segments.release_before(pool_, s.snd_una);
    s.retries = 0;
    s.dupacks = 0;
    s.rto = config_.initial_rto;
    s.rto_deadline = s.snd_una == s.snd_max ? TimePoint{} : now + s.rto;
  } else if (pkt.ack == s.snd_una && pkt.payload_len == 0 && !pkt.fin() && s.snd_max != s.snd_una &&
             pkt.window == s.last_window) {
    if (++s.dupacks == 3) {
      ++counters_.fast_retransmits;
      const uint32_t len = std::min<uint32_t>(s.segments.data_end - s.snd_una, static_cast<uint32_t>(max_payload(s)));
      if (len > 0) send_segment(s, s.snd_una, len, tcpflag::kAck | tcpflag::kPsh);
    }
  }
  s.last_window = pkt.window;
  s.snd_wnd = uint32_t{pkt.window} << s.snd_wscale;
  if (s.snd_wnd > 0) s.persist_deadline = {};
  if (s.ts_ok && pkt.options.has_timestamp && seq_ge(pkt.options.ts_val, s.ts_recent))
    s.ts_recent = pkt.options.ts_val;
  if (s.compare != compare::ExchangeTracker::kNone && pkt.payload_len > 0)
    tracker_->target_answer(s.compare, pkt.seq - s.target_base, pkt.payload_len, pkt.payload, now);
  const uint32_t seg_len = pkt.payload_len + (pkt.fin() ? 1 : 0);
  if (seg_len == 0) return;
  const uint32_t end = pkt.seq + seg_len;
  if (seq_le(pkt.seq, s.rcv_nxt) && seq_gt(end, s.rcv_nxt)) {
    if (pkt.payload_len > 0) {
      const uint32_t fresh = end - s.rcv_nxt - (pkt.fin() ? 1 : 0);
      s.pacer.target_answered(fresh, now);
      counters_.response_bytes += fresh;
    }
    s.rcv_nxt = end;
    if (pkt.fin()) s.target_fin = true;
  }
}

// ---------------------------------------------------------------- sending

size_t SessionEngine::max_payload(const Session& s) const {
  const size_t ip = s.key.target.is_v4() ? 20 : 40;
  const size_t opt = s.ts_ok ? 12 : 0;
  const size_t by_mtu = config_.mtu > ip + 20 + opt ? config_.mtu - ip - 20 - opt : 1;
  const size_t by_mss = s.target_mss > opt ? s.target_mss - opt : 1;
  return std::min(by_mtu, by_mss);
}

void SessionEngine::try_send(Session& s, uint32_t slot, TimePoint now) {
  if (s.state != SessionState::kEstablished) return;
  const uint32_t mp = static_cast<uint32_t>(max_payload(s));
  uint32_t id = Segment::kNil;
  while (seq_lt(s.snd_nxt, s.segments.data_end)) {
    if (id == Segment::kNil || !seq_lt(s.snd_nxt, pool_.at(id).seq + pool_.at(id).len)) {
      // On from the segment just sent: the packet may have spanned several.
      id = s.segments.find(pool_, s.snd_nxt, id);
      if (id == Segment::kNil) break;
    }
    Segment& g = pool_.at(id);
    const bool fresh = seq_ge(s.snd_nxt, s.snd_max);
    if (fresh && g.seq == s.snd_nxt && (g.flags & Segment::kHold)) {
      if (s.pacer.hold(g.expect, false, s.target_fin, now, pacer_times_, counters_)) break;
      g.flags &= static_cast<uint8_t>(~Segment::kHold);
    }
    const int32_t window_left = static_cast<int32_t>(s.snd_una + s.snd_wnd - s.snd_nxt);
    if (window_left <= 0) {
      if (s.snd_una == s.snd_max && !armed(s.persist_deadline)) s.persist_deadline = now + s.rto;
      break;
    }
    const uint32_t len =
        std::min({s.segments.run_end(pool_, g, s.snd_nxt, mp) - s.snd_nxt, mp, static_cast<uint32_t>(window_left)});
    if (!send_segment(s, s.snd_nxt, len, tcpflag::kAck | tcpflag::kPsh, id)) break;
    if (fresh) note_fresh_data(s, g, len, now);
    s.snd_nxt += len;
    if (seq_gt(s.snd_nxt, s.snd_max)) s.snd_max = s.snd_nxt;
    arm_rto(s, now);
  }
  send_client_close(s, slot, now);
}

// Data sent for the first time: the pacer and the comparison learn of it.
void SessionEngine::note_fresh_data(Session& s, const Segment& g, uint32_t len, TimePoint now) {
  if (s.compare != compare::ExchangeTracker::kNone) {
    if ((g.flags & Segment::kRequestStart) && g.seq == s.snd_nxt)
      tracker_->target_request(s.compare, s.rcv_nxt - s.target_base - (s.target_fin ? 1u : 0u), now);
    else
      tracker_->target_data_sent(s.compare, now);
  }
  s.pacer.request_sent();
  counters_.bytes_sent += len;
}

// The client's FIN or RST, once everything before it is through.
void SessionEngine::send_client_close(Session& s, uint32_t slot, TimePoint now) {
  // The FIN goes once the target has acked every byte before it.
  if (s.fin_captured && !s.fin_sent && s.segments.data_end == s.fin_seq && s.snd_una == s.fin_seq &&
      s.snd_nxt == s.fin_seq) {
    if (s.fin_hold && s.pacer.hold(s.fin_expect, true, s.target_fin, now, pacer_times_, counters_)) {
      // waits for the target to finish its answer
    } else if (send_segment(s, s.fin_seq, 0, tcpflag::kFin | tcpflag::kAck)) {
      s.fin_hold = false;
      s.fin_sent = true;
      s.snd_nxt = s.snd_max = s.fin_seq + 1;
      arm_rto(s, now);
    }
  }
  // So does a client RST, once the target has also answered the last data
  // and gone quiet: online the answer was written before the client reset
  // (a client closing with a response still in flight resets when it
  // arrives), and a reset that overtakes the target's answer aborts it.
  if (s.rst_captured && s.snd_una == s.snd_max && s.snd_una == s.segments.data_end &&
      !(config_.hold_requests && s.pacer.rst_waits(now, pacer_times_, counters_))) {
    if (send_segment(s, s.snd_nxt, 0, tcpflag::kRst | tcpflag::kAck)) {
      ++counters_.sessions_completed;
      close(s, slot, now);
    }
  }
}

bool SessionEngine::send_segment(Session& s, uint32_t seq, uint32_t len, uint8_t flags, uint32_t hint) {
  // Payload inside one buffered segment is used in place; a packet that
  // spans segments is gathered into scratch first.
  std::span<const uint8_t> payload;
  if (len > 0) {
    payload = s.segments.bytes(pool_, seq, len, hint, scratch_);
    if (payload.empty()) return false;
  }
  TcpSegmentSpec spec = PacketEmitter::spec_for(s.key);
  spec.seq = seq;
  spec.ack = (flags & tcpflag::kAck) ? s.rcv_nxt : 0;
  spec.flags = flags;
  spec.window = s.client_window;
  spec.timestamp = s.ts_ok;
  spec.ts_val = s.client_ts_val;
  spec.ts_ecr = s.ts_recent;
  spec.payload = payload;
  const PacketEmitter::Result sent = emitter_.emit(spec);
  if (sent == PacketEmitter::Result::kUnbuilt) ++counters_.output_full;
  if (sent != PacketEmitter::Result::kSent) return false;
  if (flags & tcpflag::kAck) {
    s.ack_sent = s.rcv_nxt;
    s.ack_pending = false;
  }
  return true;
}

void SessionEngine::send_syn(Session& s) {
  TcpSegmentSpec spec = PacketEmitter::spec_for(s.key);
  spec.seq = s.isn;
  spec.flags = tcpflag::kSyn;
  spec.window = s.syn_window;
  spec.mss = s.client_mss;
  spec.wscale = s.client_wscale;
  spec.timestamp = s.client_ts;
  spec.ts_val = s.client_ts_val;
  emitter_.emit(spec);
}

void SessionEngine::send_ack(Session& s) { send_segment(s, s.snd_nxt, 0, tcpflag::kAck); }

void SessionEngine::flush() {
  for (uint32_t slot : ack_due_) {
    Session& s = table_.at(slot);
    if (s.in_use && s.ack_pending) send_ack(s);
  }
  ack_due_.clear();
}

// ---------------------------------------------------------------- timers

void SessionEngine::on_tick(TimePoint now) {
  wheel_.advance(now, [&](uint32_t slot) { on_timer(slot, now); });
}

void SessionEngine::arm_rto(Session& s, TimePoint now) {
  if (!armed(s.rto_deadline)) s.rto_deadline = now + s.rto;
}

void SessionEngine::reschedule(Session& s, uint32_t slot, TimePoint now) {
  TimePoint when = s.last_activity + config_.idle_timeout;
  auto consider = [&when](TimePoint t) {
    if (armed(t) && t < when) when = t;
  };
  if (s.state == SessionState::kClosed) {
    when = s.linger_deadline;
  } else if (s.state == SessionState::kPortWait) {
    when = s.port_deadline;
  } else if (s.state == SessionState::kLinkWait) {
    when = s.link_deadline;
  } else {
    consider(s.rto_deadline);
    consider(s.persist_deadline);
    consider(s.pacer.deadline(pacer_times_));
    if (s.state == SessionState::kSynSent || s.snd_una != s.snd_max || s.pacer.holding)
      consider(s.last_reply + config_.session_timeout);
  }
  (void)now;
  wheel_.schedule(slot, when);
}

void SessionEngine::on_timer(uint32_t slot, TimePoint now) {
  Session& s = table_.at(slot);
  if (!s.in_use || on_waiting_timer(s, slot, now)) return;
  const bool waiting = s.state == SessionState::kSynSent || s.snd_una != s.snd_max || s.pacer.holding;
  if (waiting && now - s.last_reply >= config_.session_timeout) {
    lose(s, slot, LostReason::kResponseTimeout, now);
    return;
  }
  if (now - s.last_activity >= config_.idle_timeout) {
    ++counters_.sessions_idle_closed;
    counters_.requests_undelivered[static_cast<size_t>(UndeliveredReason::kIdleClosed)] += s.segments.requests(pool_);
    if (s.state == SessionState::kEstablished) send_segment(s, s.snd_nxt, 0, tcpflag::kRst | tcpflag::kAck);
    close(s, slot, now);
    return;
  }
  if (armed(s.rto_deadline) && now >= s.rto_deadline) {
    retransmit(s, slot, now);
    if (!s.in_use || s.state == SessionState::kClosed) return;
  }
  if (armed(s.persist_deadline) && now >= s.persist_deadline) {
    // Zero window: a segment one byte below the window makes the target
    // answer with its current window.
    ++counters_.window_probes;
    send_segment(s, s.snd_una - 1, 0, tcpflag::kAck);
    s.persist_deadline = now + std::min(s.rto * 2, config_.max_rto);
  }
  if (s.pacer.holding) {
    try_send(s, slot, now);  // re-checks the answer against the clock
    if (!s.in_use || s.state == SessionState::kClosed) return;
  }
  reschedule(s, slot, now);
}

// The timer of a session that is not talking to the target: a closed one
// lingering, or one waiting for its port or for the intercept link. False
// for the others.
bool SessionEngine::on_waiting_timer(Session& s, uint32_t slot, TimePoint now) {
  if (s.state == SessionState::kClosed) {
    if (now >= s.linger_deadline) erase(slot, now);
    else reschedule(s, slot, now);
  } else if (s.state == SessionState::kPortWait) {
    if (now >= s.port_deadline) stop_waiting(s, slot, now);
    else reschedule(s, slot, now);
  } else if (s.state == SessionState::kLinkWait) {
    if (now < s.link_deadline) {
      reschedule(s, slot, now);
    } else {
      link_pending_ = false;  // the wait is over: one last try, then lost
      if (launch(s, slot, now)) reschedule(s, slot, now);
    }
  } else {
    return false;
  }
  return true;
}

void SessionEngine::retransmit(Session& s, uint32_t slot, TimePoint now) {
  s.rto_deadline = {};
  const bool outstanding = s.state == SessionState::kSynSent || s.snd_una != s.snd_max;
  if (!outstanding) return;
  const bool syn = s.state == SessionState::kSynSent;
  if (s.retries >= (syn ? config_.max_syn_retransmits : config_.max_retransmits)) {
    lose(s, slot, syn ? LostReason::kNoSynAck : LostReason::kTargetUnresponsive, now);
    return;
  }
  ++s.retries;
  ++counters_.retransmits;
  s.rto = std::min(s.rto * 2, syn ? std::max(config_.max_syn_rto, config_.max_rto) : config_.max_rto);
  if (syn) {
    ++counters_.syn_retransmits;
    send_syn(s);
  } else if (s.fin_sent && s.snd_una == s.fin_seq) {
    ++counters_.fin_retransmits;
    send_segment(s, s.fin_seq, 0, tcpflag::kFin | tcpflag::kAck);
  } else {
    // Go back to the oldest unacked byte; acks will pull the rest again.
    s.snd_nxt = s.snd_una;
    const uint32_t len = std::min<uint32_t>(s.segments.data_end - s.snd_una, static_cast<uint32_t>(max_payload(s)));
    if (len > 0 && send_segment(s, s.snd_una, len, tcpflag::kAck | tcpflag::kPsh)) s.snd_nxt += len;
  }
  s.rto_deadline = now + s.rto;
}

// ---------------------------------------------------------------- lifecycle

void SessionEngine::maybe_complete(Session& s, uint32_t slot, TimePoint now) {
  if (s.fin_acked && s.target_fin) {
    ++counters_.sessions_completed;
    close(s, slot, now);
  }
}

void SessionEngine::close(Session& s, uint32_t slot, TimePoint now) {
  // Its exchanges are complete; late online answers still find it while
  // it lingers, until erase() releases it.
  if (s.compare != compare::ExchangeTracker::kNone)
    tracker_->close(s.compare, s.rcv_nxt - s.target_base - (s.target_fin ? 1u : 0u));
  if (s.state == SessionState::kLinkWait) --link_waiting_;
  s.state = SessionState::kClosed;
  s.segments.clear(pool_);
  s.rto_deadline = s.persist_deadline = {};
  s.pacer.holding = false;
  s.linger_deadline = now + config_.linger;
  // A copy that ends while it waits leaves the queue; one that held the
  // port hands it to the first copy queued for it, and does not linger.
  if (ports_.waiting(slot)) ports_.leave(slot);
  if (ports_.has_waiters(slot)) {
    erase(slot, now);
    return;
  }
  reschedule(s, slot, now);
}

void SessionEngine::lose(Session& s, uint32_t slot, LostReason why, TimePoint now) {
  ++counters_.sessions_lost[static_cast<size_t>(why)];
  counters_.requests_undelivered[static_cast<size_t>(undelivered_reason(why))] += s.segments.requests(pool_);
  // Free the target's side of a connection we give up on.
  if (s.state == SessionState::kEstablished) send_segment(s, s.snd_nxt, 0, tcpflag::kRst | tcpflag::kAck);
  close(s, slot, now);
}

void SessionEngine::erase(uint32_t slot, TimePoint now) {
  Session& s = table_.at(slot);
  // An ack owed to the target goes before the session does: a finished
  // session taken over in the turn that acked the target's FIN would leave
  // the target retransmitting its FIN, holding the 4-tuple the next copy
  // needs.
  if (s.ack_pending) send_ack(s);
  if (s.compare != compare::ExchangeTracker::kNone) {
    tracker_->release(s.compare);
    s.compare = compare::ExchangeTracker::kNone;
  }
  if (s.registered) registrar_.unregister_session(s.key);
  if (s.state == SessionState::kLinkWait) --link_waiting_;
  const uint32_t heir = ports_.leave(slot);  // queued for the port this one held
  lru_.remove(slot);
  wheel_.cancel(slot);
  s.segments.clear(pool_);
  table_.erase(slot);
  if (heir != SessionTable<Session>::kNil) take_port(heir, now);
}

// Eviction policy of a full table: among the kEvictScan least recently
// active sessions, a closed one (lingering) makes room first; else the
// oldest with nothing in flight (every captured byte and FIN acknowledged by
// the target, nothing held), whose target side gets a RST. A session with
// data in flight is never evicted: the new session is refused instead.
bool SessionEngine::evict_one(TimePoint now) {
  constexpr uint32_t kNil = SessionTable<Session>::kNil;
  uint32_t idle = kNil;
  uint32_t slot = lru_.front();
  for (int i = 0; i < kEvictScan && slot != kNil; ++i, slot = lru_.next(slot)) {
    const Session& s = table_.at(slot);
    if (s.state == SessionState::kClosed) {
      ++counters_.sessions_evicted[static_cast<size_t>(EvictReason::kLingering)];
      erase(slot, now);
      return true;
    }
    if (idle == kNil && s.segments.empty() && s.snd_una == s.snd_max && s.snd_una == s.segments.data_end &&
        !s.pacer.holding && (!s.fin_captured || s.fin_acked) && !s.rst_captured)
      idle = slot;
  }
  if (idle == kNil) return false;
  Session& s = table_.at(idle);
  ++counters_.sessions_evicted[static_cast<size_t>(EvictReason::kIdle)];
  if (s.state == SessionState::kEstablished) send_segment(s, s.snd_nxt, 0, tcpflag::kRst | tcpflag::kAck);
  erase(idle, now);
  return true;
}

uint32_t SessionEngine::end_capture(TimePoint now) {
  uint32_t open = 0;
  for (uint32_t slot = 0; slot < table_.slot_count(); ++slot) {
    Session& s = table_.at(slot);
    // Closed or closing already: lingering, or a FIN or RST of the client's on its way.
    if (!s.in_use || s.state == SessionState::kClosed || s.rst_captured || s.fin_captured) continue;
    ++open;
    ++counters_.sessions_capture_ended;
    s.rst_captured = true;
    try_send(s, slot, now);
    if (s.in_use && s.state != SessionState::kClosed) reschedule(s, slot, now);
  }
  return open;
}

void SessionEngine::link_ready(TimePoint now) {
  link_pending_ = false;
  if (link_waiting_ == 0) return;
  for (uint32_t slot = 0; slot < table_.slot_count(); ++slot) {
    Session& s = table_.at(slot);
    if (!s.in_use || s.state != SessionState::kLinkWait) continue;
    if (launch(s, slot, now)) {
      try_send(s, slot, now);
      reschedule(s, slot, now);
    }
  }
}

void SessionEngine::reregister_all() {
  for (uint32_t i = 0; i < table_.slot_count(); ++i) {
    Session& s = table_.at(i);
    if (s.in_use && s.registered && s.state != SessionState::kClosed) registrar_.register_session(s.key);
  }
}

}  // namespace tc

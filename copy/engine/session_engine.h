// The session engine: pure logic. Captured client packets, reply headers
// and the clock go in; rewritten packets (PacketOutput), registrations
// (SessionRegistrar) and timers come out. No sockets, no clock reads.
//
// For each client connection seen online it opens a connection to the
// target that replays the client's bytes: client sequence numbers are kept,
// acks are rewritten into the target's sequence space (learned from reply
// headers), timestamps echo the target's, the target's window is respected,
// lost packets are retransmitted, and each new request waits until the
// target has answered the previous one.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/timer_wheel.h"
#include "copy/compare/exchange_tracker.h"
#include "copy/engine/engine_config.h"
#include "copy/engine/engine_counters.h"
#include "copy/engine/packet_emitter.h"
#include "copy/engine/port_queue.h"
#include "copy/engine/port_rotor.h"
#include "copy/engine/ports.h"
#include "copy/engine/segment_pool.h"
#include "copy/engine/session.h"
#include "copy/engine/session_table.h"
#include "copy/engine/unreplayable.h"

namespace tc {

class SessionEngine {
 public:
  // `tracker`: compares each exchange of copy 0 with the online answer
  // (null: comparison off).
  SessionEngine(EngineConfig config, PacketOutput& out, SessionRegistrar& registrar, TimePoint now,
                compare::ExchangeTracker* tracker = nullptr);

  // A packet captured online (starting at its IP header).
  void on_captured(std::span<const uint8_t> packet, TimePoint now);
  // A packet the online server sent to a client (starting at its IP header;
  // the payload may be cut short), for the comparison.
  void on_online_answer(std::span<const uint8_t> packet, TimePoint now);
  // An IP + TCP header of a target reply, from an intercept (the first
  // payload bytes may follow).
  void on_reply(std::span<const uint8_t> header, TimePoint now);
  // Sends the acks that replies made due; call after each batch of replies.
  void flush();
  // Runs due timers.
  void on_tick(TimePoint now);
  // How long until on_tick should run again (a tick while timers are armed).
  Duration next_tick() const { return wheel_.tick(); }
  // Registers every live session again (an intercept came back).
  void reregister_all();
  // Start-up: the intercept link is coming up. Until link_ready(), a
  // session that cannot register waits for it (config().link_wait at most)
  // instead of being lost; its captured data is kept meanwhile.
  void await_link() { link_pending_ = true; }
  // The link is up: the waiting sessions register and send their SYNs,
  // and from now on a session that cannot register is lost at once.
  void link_ready(TimePoint now);
  uint32_t link_waiting() const { return link_waiting_; }
  // The capture ended (an offline file, or one pass of it): no client will
  // close the sessions still open. Each resets its connection on the target
  // once its captured data is acknowledged and the target's answer is over,
  // as if its client had reset then, so the target holds nothing a later
  // replay of the same clients would meet. Returns how many were open.
  uint32_t end_capture(TimePoint now);

  const EngineCounters& counters() const { return counters_; }
  uint32_t active_sessions() const { return table_.size(); }
  size_t buffered_segments() const { return pool_.in_use(); }
  const EngineConfig& config() const { return config_; }
  // The latest session of each kind counted in sessions_unreplayable.
  const std::array<UnreplayableSeen, kUnreplayableKinds>& unreplayable_seen() const { return unreplayable_seen_; }

 private:
  struct LruLinks {
    SessionTable<Session>* table;
    ListLink& operator()(uint32_t slot) const { return table->at(slot).lru; }
  };
  struct PortLinks {
    SessionTable<Session>* table;
    ListLink& operator()(uint32_t slot) const { return table->at(slot).port_queue; }
  };

  Session* start_session(const TcpPacket& pkt, const SessionKey& origin, uint16_t copy, TimePoint now);
  bool may_start(const TcpPacket& pkt);
  bool settle_port(SessionKey& key, const SessionKey& origin, uint16_t copy, uint32_t& holder, TimePoint now);
  void take_client_open(Session& s, const TcpPacket& pkt);
  bool sampled(const SessionKey& origin, TimePoint now) const;
  bool wire_key(const SessionKey& origin, uint16_t copy, SessionKey& out);
  bool free_wire_key(SessionKey& key, TimePoint now);
  bool launch(Session& s, uint32_t slot, TimePoint now);
  void take_port(uint32_t slot, TimePoint now);
  void stop_waiting(Session& s, uint32_t slot, TimePoint now);
  void launch_moved(Session& s, uint32_t slot, TimePoint now);
  void handle_client_packet(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now);
  void handle_after_close(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now);
  void handle_client_syn(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now);
  bool take_client_data(Session& s, uint32_t slot, const TcpPacket& pkt, bool moved, TimePoint now);
  void take_client_fin(Session& s, const TcpPacket& pkt, bool moved);
  uint32_t reply_session(std::span<const uint8_t> header, TcpPacket& pkt);
  void handle_target_reset(Session& s, uint32_t slot, TimePoint now);
  void handle_synack(Session& s, const TcpPacket& pkt, TimePoint now);
  void handle_stale_ack(Session& s, uint32_t slot, const TcpPacket& pkt, TimePoint now);
  void handle_ack(Session& s, const TcpPacket& pkt, TimePoint now);
  void try_send(Session& s, uint32_t slot, TimePoint now);
  void note_fresh_data(Session& s, const Segment& g, uint32_t len, TimePoint now);
  void send_client_close(Session& s, uint32_t slot, TimePoint now);
  void send_syn(Session& s);
  void send_ack(Session& s);
  // `hint`: a segment at or before `seq` to search from (the list's head
  // when kNil).
  bool send_segment(Session& s, uint32_t seq, uint32_t len, uint8_t flags, uint32_t hint = Segment::kNil);
  size_t max_payload(const Session& s) const;
  void on_timer(uint32_t slot, TimePoint now);
  bool on_waiting_timer(Session& s, uint32_t slot, TimePoint now);
  void retransmit(Session& s, uint32_t slot, TimePoint now);
  void arm_rto(Session& s, TimePoint now);
  void reschedule(Session& s, uint32_t slot, TimePoint now);
  void maybe_complete(Session& s, uint32_t slot, TimePoint now);
  void close(Session& s, uint32_t slot, TimePoint now);
  void lose(Session& s, uint32_t slot, LostReason why, TimePoint now);
  void erase(uint32_t slot, TimePoint now);
  // Makes room in a full table; false when no session may go.
  bool evict_one(TimePoint now);

  EngineConfig config_;
  SessionRegistrar& registrar_;
  compare::ExchangeTracker* tracker_;
  SessionTable<Session> table_;
  SegmentPool pool_;
  TimerWheel wheel_;
  PortRotor move_ports_;
  EngineCounters counters_;
  PacketEmitter emitter_;  // after counters_, which it counts into
  std::vector<uint32_t> ack_due_;  // slots with an ack to send at flush()
  TimePoint start_;
  // Activity order of the sessions, oldest first.
  IntrusiveList<LruLinks> lru_{LruLinks{&table_}};
  PortQueue<PortLinks> ports_{PortLinks{&table_}};
  PacerTimes pacer_times_;
  std::array<UnreplayableSeen, kUnreplayableKinds> unreplayable_seen_{};
  bool link_pending_ = false;   // see await_link()
  uint32_t link_waiting_ = 0;   // sessions in kLinkWait
  std::vector<uint8_t> scratch_;  // a packet's payload gathered from its segments; sized once, by the MTU
};

}  // namespace tc

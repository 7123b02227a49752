// One replayed connection: the client side (sequence space of the real
// client, which is kept) and the target side (learned from reply headers).
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/intrusive_list.h"
#include "common/session_key.h"
#include "copy/engine/request_pacer.h"
#include "copy/engine/segment_list.h"

namespace tc {

enum class SessionState : uint8_t {
  kPortWait,     // an earlier copy still holds the client port; nothing sent yet
  kLinkWait,     // at start-up, the intercept link is not up yet; nothing sent yet
  kSynSent,      // SYN (real or faked) sent, waiting for the SYN-ACK
  kEstablished,  // data flows
  kClosed,       // finished or lost; lingers to absorb late packets
};

struct Session {
  SessionKey key;              // as the target sees it
  SessionKey origin;           // as captured online
  ListLink lru;                // activity order (oldest first), for eviction
  bool in_use = false;
  bool has_origin = false;     // captured packets of `origin` still come here
  bool has_wire = false;       // replies to `key` come here (not while kPortWait)
  uint16_t copy = 0;           // which of the -n copies
  SessionState state = SessionState::kSynSent;
  bool joined = false;         // started mid-stream with a faked handshake
  bool registered = false;
  uint8_t stale_resets = 0;    // resets sent at a connection the target still held
  uint8_t stale_moves = 0;     // times the copy moved port for such a connection
  // The client reused a port online while the earlier copy on it still ran:
  // the new copy queues (kPortWait) until the ones before it are done.
  ListLink port_queue;                // see PortQueue
  TimePoint port_deadline{};          // kPortWait: then it moves to another port
  TimePoint link_deadline{};          // kLinkWait: then it is lost (no_intercept)

  // Client -> target, in the client's sequence space.
  uint32_t isn = 0;
  uint32_t snd_una = 0;        // oldest byte the target has not acked
  uint32_t snd_nxt = 0;        // next byte to send
  uint32_t snd_max = 0;        // highest byte sent so far
  SegmentList segments;        // captured payload not yet acked by the target
  bool fin_captured = false;
  bool fin_hold = false;       // the FIN came after the online server spoke
  uint32_t fin_expect = 0;     // the online server's total output before the FIN
  bool fin_sent = false;
  bool fin_acked = false;
  bool rst_captured = false;
  uint32_t fin_seq = 0;

  // What the client announced (SYN options) and its latest values.
  uint16_t syn_window = 0;
  uint16_t client_mss = 0;
  int8_t client_wscale = -1;
  bool client_ts = false;
  uint32_t client_ts_val = 0;
  uint16_t client_window = 0;

  // Target -> client, learned from reply headers.
  uint32_t rcv_nxt = 0;        // the ack we send
  uint32_t ack_sent = 0;
  bool ack_pending = false;
  bool target_fin = false;
  uint32_t snd_wnd = 0;        // target's window in bytes
  uint8_t snd_wscale = 0;
  bool ts_ok = false;
  uint32_t ts_recent = 0;
  uint16_t target_mss = 536;
  uint16_t last_window = 0;    // raw window of the last reply (duplicate-ack test)
  uint8_t dupacks = 0;

  RequestPacer pacer;

  // Answer comparison (copy 0 only): the session's handle in the
  // ExchangeTracker, and where the target's output starts.
  uint32_t compare = UINT32_MAX;
  uint32_t target_base = 0;

  // Timers.
  uint8_t retries = 0;
  Duration rto{};
  TimePoint rto_deadline{};    // zero: not armed
  TimePoint persist_deadline{};
  TimePoint last_reply{};
  TimePoint last_activity{};
  TimePoint linger_deadline{};
};

}  // namespace tc

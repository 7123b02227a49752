// Settings of the session engine, filled from the command line.
#pragma once

#include <cstddef>
#include <cstdint>

#include <optional>

#include "common/clock.h"
#include "common/flow_shard.h"
#include "common/ip_address.h"
#include "copy/engine/client_map.h"
#include "copy/engine/port_rotor.h"
#include "copy/engine/transfer_map.h"

namespace tc {

struct EngineConfig {
  TransferMap transfers;
  uint16_t mtu = 1500;                    // -M: largest packet sent to the target
  uint16_t fake_syn_mss = 1460;           // -D: MSS written into faked SYNs
  Duration session_timeout = 120s;        // -t: give up when the target stays silent this long
  Duration idle_timeout = 3600s;          // -k: drop sessions idle this long
  Duration initial_rto = 200ms;           // -R
  Duration max_rto = 3s;
  uint8_t max_retransmits = 6;            // then the session is counted lost
  // A SYN is retried longer, as a client's connect() is (Linux: 6 from 1 s,
  // about 2 minutes): a target whose listen queue overflows drops SYNs
  // silently until it catches up. 9 from -R doubling to 30 s: about 80 s.
  uint8_t max_syn_retransmits = 9;        // --syn-retries
  Duration max_syn_rto = 30s;
  Duration hold_timeout = 2s;             // target silence after which a held request goes anyway
  Duration answer_quiet = 50ms;           // silence that ends a target answer not of online's length
  Duration linger = 2s;                   // closed sessions absorb late packets this long
  Duration port_wait = 10s;               // a copy queues this long for its port (0: moves at once)
  // At start-up, while the intercept link comes up, a new session waits
  // this long for it instead of being lost (0: lost at once). Its captured
  // data waits in the payload buffer (-m), its slot in the table.
  Duration link_wait = 5s;
  bool only_full_sessions = false;        // -O: replay only sessions whose SYN was seen
  bool hold_requests = true;              // --no-hold turns it off
  uint32_t max_sessions = 1u << 18;
  size_t buffer_bytes = 512u << 20;       // -m: captured payload kept for the target

  // Traffic shaping.
  uint16_t copies = 1;                    // -n: copies of every session
  uint16_t instance = 0;                  // -f: shifts client ports apart between instances
  PortRange move_ports{1024, 32767};      // --move-ports: client ports for copies that must move
  uint8_t sample_percent = 100;           // -r: share of sessions replayed
  Duration ramp{};                        // -g: time to ramp the share up from 0
  ClientMap client_map;                   // -c: client addresses the target sees
  std::optional<IpAddress> local_address; // -H: replaces loopback client addresses

  // --workers: which client connections are this engine's (see
  // FlowShard). The ports it gives copies (-n, -f, moves) hash to the
  // worker of the client's own.
  FlowShard shard;
};

}  // namespace tc

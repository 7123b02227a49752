// tcpcopy's command line. Short flags keep their tcpcopy 1.x meaning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/auth.h"
#include "common/clock.h"
#include "common/ip_address.h"
#include "common/log.h"
#include "common/mac_address.h"
#include "common/process/sched_policy.h"
#include "copy/compare/compare_options.h"
#include "copy/engine/engine_config.h"

namespace tc {

// Link-layer capture and send (libpcap) and offline replay; without them
// tcpcopy captures and sends with raw sockets.
struct LinkOptions {
  std::vector<std::string> capture_interfaces;  // -i: capture with libpcap
  std::string filter;                 // -F; empty: derived from -x
  int buffer_mb = 16;                 // -B: capture ring per interface
  int snaplen = 262144;               // -S: room for GRO-merged packets and their link header
  std::string output_interface;       // -o: send Ethernet frames on it
  std::optional<MacAddress> dst_mac;  // --dst-mac; else from /proc/net/arp
  std::string pcap_file;              // --pcap-file: offline replay
  uint32_t speed = 1;                 // -a
  Duration idle_threshold{0};         // -I; 0: gaps kept
  uint32_t repeat = 1;                // --repeat
};

struct CopyOptions {
  EngineConfig engine;
  LinkOptions link;
  CompareOptions compare;
  std::vector<Endpoint> intercepts;
  size_t connections = 2;            // -C, per intercept
  std::string log_file;              // -l; empty: stderr
  LogLevel log_level = LogLevel::kInfo;
  bool daemon = false;               // -d
  std::string pid_file;              // -P
  Duration stats_interval = 10s;     // 0: only at exit
  std::chrono::microseconds batch_wait{200};  // --batch-wait: wakeup coalescing; 0: off
  SchedPolicy sched_policy = SchedPolicy::kBatch;  // --sched-policy
  std::optional<Endpoint> metrics;   // --metrics: Prometheus endpoint
  bool check = false;                // --check: inspect the host, then exit
  // --reply-interface (architecture 1): capture the target's replies on
  // these interfaces instead of taking them from intercepts (-s).
  std::vector<std::string> reply_interfaces;
  std::string secret_file;           // --secret-file; empty: no authentication
  std::optional<SharedSecret> secret;  // read from secret_file by main, not by the parser
  // Payload bytes of each target reply to get after its headers (from
  // intercept, or kept by the reply capture); 0: headers only. Set by the
  // parser when a comparison is on.
  uint16_t reply_prefix = 0;
};

struct ParseResult {
  enum class Action { kRun, kHelp, kVersion, kError } action = Action::kRun;
  std::string error;  // names the option and the bad value
};

// Pure: reads argv into `out`; never exits, prints or opens anything.
ParseResult parse_copy_options(int argc, char* const argv[], CopyOptions& out);
std::string copy_usage();

}  // namespace tc

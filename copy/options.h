// tcpcopy's command line. Short flags keep their tcpcopy 1.x meaning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/options/option_table.h"
#include "common/options/process_options.h"
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

// The shared options (log, daemon, pid file, secret, metrics, ...) are the
// ProcessOptions part.
struct CopyOptions : ProcessOptions {
  EngineConfig engine;
  LinkOptions link;
  CompareOptions compare;
  std::vector<Endpoint> intercepts;
  size_t connections = 2;            // -C, per intercept (and per worker)
  uint16_t workers = 1;              // --workers: session engines, a thread each
  // --reply-interface (architecture 1): capture the target's replies on
  // these interfaces instead of taking them from intercepts (-s).
  std::vector<std::string> reply_interfaces;
  // Payload bytes of each target reply to get after its headers (from
  // intercept, or kept by the reply capture); 0: headers only. Set by the
  // parser when a comparison is on.
  uint16_t reply_prefix = 0;
};

// Pure: reads argv into `out`; never exits, prints or opens anything.
ParseResult parse_copy_options(int argc, char* const argv[], CopyOptions& out);
std::string copy_usage();

}  // namespace tc

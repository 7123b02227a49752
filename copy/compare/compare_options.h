// The command line's answer-comparison settings (see copy/options.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "copy/compare/exchange_tracker.h"
#include "copy/compare/judge.h"

namespace tc {

// Answer comparison (off unless one of these is given).
struct CompareOptions {
  bool enabled = false;                  // --compare, or any option below
  std::string log_file;                  // --compare-log: exchanges that differ (JSON Lines)
  std::string all_file;                  // --compare-all: every exchange compared
  std::string report_file;               // --compare-report: the HTML page
  compare::ProtocolChoice protocol = compare::ProtocolChoice::kAuto;  // --compare-protocol
  std::vector<std::pair<uint16_t, compare::ProtocolChoice>> protocol_by_port;
  compare::Tolerances tolerances;        // --compare-size-tolerance, --compare-slower
  uint32_t sessions = 16384;             // --compare-sessions: compared at once
};

}  // namespace tc

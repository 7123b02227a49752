// A ReplySink that records what it is given, and can refuse (full buffer).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "intercept/routing/reply_sink.h"

namespace tc::intercept::testing {

class FakeReplySink : public ReplySink {
 public:
  bool deliver(ConnId conn, std::span<const uint8_t> header) override {
    if (full.contains(conn)) return false;
    got.emplace_back(conn, std::vector<uint8_t>(header.begin(), header.end()));
    return true;
  }
  std::vector<std::pair<ConnId, std::vector<uint8_t>>> got;
  std::set<ConnId> full;
};

}  // namespace tc::intercept::testing

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
  // Records the reply as routed: headers and the whole prefix kept.
  bool deliver(ConnId conn, const RoutedReply& reply) override {
    if (full.contains(conn)) return false;
    got.emplace_back(conn, std::vector<uint8_t>(reply.bytes.begin(), reply.bytes.end()));
    header_lens.push_back(reply.header_len);
    return true;
  }
  std::vector<std::pair<ConnId, std::vector<uint8_t>>> got;
  std::vector<size_t> header_lens;  // one per entry of `got`
  std::set<ConnId> full;
};

}  // namespace tc::intercept::testing

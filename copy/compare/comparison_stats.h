// What the comparison found over all exchanges judged so far: counts by
// verdict, the matrix of online status × target status, both sides'
// latency distributions and percentiles, and the differences grouped by
// request label with one example each. Memory is bounded whatever the
// traffic: the status matrix keeps kMaxStatusPairs pairs and the
// differences kMaxGroups labels; anything beyond is counted under "other".
// add() runs on the data path: it never allocates (all storage is
// reserved at construction). The text outputs are for the control plane.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/histogram.h"
#include "copy/compare/exchange.h"
#include "copy/compare/judge.h"
#include "copy/compare/latency_quantiles.h"

namespace tc::compare {

enum class Side : uint8_t { kOnline, kTarget };
inline constexpr std::string_view to_string(Side s) { return s == Side::kOnline ? "online" : "target"; }

inline constexpr size_t kVerdicts = static_cast<size_t>(Verdict::kCount);
using VerdictCounts = std::array<uint64_t, kVerdicts>;

// One cell of the status matrix. An empty status (no answer) is written
// "none".
struct StatusCell {
  Status online;
  Status target;
  uint64_t count = 0;
};

// The exchanges of one request label that did not match. `counts` has one
// entry per verdict (match stays 0); `example` and `example_judgement` are
// the group's first exchange.
struct DifferenceGroup {
  RequestLabel label;
  VerdictCounts counts{};
  ExchangeRecord example;
  Judgement example_judgement;
  uint64_t total() const;
};

class ComparisonStats {
 public:
  static constexpr size_t kMaxStatusPairs = 64;
  static constexpr size_t kMaxGroups = 200;

  ComparisonStats();

  // Counts one judged exchange. Never allocates. A judgement without a
  // valid verdict (Verdict::kCount) is not counted.
  void add(const ExchangeRecord& record, const Judgement& judgement);

  uint64_t compared() const { return compared_; }
  uint64_t count(Verdict v) const { return verdicts_[static_cast<size_t>(v)]; }

  // Latencies of the answers whose time is known (ms >= 0): the fine
  // buckets behind the percentiles, and the Prometheus buckets (seconds).
  const LatencyQuantiles& quantiles(Side s) const { return quantiles_[static_cast<size_t>(s)]; }
  const Histogram& latency(Side s) const { return latency_[static_cast<size_t>(s)]; }
  // p in (0, 1], in milliseconds; -1 when no latency was seen on that side.
  double percentile_ms(Side s, double p) const { return quantiles(s).percentile(p); }

  // The status pairs in the order first seen, and the exchanges whose pair
  // came after the matrix was full.
  std::span<const StatusCell> status_matrix() const { return {cells_.data(), cells_.size()}; }
  uint64_t status_other() const { return cells_other_; }

  // The differences by request label, in the order first seen, and the
  // differences of labels that came after kMaxGroups were taken (its label
  // is empty; its example is the first of them).
  std::span<const DifferenceGroup> groups() const { return {groups_.data(), groups_.size()}; }
  const DifferenceGroup& other_group() const { return other_group_; }

  // One line for the periodic log, e.g.
  // "compared=120 target_silent=0 ... match=100 online_p50/p90/p99=1.20/3.40/5.60ms target_p50/p90/p99=-".
  std::string summary_line() const;

  // Appends the tcpcopy_compare_* families in the Prometheus text format.
  void write_prometheus(std::string& out) const;

 private:
  // Open addressing over indices into cells_ and groups_, sized to stay
  // under half full.
  static constexpr size_t kCellSlots = 128;
  static constexpr size_t kGroupSlots = 512;
  static constexpr uint16_t kEmptySlot = 0xffff;

  void count_status(const Judgement& judgement);
  void count_difference(const ExchangeRecord& record, const Judgement& judgement);

  uint64_t compared_ = 0;
  VerdictCounts verdicts_{};
  std::array<LatencyQuantiles, 2> quantiles_;
  std::array<Histogram, 2> latency_;
  std::vector<StatusCell> cells_;
  std::array<uint16_t, kCellSlots> cell_slots_;
  uint64_t cells_other_ = 0;
  std::vector<DifferenceGroup> groups_;
  std::array<uint16_t, kGroupSlots> group_slots_;
  DifferenceGroup other_group_;
};

// The Prometheus bucket bounds of the latency histograms, in seconds.
std::span<const double> latency_bounds_seconds();

}  // namespace tc::compare

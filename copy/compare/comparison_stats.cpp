#include "copy/compare/comparison_stats.h"

#include <cstdio>
#include <cstring>

#include "common/metrics_text.h"

namespace tc::compare {
namespace {

// 0.1 ms to 10 s, about three buckets a decade.
constexpr double kLatencyBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;

uint64_t fnv(uint64_t h, std::string_view text) {
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

template <size_t N>
bool same(const ShortText<N>& a, const ShortText<N>& b) {
  return a.len == b.len && std::memcmp(a.text.data(), b.text.data(), a.len) == 0;
}

constexpr double kPercentiles[] = {0.5, 0.9, 0.99};

// Milliseconds for the log line: three significant digits or so; "-" for none.
std::string ms_text(double ms) {
  if (ms < 0) return "-";
  char buf[32];
  const int decimals = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  std::snprintf(buf, sizeof buf, "%.*f", decimals, ms);
  return buf;
}

std::string status_label(const Status& s) {
  return s.present() ? prometheus_label_value(s.view()) : std::string("none");
}

}  // namespace

std::span<const double> latency_bounds_seconds() { return kLatencyBounds; }

uint64_t DifferenceGroup::total() const {
  uint64_t sum = 0;
  for (uint64_t c : counts) sum += c;
  return sum;
}

ComparisonStats::ComparisonStats()
    : latency_{Histogram(kLatencyBounds), Histogram(kLatencyBounds)} {
  cells_.reserve(kMaxStatusPairs);
  groups_.reserve(kMaxGroups);
  cell_slots_.fill(kEmptySlot);
  group_slots_.fill(kEmptySlot);
}

void ComparisonStats::add(const ExchangeRecord& record, const Judgement& judgement) {
  const size_t verdict = static_cast<size_t>(judgement.verdict);
  if (verdict >= kVerdicts) return;
  ++compared_;
  ++verdicts_[verdict];
  const Answer* answers[] = {&record.online, &record.target};
  for (size_t side = 0; side < 2; ++side) {
    const double ms = answers[side]->ms;
    if (!(ms >= 0)) continue;
    quantiles_[side].observe(ms);
    latency_[side].observe(ms / 1000);
  }
  count_status(judgement);
  if (judgement.verdict != Verdict::kMatch) count_difference(record, judgement);
}

void ComparisonStats::count_status(const Judgement& judgement) {
  const uint64_t h = fnv(fnv(kFnvBasis, judgement.online_status.view()) ^ 0xff, judgement.target_status.view());
  for (size_t probe = 0; probe < kCellSlots; ++probe) {
    uint16_t& slot = cell_slots_[(h + probe) % kCellSlots];
    if (slot == kEmptySlot) {
      if (cells_.size() == kMaxStatusPairs) break;
      slot = static_cast<uint16_t>(cells_.size());
      cells_.push_back({judgement.online_status, judgement.target_status, 1});
      return;
    }
    StatusCell& cell = cells_[slot];
    if (same(cell.online, judgement.online_status) && same(cell.target, judgement.target_status)) {
      ++cell.count;
      return;
    }
  }
  ++cells_other_;
}

void ComparisonStats::count_difference(const ExchangeRecord& record, const Judgement& judgement) {
  const size_t verdict = static_cast<size_t>(judgement.verdict);
  const uint64_t h = fnv(kFnvBasis, judgement.label.view());
  DifferenceGroup* group = &other_group_;
  for (size_t probe = 0; probe < kGroupSlots; ++probe) {
    uint16_t& slot = group_slots_[(h + probe) % kGroupSlots];
    if (slot == kEmptySlot) {
      if (groups_.size() == kMaxGroups) break;
      slot = static_cast<uint16_t>(groups_.size());
      group = &groups_.emplace_back();
      group->label = judgement.label;
      break;
    }
    if (same(groups_[slot].label, judgement.label)) {
      group = &groups_[slot];
      break;
    }
  }
  if (group->total() == 0) {
    group->example = record;
    group->example_judgement = judgement;
  }
  ++group->counts[verdict];
}

std::string ComparisonStats::summary_line() const {
  std::string line = "compared=" + std::to_string(compared_);
  for (size_t v = 0; v < kVerdicts; ++v) {
    line += ' ';
    line += to_string(static_cast<Verdict>(v));
    line += '=';
    line += std::to_string(verdicts_[v]);
  }
  for (Side side : {Side::kOnline, Side::kTarget}) {
    line += ' ';
    line += to_string(side);
    line += "_p50/p90/p99=";
    if (quantiles(side).count() == 0) {
      line += '-';
      continue;
    }
    for (size_t i = 0; i < std::size(kPercentiles); ++i) {
      if (i > 0) line += '/';
      line += ms_text(percentile_ms(side, kPercentiles[i]));
    }
    line += "ms";
  }
  return line;
}

void ComparisonStats::write_prometheus(std::string& out) const {
  const std::string exchanges = "tcpcopy_compare_exchanges_total";
  out += "# HELP " + exchanges + " Exchanges compared, by verdict\n";
  out += "# TYPE " + exchanges + " counter\n";
  for (size_t v = 0; v < kVerdicts; ++v) {
    out += exchanges + "{verdict=\"";
    out += to_string(static_cast<Verdict>(v));
    out += "\"} " + std::to_string(verdicts_[v]) + '\n';
  }

  const std::string_view latency = "tcpcopy_compare_latency_seconds";
  write_histogram_header(out, latency, "Time from the request's last byte to the answer's first byte, by side");
  for (Side side : {Side::kOnline, Side::kTarget}) {
    const std::string label = "side=\"" + std::string(to_string(side)) + '"';
    this->latency(side).write_samples(out, latency, label);
  }

  const std::string status = "tcpcopy_compare_status_total";
  out += "# HELP " + status +
         " Exchanges compared, by the online and the target answer's status (none: no answer; other: pairs beyond "
         "the first " +
         std::to_string(kMaxStatusPairs) + ")\n";
  out += "# TYPE " + status + " counter\n";
  for (const StatusCell& cell : cells_) {
    out += status + "{online=\"" + status_label(cell.online) + "\",target=\"" + status_label(cell.target) + "\"} " +
           std::to_string(cell.count) + '\n';
  }
  if (cells_other_ > 0)
    out += status + "{online=\"other\",target=\"other\"} " + std::to_string(cells_other_) + '\n';
}

}  // namespace tc::compare

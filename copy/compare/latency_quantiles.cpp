#include "copy/compare/latency_quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tc::compare {

size_t LatencyQuantiles::bucket_of(double ms) {
  if (ms < kLowestMs) return 0;
  // Bucket i >= 1 holds [kLowestMs * r^(i-1), kLowestMs * r^i).
  const double steps = std::log(ms / kLowestMs) / std::log(kRatio);
  if (!(steps < static_cast<double>(kBuckets - 2))) return kBuckets - 1;
  return static_cast<size_t>(steps) + 1;
}

double LatencyQuantiles::upper_bound_ms(size_t i) {
  if (i + 1 >= kBuckets) return std::numeric_limits<double>::infinity();
  return kLowestMs * std::pow(kRatio, static_cast<double>(i));
}

double LatencyQuantiles::middle_ms(size_t i) {
  if (i == 0) return kLowestMs / 2;
  if (i + 1 == kBuckets) return upper_bound_ms(i - 1);  // unbounded: its lower bound
  return kLowestMs * std::pow(kRatio, static_cast<double>(i) - 0.5);
}

void LatencyQuantiles::observe(double ms) {
  if (!(ms >= 0)) return;  // negative or NaN
  ++counts_[bucket_of(ms)];
  if (count_ == 0 || ms < min_) min_ = ms;
  if (count_ == 0 || ms > max_) max_ = ms;
  ++count_;
}

double LatencyQuantiles::percentile(double p) const {
  if (count_ == 0) return -1;
  const double wanted = std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  // The first and the last rank are known exactly.
  if (rank == 1) return min_;
  if (rank >= count_) return max_;
  uint64_t seen = 0;
  size_t i = 0;
  for (; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) break;
  }
  return std::clamp(middle_ms(std::min(i, kBuckets - 1)), min_, max_);
}

}  // namespace tc::compare

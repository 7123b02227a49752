// Latencies counted in fine logarithmic buckets, for percentiles. Each
// bucket is 2% wider than the one below it, from 10 µs to 100 s; a
// percentile is read as the geometric middle of the bucket it falls in,
// clamped to the smallest and largest values seen, so it is within 1% of
// the exact nearest-rank percentile (values below 10 µs or above 100 s
// share the edge buckets and are only bounded by the minimum and maximum).
// The first and the last rank are exact: the minimum and the maximum.
// Fixed size, no allocation: observe() is fit for the data path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tc::compare {

class LatencyQuantiles {
 public:
  static constexpr double kLowestMs = 0.01;  // the first bucket's upper bound
  static constexpr double kRatio = 1.02;     // one bucket's bounds, upper/lower
  // Bucket 0 holds everything below kLowestMs, the last everything at or
  // above kLowestMs * kRatio^(kBuckets - 2) (about 100 s).
  static constexpr size_t kBuckets = 816;

  // Counts `ms`; negative values (unknown) and NaN are ignored.
  void observe(double ms);

  uint64_t count() const { return count_; }
  double min_ms() const { return min_; }  // 0 when empty
  double max_ms() const { return max_; }  // 0 when empty

  // The nearest-rank percentile, `p` in (0, 1]: the smallest value at or
  // above which a share p of the observations lie, as a bucket gives it.
  // -1 when nothing was observed.
  double percentile(double p) const;

  // The buckets, for plotting a distribution.
  uint64_t in_bucket(size_t i) const { return counts_[i]; }
  static double upper_bound_ms(size_t i);  // +infinity for the last

 private:
  static size_t bucket_of(double ms);
  static double middle_ms(size_t i);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace tc::compare

// A histogram of fixed buckets, for latencies and sizes. The bucket bounds
// are set at construction; observe() then only compares and adds, never
// allocates, so it is fit for the data path. Exposition follows Prometheus:
// cumulative `_bucket{le="..."}` samples ending with le="+Inf", then `_sum`
// and `_count`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tc {

class Histogram {
 public:
  static constexpr size_t kMaxBounds = 32;

  // `bounds`: finite upper bounds, strictly increasing, at most kMaxBounds.
  // Throws std::invalid_argument otherwise (a start-up error).
  explicit Histogram(std::span<const double> bounds);

  // Counts `value` in the first bucket whose bound is >= it, or in +Inf.
  // NaN is ignored: it has no bucket and would poison the sum.
  void observe(double value);
  // Adds `other`'s observations (tcpcopy's workers summed); its bounds
  // must be these (else nothing is added and false is returned).
  bool merge(const Histogram& other);

  size_t bounds() const { return size_; }
  double bound(size_t i) const { return bounds_[i]; }
  // Observations in bucket i alone (not cumulative); i == bounds() is +Inf.
  uint64_t in_bucket(size_t i) const { return counts_[i]; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

  // Appends the HELP and TYPE lines and every sample of the family `name`
  // (already a valid metric name, no suffix) to `out`.
  void write_text(std::string& out, std::string_view name, std::string_view help) const;
  // Appends the samples alone, each carrying `labels` (written out, without
  // braces, e.g. `side="online"`; empty for none) before `le`. Several
  // histograms told apart by a label share one family: write the HELP and
  // TYPE once (write_histogram_header), then each one's samples.
  void write_samples(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<double, kMaxBounds> bounds_{};
  std::array<uint64_t, kMaxBounds + 1> counts_{};
  size_t size_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// The HELP and TYPE lines of the histogram family `name`.
void write_histogram_header(std::string& out, std::string_view name, std::string_view help);

// A number as Prometheus writes it: shortest round-trip form, "+Inf",
// "-Inf" and "NaN".
std::string prometheus_number(double v);

}  // namespace tc

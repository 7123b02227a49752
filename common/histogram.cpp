#include "common/histogram.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tc {

Histogram::Histogram(std::span<const double> bounds) {
  if (bounds.size() > kMaxBounds) throw std::invalid_argument("histogram: too many buckets");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) throw std::invalid_argument("histogram: bucket bounds must be finite");
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      throw std::invalid_argument("histogram: bucket bounds must increase");
    bounds_[i] = bounds[i];
  }
  size_ = bounds.size();
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  const double* begin = bounds_.data();
  const size_t i = static_cast<size_t>(std::lower_bound(begin, begin + size_, value) - begin);
  ++counts_[i];
  ++count_;
  sum_ += value;
}

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

void Histogram::write_text(std::string& out, std::string_view name, std::string_view help) const {
  const std::string n(name);
  out += "# HELP " + n + ' ';
  out += help;
  out += "\n# TYPE " + n + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= size_; ++i) {
    cumulative += counts_[i];
    const std::string le = i < size_ ? prometheus_number(bounds_[i]) : "+Inf";
    out += n + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + '\n';
  }
  out += n + "_sum " + prometheus_number(sum_) + '\n';
  out += n + "_count " + std::to_string(count_) + '\n';
}

}  // namespace tc

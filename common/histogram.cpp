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

bool Histogram::merge(const Histogram& other) {
  if (other.size_ != size_ || other.bounds_ != bounds_) return false;
  for (size_t i = 0; i <= size_; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  return true;
}

void write_histogram_header(std::string& out, std::string_view name, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " histogram\n";
}

void Histogram::write_text(std::string& out, std::string_view name, std::string_view help) const {
  write_histogram_header(out, name, help);
  write_samples(out, name, "");
}

void Histogram::write_samples(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string n(name);
  const std::string own = labels.empty() ? std::string() : std::string(labels) + ',';
  const std::string alone = labels.empty() ? std::string() : '{' + std::string(labels) + '}';
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= size_; ++i) {
    cumulative += counts_[i];
    const std::string le = i < size_ ? prometheus_number(bounds_[i]) : "+Inf";
    out += n + "_bucket{" + own + "le=\"" + le + "\"} " + std::to_string(cumulative) + '\n';
  }
  out += n + "_sum" + alone + ' ' + prometheus_number(sum_) + '\n';
  out += n + "_count" + alone + ' ' + std::to_string(count_) + '\n';
}

}  // namespace tc

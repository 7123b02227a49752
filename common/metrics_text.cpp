#include "common/metrics_text.h"

namespace tc {

std::string prometheus_name(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    out += ok ? c : '_';
  }
  if (out.empty() || (out.front() >= '0' && out.front() <= '9')) out.insert(out.begin(), '_');
  return out;
}

std::string prometheus_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PrometheusText::counter(std::string_view name, std::string_view reason, uint64_t value) {
  add(name, reason, value, false);
}

void PrometheusText::gauge(std::string_view name, std::string_view reason, uint64_t value) {
  add(name, reason, value, true);
}

void PrometheusText::add(std::string_view name, std::string_view reason, uint64_t value, bool gauge) {
  std::string full = prometheus_name(prefix_.empty() ? std::string(name) : prefix_ + "_" + std::string(name));
  // A handful of families: a linear search keeps the first-seen order.
  for (Family& f : families_) {
    if (f.name != full) continue;
    // A series reported twice is summed: Prometheus rejects a scrape that
    // repeats one.
    for (Sample& sample : f.samples) {
      if (sample.reason == reason) {
        sample.value += value;
        return;
      }
    }
    f.samples.push_back({std::string(reason), value});
    return;
  }
  families_.push_back({std::move(full), gauge, {{std::string(reason), value}}});
}

std::string PrometheusText::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# TYPE ";
    out += f.name;
    out += f.gauge ? " gauge\n" : " counter\n";
    for (const Sample& s : f.samples) {
      out += f.name;
      if (!s.reason.empty()) {
        out += "{reason=\"";
        out += prometheus_label_value(s.reason);
        out += "\"}";
      }
      out += ' ';
      out += std::to_string(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace tc

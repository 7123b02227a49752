#include "common/metrics_text.h"

#include "common/histogram.h"

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

void PrometheusText::help(std::string_view name, std::string_view text) {
  for (const auto& h : help_)
    if (h.first == name) return;
  help_.emplace_back(std::string(name), std::string(text));
}

PrometheusText::Family& PrometheusText::family(std::string_view name, bool gauge, bool prefixed) {
  std::string full(name);
  if (prefixed && !prefix_.empty()) full = prefix_ + "_" + full;
  if (!gauge) full += "_total";
  full = prometheus_name(full);
  // A handful of families: a linear search keeps the first-seen order.
  for (Family& f : families_)
    if (f.name == full) return f;
  std::string text;
  for (const auto& h : help_)
    if (h.first == name) text = h.second;
  // Every family needs HELP; a component that gave none gets its name.
  if (text.empty()) {
    text = std::string(name);
    for (char& c : text)
      if (c == '_') c = ' ';
  }
  families_.push_back({std::move(full), gauge, std::move(text), {}});
  return families_.back();
}

void PrometheusText::add(std::string_view name, std::string_view reason, uint64_t value, bool gauge) {
  Family& f = family(name, gauge, true);
  std::string labels;
  if (!reason.empty()) labels = "reason=\"" + prometheus_label_value(reason) + "\"";
  // A series reported twice is summed: Prometheus rejects a scrape that
  // repeats one.
  for (Sample& sample : f.samples) {
    if (sample.labels == labels) {
      sample.count += value;
      sample.value = std::to_string(sample.count);
      return;
    }
  }
  f.samples.push_back({std::move(labels), std::to_string(value), value});
}

void PrometheusText::labelled_gauge(std::string_view name, std::string_view labels, std::string_view help,
                                    uint64_t value) {
  this->help(name, help);
  Family& f = family(name, true, true);
  f.samples.push_back({std::string(labels), std::to_string(value), value});
}

void PrometheusText::real(std::string_view name, bool gauge, std::string_view help, double value, bool prefixed) {
  this->help(name, help);
  Family& f = family(name, gauge, prefixed);
  f.samples.push_back({"", prometheus_number(value), 0});
}

std::string PrometheusText::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += prometheus_help(f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += f.gauge ? " gauge\n" : " counter\n";
    for (const Sample& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        out += s.labels;
        out += '}';
      }
      out += ' ';
      out += s.value;
      out += '\n';
    }
  }
  return out;
}

std::string prometheus_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace tc

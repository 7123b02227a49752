#include "common/doctor/report.h"

#include <algorithm>

namespace tc::doctor {

void Report::add(Severity s, std::string check, std::string detail, std::string fix) {
  findings_.push_back({s, std::move(check), std::move(detail), std::move(fix)});
}
void Report::ok(std::string check, std::string detail) { add(Severity::kOk, std::move(check), std::move(detail), {}); }
void Report::info(std::string check, std::string detail, std::string fix) {
  add(Severity::kInfo, std::move(check), std::move(detail), std::move(fix));
}
void Report::warn(std::string check, std::string detail, std::string fix) {
  add(Severity::kWarn, std::move(check), std::move(detail), std::move(fix));
}
void Report::problem(std::string check, std::string detail, std::string fix) {
  add(Severity::kProblem, std::move(check), std::move(detail), std::move(fix));
}

size_t Report::count(Severity s) const {
  return static_cast<size_t>(
      std::count_if(findings_.begin(), findings_.end(), [s](const Finding& f) { return f.severity == s; }));
}

std::string Report::text(std::string_view program) const {
  std::string out;
  for (const Finding& f : findings_) {
    switch (f.severity) {
      case Severity::kOk: out += "[ ok ] "; break;
      case Severity::kInfo: out += "[info] "; break;
      case Severity::kWarn: out += "[warn] "; break;
      case Severity::kProblem: out += "[FAIL] "; break;
    }
    out += f.check + ": " + f.detail + "\n";
    if (!f.fix.empty()) out += "       fix: " + f.fix + "\n";
  }
  const size_t problems = count(Severity::kProblem), warnings = count(Severity::kWarn);
  out += std::string(program) + " --check: ";
  out += problems == 0 ? std::string("ready") : std::to_string(problems) + (problems == 1 ? " problem" : " problems");
  if (warnings > 0) out += ", " + std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
  out += "\n";
  return out;
}

}  // namespace tc::doctor

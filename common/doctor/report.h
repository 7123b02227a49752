// The deployment doctor's findings and the report both programs print:
// each finding says what is wrong and how to fix it; the exit status is 1
// when any finding is a problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tc::doctor {

enum class Severity : uint8_t { kOk, kInfo, kWarn, kProblem };

struct Finding {
  Severity severity = Severity::kOk;
  std::string check;   // what was looked at: "privileges", "intercept 10.0.0.2:36524"
  std::string detail;  // what was found
  std::string fix;     // what to do; empty for ok and info
};

class Report {
 public:
  void ok(std::string check, std::string detail);
  void info(std::string check, std::string detail, std::string fix = {});
  void warn(std::string check, std::string detail, std::string fix);
  void problem(std::string check, std::string detail, std::string fix);

  const std::vector<Finding>& findings() const { return findings_; }
  size_t count(Severity s) const;
  // 0: ready, 1: problems found.
  int exit_status() const { return count(Severity::kProblem) > 0 ? 1 : 0; }
  // Every finding, then a summary line naming the program.
  std::string text(std::string_view program) const;

 private:
  void add(Severity s, std::string check, std::string detail, std::string fix);
  std::vector<Finding> findings_;
};

}  // namespace tc::doctor

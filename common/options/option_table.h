// One table per program: each option declared once (short letter, long
// name, value, help text). The getopt arrays, the --help lines and the
// option names in error messages all come from it, so they cannot drift.
#pragma once

#include <getopt.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tc {

enum class OptionArg : uint8_t { kNone, kRequired, kOptional };

// Codes of long-only options start here; below are the short letters.
inline constexpr int kLongOnlyCode = 1000;

struct OptionSpec {
  int code = 0;                    // short letter or >= kLongOnlyCode; 0: a heading
  const char* long_name = nullptr;
  OptionArg arg = OptionArg::kNone;
  const char* value = "";          // "PORT"; for an optional value "[=S]"
  const char* help = "";           // lines separated by '\n'; a heading's text
};

inline OptionSpec option_heading(const char* text) { return OptionSpec{0, nullptr, OptionArg::kNone, "", text}; }

struct ParseResult {
  enum class Action { kRun, kHelp, kVersion, kError } action = Action::kRun;
  std::string error;  // names the option and the bad value
};

class OptionTable {
 public:
  // Throws std::logic_error on a code or a long name given twice.
  explicit OptionTable(std::vector<OptionSpec> specs);

  const char* short_options() const { return short_.c_str(); }
  const option* long_options() const { return long_.data(); }

  // How messages name an option: "-p/--port", "--metrics".
  std::string name(int code) const;
  // "invalid value 'V' for -p/--port: why"
  std::string bad_value(int code, std::string_view value, std::string_view why) const;
  // The option lines of --help, text aligned in one column.
  std::string help() const;

  // Walks argv with getopt_long; `apply` gets each option's code and value
  // (null for a flag or an absent optional value) and returns an error or
  // "". 'h' ends the walk with kHelp, 'v' with kVersion. Never prints.
  using Apply = std::function<std::string(int code, const char* value)>;
  ParseResult parse(int argc, char* const argv[], const Apply& apply) const;

 private:
  const OptionSpec* find(int code) const;

  std::vector<OptionSpec> specs_;
  std::string short_;
  std::vector<option> long_;
};

}  // namespace tc

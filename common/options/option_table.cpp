#include "common/options/option_table.h"

#include <set>
#include <stdexcept>

namespace tc {

namespace {

constexpr size_t kHelpColumn = 29;

}  // namespace

OptionTable::OptionTable(std::vector<OptionSpec> specs) : specs_(std::move(specs)) {
  std::set<int> codes;
  std::set<std::string_view> names;
  short_ = ":";  // a missing value reads as ':', not '?'
  for (const OptionSpec& s : specs_) {
    if (s.code == 0) continue;
    if (!codes.insert(s.code).second) throw std::logic_error("option code given twice");
    if (s.code < kLongOnlyCode) {
      short_ += static_cast<char>(s.code);
      if (s.arg == OptionArg::kRequired) short_ += ":";
      if (s.arg == OptionArg::kOptional) short_ += "::";
    }
    if (s.long_name == nullptr) continue;
    if (!names.insert(s.long_name).second)
      throw std::logic_error(std::string("option --") + s.long_name + " given twice");
    const int has_arg = s.arg == OptionArg::kNone       ? no_argument
                        : s.arg == OptionArg::kRequired ? required_argument
                                                        : optional_argument;
    long_.push_back(option{s.long_name, has_arg, nullptr, s.code});
  }
  long_.push_back(option{nullptr, 0, nullptr, 0});
}

const OptionSpec* OptionTable::find(int code) const {
  for (const OptionSpec& s : specs_)
    if (s.code == code && code != 0) return &s;
  return nullptr;
}

std::string OptionTable::name(int code) const {
  const OptionSpec* s = find(code);
  std::string out;
  if (code > 0 && code < kLongOnlyCode) out = std::string("-") + static_cast<char>(code);
  if (s && s->long_name) out += (out.empty() ? "--" : "/--") + std::string(s->long_name);
  return out;
}

std::string OptionTable::bad_value(int code, std::string_view value, std::string_view why) const {
  return "invalid value '" + std::string(value) + "' for " + name(code) + ": " + std::string(why);
}

std::string OptionTable::help() const {
  std::string out;
  for (const OptionSpec& s : specs_) {
    if (s.code == 0) {
      if (!out.empty()) out += "\n";
      out += std::string(s.help) + "\n";
      continue;
    }
    std::string left = "  ";
    left += s.code < kLongOnlyCode ? std::string("-") + static_cast<char>(s.code) + ", " : std::string("    ");
    if (s.long_name) left += std::string("--") + s.long_name;
    if (*s.value) left += (s.arg == OptionArg::kOptional ? "" : " ") + std::string(s.value);
    std::string_view text(s.help);
    bool first = true;
    if (left.size() + 1 > kHelpColumn) {
      out += left + "\n";
      first = false;
    }
    while (true) {
      const size_t nl = text.find('\n');
      std::string line = first ? left : std::string();
      line.resize(kHelpColumn, ' ');
      out += line + std::string(text.substr(0, nl)) + "\n";
      first = false;
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  }
  return out;
}

ParseResult OptionTable::parse(int argc, char* const argv[], const Apply& apply) const {
  ParseResult r;
  auto fail = [&r](std::string msg) {
    r.action = ParseResult::Action::kError;
    r.error = std::move(msg);
    return r;
  };
  // No words at all (argc 0, as execve allows): nothing to walk, and getopt
  // must not see a null argv.
  if (argc <= 0 || argv == nullptr) return r;
  // getopt keeps its state in globals; optind = 0 makes glibc start afresh
  // so a parser can run more than once (tests do).
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, short_.c_str(), long_.data(), nullptr)) != -1) {
    if (c == ':') return fail("option " + name(optopt) + " needs a value");
    if (c == '?') {
      // The offending word is the last one getopt consumed. optopt names a
      // long option given a value it does not take, or an unknown short
      // flag; for an unknown long option it is 0.
      const std::string_view word = argv[optind - 1];
      if (optopt != 0 && word.starts_with("--")) return fail("option " + name(optopt) + " takes no value");
      if (optopt > 0 && optopt < kLongOnlyCode)
        return fail(std::string("unknown option -") + static_cast<char>(optopt));
      return fail("unknown option " + std::string(word));
    }
    if (c == 'h' && find('h')) {
      r.action = ParseResult::Action::kHelp;
      return r;
    }
    if (c == 'v' && find('v')) {
      r.action = ParseResult::Action::kVersion;
      return r;
    }
    if (std::string err = apply(c, optarg); !err.empty()) return fail(err);
  }
  if (optind < argc) return fail(std::string("unexpected argument '") + argv[optind] + "'");
  return r;
}

}  // namespace tc

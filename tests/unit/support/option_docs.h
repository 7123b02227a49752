// Test helper: the long option names a --help text lists, and whether a
// man page and the options reference (docs/options.md) document each of
// them.
#pragma once

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tc::test_support {

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(TCPCOPY_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Option lines look like "  -x, --transfer LIST" or "      --no-hold": one
// or more spaces, an optional "-c, ", then the long name.
inline std::set<std::string> long_options_in_usage(const std::string& help) {
  std::set<std::string> names;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    std::size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    if (i == 0) continue;
    if (i + 4 <= line.size() && line[i] == '-' && std::isalpha(static_cast<unsigned char>(line[i + 1])) &&
        line[i + 2] == ',' && line[i + 3] == ' ')
      i += 4;
    if (line.compare(i, 2, "--") != 0) continue;
    std::size_t end = i + 2;
    while (end < line.size() && (std::islower(static_cast<unsigned char>(line[end])) || line[end] == '-')) ++end;
    while (end > i + 2 && line[end - 1] == '-') --end;
    if (end > i + 2) names.insert(line.substr(i, end - i));
  }
  return names;
}

// roff writes a literal hyphen as "\-".
inline std::string roff_escaped(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '-') out += '\\';
    out += c;
  }
  return out;
}

// The reference's tables write an option as `--name or as `-x, --name`.
inline bool docs_mention(const std::string& docs, const std::string& name) {
  return docs.find("`" + name) != std::string::npos || docs.find(", " + name) != std::string::npos;
}

}  // namespace tc::test_support

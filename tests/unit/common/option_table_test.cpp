#include "common/options/option_table.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tc {
namespace {

enum : int { kLevel = kLongOnlyCode, kCheck };

OptionTable sample() {
  return OptionTable({
      option_heading("Running:"),
      {'p', "port", OptionArg::kRequired, "PORT", "control port (default 36524)"},
      {'d', "daemon", OptionArg::kNone, "", "run in the background"},
      {'g', "gradually", OptionArg::kOptional, "[=S]", "ramp up over S seconds\n(default 60)"},
      {kLevel, "log-level", OptionArg::kRequired, "LEVEL", "debug, info, warn or error"},
      {kCheck, "check-with-a-very-long-name", OptionArg::kRequired, "ADDR[/LEN][,..]", "a long one"},
      {'h', "help", OptionArg::kNone, "", "this text"},
      {'v', "version", OptionArg::kNone, "", "print the version"},
  });
}

struct Seen {
  std::vector<std::pair<int, std::string>> options;
  OptionTable::Apply apply() {
    return [this](int code, const char* value) {
      options.emplace_back(code, value ? value : "<none>");
      return std::string();
    };
  }
};

ParseResult run(const OptionTable& t, std::vector<std::string> args, Seen& seen) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return t.parse(static_cast<int>(args.size()), argv.data(), seen.apply());
}

TEST(OptionTable, GeneratesTheGetoptArrays) {
  const OptionTable t = sample();
  EXPECT_STREQ(t.short_options(), ":p:dg::hv");
  std::vector<std::string> names;
  for (const option* o = t.long_options(); o->name; ++o) names.emplace_back(o->name);
  EXPECT_EQ(names, (std::vector<std::string>{"port", "daemon", "gradually", "log-level", "check-with-a-very-long-name",
                                             "help", "version"}));
  EXPECT_EQ(t.long_options()[0].has_arg, required_argument);
  EXPECT_EQ(t.long_options()[1].has_arg, no_argument);
  EXPECT_EQ(t.long_options()[2].has_arg, optional_argument);
  EXPECT_EQ(t.long_options()[3].val, kLevel);
}

TEST(OptionTable, RefusesAnOptionDeclaredTwice) {
  EXPECT_THROW(OptionTable({{'p', "port"}, {'p', "other"}}), std::logic_error);
  EXPECT_THROW(OptionTable({{'p', "port"}, {'q', "port"}}), std::logic_error);
}

TEST(OptionTable, NamesOptionsInErrors) {
  const OptionTable t = sample();
  EXPECT_EQ(t.name('p'), "-p/--port");
  EXPECT_EQ(t.name(kLevel), "--log-level");
  EXPECT_EQ(t.bad_value('p', "0", "expected 1-65535"), "invalid value '0' for -p/--port: expected 1-65535");
}

TEST(OptionTable, HelpListsEveryOptionWithItsText) {
  const std::string help = sample().help();
  EXPECT_EQ(help,
            "Running:\n"
            "  -p, --port PORT            control port (default 36524)\n"
            "  -d, --daemon               run in the background\n"
            "  -g, --gradually[=S]        ramp up over S seconds\n"
            "                             (default 60)\n"
            "      --log-level LEVEL      debug, info, warn or error\n"
            "      --check-with-a-very-long-name ADDR[/LEN][,..]\n"
            "                             a long one\n"
            "  -h, --help                 this text\n"
            "  -v, --version              print the version\n");
}

TEST(OptionTable, ValuesFlagsAndOptionalValues) {
  Seen seen;
  const ParseResult r = run(sample(), {"-p", "80", "--daemon", "-g", "--gradually=5", "--log-level=debug"}, seen);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(seen.options, (std::vector<std::pair<int, std::string>>{
                              {'p', "80"}, {'d', "<none>"}, {'g', "<none>"}, {'g', "5"}, {kLevel, "debug"}}));
}

TEST(OptionTable, MissingValueUnknownOptionAndStrayArgument) {
  const OptionTable t = sample();
  Seen seen;
  ParseResult r = run(t, {"-p"}, seen);
  EXPECT_EQ(r.action, ParseResult::Action::kError);
  EXPECT_EQ(r.error, "option -p/--port needs a value");
  r = run(t, {"--log-level"}, seen);
  EXPECT_EQ(r.error, "option --log-level needs a value");
  r = run(t, {"-Z"}, seen);
  EXPECT_EQ(r.error, "unknown option -Z");
  r = run(t, {"--nope"}, seen);
  EXPECT_EQ(r.error, "unknown option --nope");
  r = run(t, {"--daemon=yes"}, seen);
  EXPECT_EQ(r.error, "option -d/--daemon takes no value");
  r = run(t, {"-d", "stray"}, seen);
  EXPECT_EQ(r.error, "unexpected argument 'stray'");
}

TEST(OptionTable, TheApplyErrorEndsTheWalk) {
  Seen seen;
  const ParseResult r = sample().parse(0, nullptr, seen.apply());
  EXPECT_EQ(r.action, ParseResult::Action::kRun);
  std::vector<std::string> args{"prog", "-p", "x", "-d"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const OptionTable t = sample();
  int calls = 0;
  const ParseResult bad = t.parse(4, argv.data(), [&](int code, const char* value) {
    ++calls;
    return t.bad_value(code, value, "expected a port");
  });
  EXPECT_EQ(bad.action, ParseResult::Action::kError);
  EXPECT_EQ(bad.error, "invalid value 'x' for -p/--port: expected a port");
  EXPECT_EQ(calls, 1);
}

TEST(OptionTable, HelpAndVersionEndTheWalk) {
  Seen seen;
  EXPECT_EQ(run(sample(), {"-d", "--help", "--nope"}, seen).action, ParseResult::Action::kHelp);
  EXPECT_EQ(run(sample(), {"-v"}, seen).action, ParseResult::Action::kVersion);
}

}  // namespace
}  // namespace tc

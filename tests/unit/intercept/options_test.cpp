#include "intercept/options.h"

#include <gtest/gtest.h>

#include "support/option_docs.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tc::intercept {
namespace {

// getopt permutes argv, so every call gets its own mutable copy.
ParseResult parse_result(std::vector<std::string> args, Options& out) {
  args.insert(args.begin(), "intercept");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(args.size()), argv.data(), out);
}

// The error, or "" when the command line is taken.
std::string parse(std::vector<std::string> args, Options& out) { return parse_result(std::move(args), out).error; }

TEST(Options, DefaultsMatchTheDocumentedOnes) {
  Options o;
  ASSERT_EQ(parse({}, o), "");
  EXPECT_EQ(o.mode, Mode::kNfqueue);
  EXPECT_EQ(o.port, 36524);
  EXPECT_EQ(o.queue_num, 0);
  EXPECT_EQ(o.hash_size, 65536u);
  EXPECT_EQ(o.route_timeout_s, 120u);
  EXPECT_EQ(o.stats_interval, std::chrono::seconds(10));
  EXPECT_EQ(o.batch_wait, std::chrono::microseconds(200));
  EXPECT_EQ(o.sched_policy, SchedPolicy::kBatch);
  EXPECT_TRUE(o.passlist.empty());
  EXPECT_TRUE(o.bind.empty());
  EXPECT_FALSE(o.daemon);
}

TEST(Options, ShortFlagsOfVersionOneStillWork) {
  Options o;
  ASSERT_EQ(parse({"-x", "10.0.0.1,10.0.0.2", "-p", "36525", "-b", "192.168.1.5", "-q", "8192", "-s", "1000",
                   "-t", "30", "-l", "/tmp/i.log", "-d", "-P", "/tmp/i.pid"},
                  o),
            "");
  ASSERT_EQ(o.passlist.size(), 2u);
  EXPECT_EQ(o.passlist[1], *IpAddress::parse("10.0.0.2"));
  EXPECT_EQ(o.port, 36525);
  ASSERT_EQ(o.bind.size(), 1u);
  EXPECT_EQ(o.bind[0], *IpAddress::parse("192.168.1.5"));
  EXPECT_EQ(o.queue_maxlen, 8192u);
  EXPECT_EQ(o.hash_size, 1000u);
  EXPECT_EQ(o.route_timeout_s, 30u);
  EXPECT_EQ(o.log_file, "/tmp/i.log");
  EXPECT_TRUE(o.daemon);
  EXPECT_EQ(o.pid_file, "/tmp/i.pid");
}

TEST(Options, LongNames) {
  Options o;
  ASSERT_EQ(parse({"--mode=nfqueue", "--passlist", "2001:db8::1", "--port=1", "--bind", "0.0.0.0,::",
                   "--queue-num", "65535", "--queue-maxlen", "1", "--hash-size", "7", "--route-timeout", "86400",
                   "--log", "-", "--log-level", "debug", "--daemon", "--pid-file", "p", "--stats-interval", "0"},
                  o),
            "");
  EXPECT_EQ(o.passlist.at(0), *IpAddress::parse("2001:db8::1"));
  EXPECT_EQ(o.port, 1);
  EXPECT_EQ(o.bind.size(), 2u);
  EXPECT_EQ(o.queue_num, 65535);
  EXPECT_EQ(o.queue_maxlen, 1u);
  EXPECT_EQ(o.route_timeout_s, 86400u);
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_EQ(o.stats_interval, std::chrono::seconds(0));
}

TEST(Options, RepeatedPasslistAccumulates) {
  Options o;
  ASSERT_EQ(parse({"-x", "1.1.1.1", "-x", "2.2.2.2"}, o), "");
  EXPECT_EQ(o.passlist.size(), 2u);
}

TEST(Options, HelpAndVersion) {
  Options o;
  EXPECT_EQ(parse_result({"-h"}, o).action, ParseResult::Action::kHelp);
  EXPECT_EQ(parse_result({"--version"}, o).action, ParseResult::Action::kVersion);
  EXPECT_EQ(parse_result({}, o).action, ParseResult::Action::kRun);
  EXPECT_EQ(parse_result({"--nope"}, o).action, ParseResult::Action::kError);
}

TEST(Options, MetricsAndCheck) {
  Options o;
  ASSERT_EQ(parse({}, o), "");
  EXPECT_FALSE(o.metrics);
  EXPECT_FALSE(o.check);
  ASSERT_EQ(parse({"--metrics", "127.0.0.1:9102", "--check", "--check-client", "10.0.0.5,2001:db8::5",
                   "--check-client", "10.0.0.6", "--check-port", "80,443"},
                  o),
            "");
  ASSERT_TRUE(o.metrics);
  EXPECT_EQ(o.metrics->to_string(), "127.0.0.1:9102");
  EXPECT_TRUE(o.check);
  ASSERT_EQ(o.check_clients.size(), 3u);
  EXPECT_EQ(o.check_clients[1].to_string(), "2001:db8::5");
  EXPECT_EQ(o.check_ports, (std::vector<uint16_t>{80, 443}));
  ASSERT_EQ(parse({"--metrics=[::1]:9102"}, o), "");
  EXPECT_EQ(o.metrics->to_string(), "[::1]:9102");
}

TEST(Options, HelpListsEveryLongOption) {
  const std::string help = usage_text("intercept");
  for (const char* name : {"--mode", "--passlist", "--port", "--bind", "--queue-num", "--queue-maxlen", "--hash-size",
                           "--route-timeout", "--log", "--log-level", "--daemon", "--pid-file", "--stats-interval",
                           "--batch-wait", "--sched-policy", "--metrics", "--check", "--check-port", "--check-client", "--interface", "--filter",
                           "--target-ports", "--buffer-size", "--snaplen", "--help", "--version", "assistant"})
    EXPECT_NE(help.find(name), std::string::npos) << name;
}

// The man page and the options reference (docs/options.md) describe every
// option --help lists: in roff as \-\-name, in the reference's tables as
// `--name or `-x, --name.
TEST(Options, ManPageAndDocsListEveryOption) {
  const std::string man = test_support::read_source_file("packaging/intercept.8");
  const std::string docs = test_support::read_source_file("docs/options.md");
  ASSERT_FALSE(man.empty());
  ASSERT_FALSE(docs.empty());
  const std::string help = usage_text("intercept");
  const std::set<std::string> names = test_support::long_options_in_usage(help);
  EXPECT_GT(names.size(), 15u);
  for (const std::string& name : names) {
    EXPECT_NE(man.find(test_support::roff_escaped(name)), std::string::npos) << name << " is not in packaging/intercept.8";
    if (name == "--help" || name == "--version") continue;
    EXPECT_TRUE(test_support::docs_mention(docs, name)) << name << " is not in docs/options.md";
  }
}

TEST(Options, AssistantMode) {
  Options o;
  ASSERT_EQ(parse({"--mode=assistant", "-i", "eth1,eth2", "--target-ports", "80,6379", "-B", "32", "-S", "128"}, o),
            "");
  EXPECT_EQ(o.mode, Mode::kAssistant);
  EXPECT_EQ(o.interfaces, (std::vector<std::string>{"eth1", "eth2"}));
  EXPECT_EQ(o.target_ports, (std::vector<uint16_t>{80, 6379}));
  EXPECT_EQ(o.buffer_mb, 32u);
  EXPECT_EQ(o.snaplen, 128u);
  EXPECT_TRUE(o.filter.empty());
  ASSERT_EQ(parse({"--mode", "assistant", "--interface=eth1", "--filter", "tcp src port 8080"}, o), "");
  EXPECT_EQ(o.filter, "tcp src port 8080");
  EXPECT_EQ(o.snaplen, 576u);  // defaults again
}

TEST(Options, ModeSpecificOptionsAreRefusedInTheOtherMode) {
  Options o;
  EXPECT_NE(parse({"--mode=assistant"}, o).find("needs -i/--interface"), std::string::npos);
  EXPECT_NE(parse({"--mode=assistant", "-i", "eth1", "--queue-num", "3"}, o).find("only apply to --mode nfqueue"),
            std::string::npos);
  EXPECT_NE(parse({"--mode=assistant", "-i", "eth1", "-x", "10.0.0.1"}, o).find("--passlist only applies"),
            std::string::npos);
  EXPECT_NE(parse({"-i", "eth1"}, o).find("only apply to --mode assistant"), std::string::npos);
  EXPECT_NE(parse({"--target-ports", "80"}, o).find("only apply to --mode assistant"), std::string::npos);
  // Help needs no valid combination.
  EXPECT_EQ(parse({"--mode=assistant", "-h"}, o), "");
}

struct BadCase {
  std::vector<std::string> args;
  std::string must_mention_option;
  std::string must_mention_value;
};

class BadOptions : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadOptions, ErrorNamesOptionAndValue) {
  Options o;
  const std::string err = parse(GetParam().args, o);
  ASSERT_FALSE(err.empty());
  EXPECT_NE(err.find(GetParam().must_mention_option), std::string::npos) << err;
  EXPECT_NE(err.find(GetParam().must_mention_value), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Values, BadOptions,
    ::testing::Values(BadCase{{"--mode", "pcap"}, "--mode", "'pcap'"},
                      BadCase{{"--mode=assistant", "-i", "eth1,eth1"}, "-i/--interface", "'eth1,eth1'"},
                      BadCase{{"--mode=assistant", "-i", "a-name-that-is-too-long"}, "-i/--interface", "'a-name"},
                      BadCase{{"--mode=assistant", "-i", "eth1", "-F", "src port"}, "-F/--filter", "'src port'"},
                      BadCase{{"--mode=assistant", "-i", "eth1", "--target-ports", "80,0"}, "--target-ports",
                              "'80,0'"},
                      BadCase{{"--mode=assistant", "-i", "eth1", "-S", "10"}, "-S/--snaplen", "'10'"},
                      BadCase{{"--mode=assistant", "-i", "eth1", "-B", "0"}, "-B/--buffer-size", "'0'"},
                      BadCase{{"-p", "0"}, "--port", "'0'"},
                      BadCase{{"-p", "65536"}, "--port", "'65536'"},
                      BadCase{{"--port=80x"}, "--port", "'80x'"},
                      BadCase{{"-p", "-1"}, "--port", "'-1'"},
                      BadCase{{"-p", "+5"}, "--port", "'+5'"},
                      BadCase{{"-x", "10.0.0.1,nope"}, "--passlist", "'10.0.0.1,nope'"},
                      BadCase{{"-x", "10.0.0.1,"}, "--passlist", "'10.0.0.1,'"},
                      BadCase{{"-b", "300.1.1.1"}, "--bind", "'300.1.1.1'"},
                      BadCase{{"--queue-num", "70000"}, "--queue-num", "'70000'"},
                      BadCase{{"-q", "0"}, "--queue-maxlen", "'0'"},
                      BadCase{{"-s", "abc"}, "--hash-size", "'abc'"},
                      BadCase{{"-t", "0"}, "--route-timeout", "'0'"},
                      BadCase{{"-t", "99999999999999999999999"}, "--route-timeout", "'99999999999999999999999'"},
                      BadCase{{"--log-level", "loud"}, "--log-level", "'loud'"},
                      BadCase{{"--stats-interval", "1.5"}, "--stats-interval", "'1.5'"},
                      BadCase{{"-l", ""}, "--log", "''"},
                      BadCase{{"-p"}, "--port", "needs a value"},
                      BadCase{{"--bind"}, "--bind", "needs a value"},
                      BadCase{{"--nope"}, "unknown option", "--nope"},
                      BadCase{{"-Z"}, "unknown option", "-Z"},
                      BadCase{{"stray"}, "unexpected argument", "'stray'"},
                      BadCase{{"--metrics", "9102"}, "--metrics", "'9102'"},
                      BadCase{{"--metrics", "127.0.0.1"}, "--metrics", "'127.0.0.1'"},
                      BadCase{{"--metrics", "localhost:9102"}, "--metrics", "'localhost:9102'"},
                      BadCase{{"--check", "--check-port", "0"}, "--check-port", "'0'"},
                      BadCase{{"--check", "--check-port", "80,"}, "--check-port", "'80,'"},
                      BadCase{{"--check", "--check-client", "10.0.0.300"}, "--check-client", "'10.0.0.300'"},
                      BadCase{{"--check-client", "10.0.0.3"}, "--check-client", "needs --check"},
                      BadCase{{"--check-port", "80"}, "--check-port", "needs --check"}));

TEST(Options, AllowListAndSecretFile) {
  Options o;
  ASSERT_EQ(parse({"--allow", "10.77.2.1,10.0.0.0/8", "--allow=2001:db8::/32", "--secret-file", "/etc/tc.key"}, o),
            "");
  ASSERT_EQ(o.allow.size(), 3u);
  EXPECT_TRUE(o.allow[1].contains(*IpAddress::parse("10.9.9.9")));
  EXPECT_FALSE(o.allow[0].contains(*IpAddress::parse("10.77.2.2")));
  EXPECT_EQ(o.secret_file, "/etc/tc.key");
  EXPECT_FALSE(o.secret) << "the parser reads no file";
  ASSERT_EQ(parse({}, o), "");
  EXPECT_TRUE(o.allow.empty());
  EXPECT_FALSE(o.allow_any);
}

TEST(Options, ClosedByDefaultListensOnLoopbackOnly) {
  Options o;
  ASSERT_EQ(parse({}, o), "");
  const ControlExposure e = control_exposure(o);
  EXPECT_TRUE(e.loopback_default);
  ASSERT_EQ(e.bind.size(), 2u);
  EXPECT_EQ(e.bind[0], *IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(e.bind[1], *IpAddress::parse("::1"));
}

TEST(Options, AllowOrSecretOrBindOpenTheControlPort) {
  Options o;
  ASSERT_EQ(parse({"--allow", "any"}, o), "");
  EXPECT_TRUE(o.allow_any);
  EXPECT_TRUE(o.allow.empty()) << "any is no prefix: every address";
  EXPECT_FALSE(control_exposure(o).loopback_default);
  EXPECT_TRUE(control_exposure(o).bind.empty()) << "every address";

  ASSERT_EQ(parse({"--allow", "10.0.0.5"}, o), "");
  EXPECT_TRUE(control_exposure(o).bind.empty());
  EXPECT_FALSE(control_exposure(o).loopback_default);

  ASSERT_EQ(parse({"--secret-file", "/etc/tc.key"}, o), "");
  EXPECT_TRUE(control_exposure(o).bind.empty());

  ASSERT_EQ(parse({"-b", "10.0.0.2"}, o), "");
  const ControlExposure e = control_exposure(o);
  EXPECT_FALSE(e.loopback_default);
  ASSERT_EQ(e.bind.size(), 1u);
  EXPECT_EQ(e.bind[0], *IpAddress::parse("10.0.0.2"));
}

INSTANTIATE_TEST_SUITE_P(
    Guard, BadOptions,
    ::testing::Values(BadCase{{"--allow", "10.0.0.0/33"}, "--allow", "'10.0.0.0/33'"},
                      BadCase{{"--allow", "10.1.2.3/8"}, "--allow", "past its prefix length"},
                      BadCase{{"--allow", "10.0.0.1,"}, "--allow", "'10.0.0.1,'"},
                      BadCase{{"--allow", "example.com"}, "--allow", "'example.com'"},
                      BadCase{{"--allow", ""}, "--allow", "''"},
                      BadCase{{"--allow"}, "--allow", "needs a value"},
                      BadCase{{"--allow", "any,10.0.0.1"}, "--allow", "'any,10.0.0.1'"},
                      BadCase{{"--allow", "ANY"}, "--allow", "'ANY'"},
                      BadCase{{"--allow", "any", "--allow", "10.0.0.1"}, "--allow any", "cannot be combined"},
                      BadCase{{"--allow", "10.0.0.1", "--allow=any"}, "--allow any", "cannot be combined"},
                      BadCase{{"--secret-file", ""}, "--secret-file", "''"},
                      BadCase{{"--secret-file"}, "--secret-file", "needs a value"},
                      BadCase{{"-P", ""}, "--pid-file", "''"},
                      BadCase{{"-s", "0"}, "--hash-size", "'0'"},
                      BadCase{{"--queue-num", "-1"}, "--queue-num", "'-1'"},
                      BadCase{{"--stats-interval", "86401"}, "--stats-interval", "'86401'"},
                      BadCase{{"--batch-wait", "10001"}, "--batch-wait", "'10001'"},
                      BadCase{{"--batch-wait", "-5"}, "--batch-wait", "'-5'"},
                      BadCase{{"--sched-policy", "idle"}, "--sched-policy", "'idle'"}));

TEST(Options, BatchWait) {
  Options o;
  ASSERT_EQ(parse({"--batch-wait", "0"}, o), "");
  EXPECT_EQ(o.batch_wait, std::chrono::microseconds(0));
  ASSERT_EQ(parse({"--batch-wait=10000"}, o), "");
  EXPECT_EQ(o.batch_wait, std::chrono::microseconds(10000));
}

TEST(Options, SchedPolicy) {
  Options o;
  ASSERT_EQ(parse({"--sched-policy", "normal"}, o), "");
  EXPECT_EQ(o.sched_policy, SchedPolicy::kNormal);
  ASSERT_EQ(parse({"--sched-policy=batch"}, o), "");
  EXPECT_EQ(o.sched_policy, SchedPolicy::kBatch);
}

TEST(Options, QueueBalance) {
  Options o;
  ASSERT_EQ(parse({"--queue-balance", "2:5"}, o), "");
  EXPECT_EQ(o.queue_num, 2u);
  EXPECT_EQ(o.queue_count, 4u);
  ASSERT_EQ(parse({"--queue-balance=7:7"}, o), "");
  EXPECT_EQ(o.queue_num, 7u);
  EXPECT_EQ(o.queue_count, 1u);
  ASSERT_EQ(parse({}, o), "");
  EXPECT_EQ(o.queue_count, 1u);
  for (const char* bad : {"3:1", "0:64", "5", "a:b", ":3", "0:", "0:70000", "1:2:3"}) {
    const std::string err = parse({"--queue-balance", bad}, o);
    EXPECT_NE(err.find(std::string("'") + bad + "'"), std::string::npos) << bad << ": " << err;
  }
  EXPECT_EQ(parse({"--queue-balance", "0:63"}, o), "");
  EXPECT_NE(parse({"--queue-num", "1", "--queue-balance", "0:3"}, o).find("exclude each other"), std::string::npos);
  EXPECT_NE(parse({"--queue-balance", "0:3", "--queue-num", "1"}, o).find("exclude each other"), std::string::npos);
  EXPECT_NE(parse({"--mode=assistant", "-i", "eth1", "--queue-balance", "0:3"}, o).find("--queue-balance"),
            std::string::npos);
}

}  // namespace
}  // namespace tc::intercept

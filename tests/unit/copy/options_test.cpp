#include "copy/options.h"

#include <gtest/gtest.h>

#include "support/option_docs.h"

#include <set>
#include <string>
#include <vector>

namespace tc {
namespace {

ParseResult parse(std::vector<std::string> args, CopyOptions& out) {
  args.insert(args.begin(), "tcpcopy");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_copy_options(static_cast<int>(args.size()), argv.data(), out);
}

TEST(CopyOptions, OneXStyleCommandLineWorks) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:8080", "-s", "10.0.0.2", "-C", "4", "-M", "1400", "-D", "1360", "-t", "30",
                  "-k", "60", "-R", "100", "-O", "-m", "64", "-l", "/tmp/x.log", "-d", "-P", "/tmp/x.pid", "-L"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.engine.transfers.transfers().size(), 1u);
  ASSERT_EQ(o.intercepts.size(), 1u);
  EXPECT_EQ(o.intercepts[0].port, 36524);
  EXPECT_EQ(o.connections, 4u);
  EXPECT_EQ(o.engine.mtu, 1400);
  EXPECT_EQ(o.engine.fake_syn_mss, 1360);
  EXPECT_EQ(o.engine.session_timeout, std::chrono::seconds(30));
  EXPECT_EQ(o.engine.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(o.engine.initial_rto, std::chrono::milliseconds(100));
  EXPECT_TRUE(o.engine.only_full_sessions);
  EXPECT_EQ(o.engine.buffer_bytes, size_t{64} << 20);
  EXPECT_TRUE(o.daemon);
  EXPECT_EQ(o.pid_file, "/tmp/x.pid");
}

TEST(CopyOptions, LongNamesAndInterceptPort) {
  CopyOptions o;
  auto r = parse({"--transfer=80-10.0.0.2:80", "--intercept", "10.0.0.2,10.0.0.3:4000", "--intercept-port", "5000",
                  "--no-hold", "--hold-timeout", "50", "--stats-interval", "0", "--log-level", "debug"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  ASSERT_EQ(o.intercepts.size(), 2u);
  EXPECT_EQ(o.intercepts[0].port, 5000);
  EXPECT_EQ(o.intercepts[1].port, 4000);
  EXPECT_FALSE(o.engine.hold_requests);
  EXPECT_EQ(o.engine.hold_timeout, std::chrono::milliseconds(50));
  EXPECT_EQ(o.stats_interval, Duration{0});
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
}

TEST(CopyOptions, PortWaitMovePortsAndSynRetries) {
  CopyOptions o;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o).action, ParseResult::Action::kRun);
  EXPECT_EQ(o.engine.port_wait, std::chrono::milliseconds(10000));
  EXPECT_EQ(o.engine.move_ports.lo, 1024);
  EXPECT_EQ(o.engine.move_ports.hi, 32767);
  EXPECT_EQ(o.engine.max_syn_retransmits, 9);
  CopyOptions p;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--port-wait", "0", "--move-ports", "61000-65535",
                  "--syn-retries", "3"},
                 p);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(p.engine.max_syn_retransmits, 3);
  EXPECT_EQ(p.engine.port_wait, Duration{0});
  EXPECT_EQ(p.engine.move_ports.lo, 61000);
  EXPECT_EQ(p.engine.move_ports.hi, 65535);
}

TEST(CopyOptions, Workers) {
  CopyOptions o;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o).action, ParseResult::Action::kRun);
  EXPECT_EQ(o.workers, 1);
  CopyOptions w;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", "4"}, w).action, ParseResult::Action::kRun);
  EXPECT_EQ(w.workers, 4);
  for (const char* bad : {"0", "17", "two", "-1"}) {
    CopyOptions b;
    const ParseResult r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", bad}, b);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << bad;
    EXPECT_NE(r.error.find("--workers"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(bad), std::string::npos) << r.error;
  }
  CopyOptions offline;
  const ParseResult r =
      parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", "2", "--pcap-file", "x.pcap"}, offline);
  EXPECT_EQ(r.action, ParseResult::Action::kError);
  EXPECT_NE(r.error.find("offline replay runs on one engine"), std::string::npos) << r.error;
}

TEST(CopyOptions, BatchWait) {
  const std::vector<std::string> base{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"};
  const std::pair<std::vector<std::string>, int> cases[] = {{{}, 200}, {{"--batch-wait", "0"}, 0}, {{"--batch-wait=10000"}, 10000}};
  for (const auto& [extra, us] : cases) {
    CopyOptions o;
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    const ParseResult r = parse(args, o);
    ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
    EXPECT_EQ(o.batch_wait, std::chrono::microseconds(us)) << (extra.empty() ? "the documented default" : extra.back());
  }
}

TEST(CopyOptions, SchedPolicy) {
  CopyOptions o;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o).action, ParseResult::Action::kRun);
  EXPECT_EQ(o.sched_policy, SchedPolicy::kBatch) << "the documented default";
  CopyOptions n;
  const ParseResult r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--sched-policy", "normal"}, n);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(n.sched_policy, SchedPolicy::kNormal);
}

TEST(CopyOptions, TrafficShaping) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-n", "3", "-f", "2", "-r", "50", "-g", "-c",
                  "10.9.0.x", "-H", "10.0.0.1"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.engine.copies, 3);
  EXPECT_EQ(o.engine.instance, 2);
  EXPECT_EQ(o.engine.sample_percent, 50);
  EXPECT_EQ(o.engine.ramp, std::chrono::seconds(60));
  EXPECT_FALSE(o.engine.client_map.empty());
  ASSERT_TRUE(o.engine.local_address);
  CopyOptions o2;
  r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--gradually=30"}, o2);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o2.engine.ramp, std::chrono::seconds(30));
}

TEST(CopyOptions, BadValuesAreNamed) {
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  } cases[] = {
      {{"-s", "10.0.0.2"}, "missing -x"},
      {{"-x", "80-10.0.0.2:80"}, "missing -s"},
      {{"-x", "80-10.0.0.2", "-s", "10.0.0.2"}, "'80-10.0.0.2'"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.999"}, "'10.0.0.999'"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-C", "12"}, "'12' for -C"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-C", "x"}, "'x' for -C"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-M", "100"}, "'100' for -M"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-t", "0"}, "'0' for -t"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-p", "70000"}, "'70000' for -p"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--log-level", "loud"}, "'loud'"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--bogus"}, "unknown option --bogus"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "extra"}, "unexpected argument 'extra'"},
      {{"-x", "80-10.0.0.2:80", "-s"}, "needs a value"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-n", "1024"}, "'1024' for -n"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-n", "0"}, "'0' for -n"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-f", "1024"}, "'1024' for -f"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-r", "101"}, "'101' for -r"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-r", "0"}, "'0' for -r"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--gradually=0"}, "'0' for -g"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-c", "10.9.0.y"}, "'10.9.0.y' for -c"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-c", "10.9.0.1,,"}, "for -c"},
      {{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-H", "localhost"}, "'localhost' for -H"},
  };
  for (auto& c : cases) {
    CopyOptions o;
    auto r = parse(c.args, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << c.needle;
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
  }
}

// A relative -l or -P with -d is no error: main makes both absolute before
// the daemon leaves its directory, as intercept does.
TEST(CopyOptions, RelativePathsWithDaemonAreMadeAbsolute) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-d", "-l", "rel.log", "-P", "rel.pid"}, o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.log_file, "rel.log");
  make_paths_absolute(o);
  EXPECT_EQ(o.log_file.front(), '/');
  EXPECT_EQ(o.pid_file.front(), '/');
  EXPECT_NE(o.pid_file.find("rel.pid"), std::string::npos);
}

TEST(CopyOptions, MetricsAndCheck) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_FALSE(o.metrics);
  EXPECT_FALSE(o.check);
  o = CopyOptions{};
  r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--metrics", "0.0.0.0:9101", "--check"}, o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  ASSERT_TRUE(o.metrics);
  EXPECT_EQ(o.metrics->to_string(), "0.0.0.0:9101");
  EXPECT_TRUE(o.check);
  for (const char* bad : {"9101", "127.0.0.1", "127.0.0.1:0", "host:9101", "[::1]"}) {
    CopyOptions b;
    r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--metrics", bad}, b);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << bad;
    EXPECT_NE(r.error.find("--metrics"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(bad), std::string::npos) << r.error;
  }
  // The check takes the same options as a run, so they are still required.
  CopyOptions c;
  EXPECT_EQ(parse({"--check"}, c).action, ParseResult::Action::kError);
}

TEST(CopyOptions, HelpAndVersion) {
  CopyOptions o;
  EXPECT_EQ(parse({"--help"}, o).action, ParseResult::Action::kHelp);
  EXPECT_EQ(parse({"-v"}, o).action, ParseResult::Action::kVersion);
  // Every long option appears in the help text.
  for (const char* name : {"--transfer", "--intercept", "--intercept-port", "--connections", "--mtu", "--mss",
                           "--session-timeout", "--idle-timeout", "--rto", "--only-full-sessions", "--no-hold",
                           "--hold-timeout", "--syn-retries", "--port-wait", "--move-ports", "--lonely", "--memory", "--max-sessions", "--log", "--log-level",
                           "--daemon", "--pid-file", "--stats-interval", "--batch-wait", "--sched-policy", "--help", "--version", "--copies",
                           "--instance", "--percentage", "--gradually", "--client-address", "--local-address",
                           "--metrics", "--check", "--interface", "--filter", "--buffer-size", "--snaplen",
                           "--output-interface", "--dst-mac", "--pcap-file", "--accelerate", "--idle-threshold",
                           "--repeat"})
    EXPECT_NE(copy_usage().find(name), std::string::npos) << name;
}

// The man page and the options reference (docs/options.md) describe every
// option --help lists: in roff as \-\-name, in the reference's tables as
// `--name or `-x, --name.
TEST(CopyOptions, ManPageAndDocsListEveryOption) {
  const std::string man = test_support::read_source_file("packaging/tcpcopy.8");
  const std::string docs = test_support::read_source_file("docs/options.md");
  ASSERT_FALSE(man.empty());
  ASSERT_FALSE(docs.empty());
  const std::string help = copy_usage();
  const std::set<std::string> names = test_support::long_options_in_usage(help);
  EXPECT_GT(names.size(), 20u);
  for (const std::string& name : names) {
    EXPECT_NE(man.find(test_support::roff_escaped(name)), std::string::npos) << name << " is not in packaging/tcpcopy.8";
    if (name == "--help" || name == "--version") continue;
    EXPECT_TRUE(test_support::docs_mention(docs, name)) << name << " is not in docs/options.md";
  }
}

TEST(CopyOptions, SecretFileIsNamedNotRead) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--secret-file", "/nonexistent/key"}, o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.secret_file, "/nonexistent/key");
  EXPECT_FALSE(o.secret) << "the parser opens nothing; main reads the file";
  EXPECT_NE(copy_usage().find("--secret-file"), std::string::npos);
}

TEST(CopyOptions, EveryBadValueIsNamed) {
  const std::vector<std::string> base{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"};
  struct Case {
    std::vector<std::string> extra;
    const char* needle;
  } cases[] = {
      {{"-D", "87"}, "'87' for -D"},
      {{"-k", "0"}, "'0' for -k"},
      {{"-R", "5"}, "'5' for -R"},
      {{"-m", "0"}, "'0' for -m"},
      {{"-m", "-1"}, "'-1' for -m"},
      {{"--max-sessions", "0"}, "'0' for --max-sessions"},
      {{"--max-sessions", "99999999999"}, "'99999999999' for --max-sessions"},
      {{"--hold-timeout", "0"}, "'0' for --hold-timeout"},
      {{"--syn-retries", "16"}, "'16' for --syn-retries"},
      {{"--port-wait", "60001"}, "'60001' for --port-wait"},
      {{"--move-ports", "2000"}, "'2000' for --move-ports"},
      {{"--move-ports", "3000-2000"}, "'3000-2000' for --move-ports"},
      {{"--move-ports", "0-100"}, "'0-100' for --move-ports"},
      {{"--move-ports", "1024-65536"}, "'1024-65536' for --move-ports"},
      {{"--stats-interval", "-1"}, "'-1' for --stats-interval"},
      {{"--batch-wait", "10001"}, "'10001' for --batch-wait"},
      {{"--batch-wait", "1ms"}, "'1ms' for --batch-wait"},
      {{"--sched-policy", "fifo"}, "'fifo' for --sched-policy"},
      {{"--sched-policy", "Batch"}, "'Batch' for --sched-policy"},
      {{"--secret-file", ""}, "'' for --secret-file"},
      {{"-C", "0"}, "'0' for -C"},
      {{"-M", "1e3"}, "'1e3' for -M"},
      {{"-t", " 5"}, "' 5' for -t"},
  };
  for (auto& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    CopyOptions o;
    auto r = parse(args, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << c.needle;
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
  }
  for (const char* bad : {"0-10.0.0.2:80", "80-10.0.0.2:0", "80-0.0.0.0:80", "80-10.0.0.2:80,80-10.0.0.3:80",
                          "80-[2001:db8::1]:80x", "10.0.0.1:80-[2001:db8::1]:80", "80-10.0.0.2:80,"}) {
    CopyOptions o;
    auto r = parse({"-x", bad, "-s", "10.0.0.2"}, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << bad;
    EXPECT_NE(r.error.find(std::string("'") + bad + "' for -x"), std::string::npos) << r.error;
  }
}

TEST(CopyOptions, LinkLayerBackends) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-i", "eth0,eth1", "-F", "tcp dst port 80", "-B", "64",
                  "-S", "2000", "-o", "eth2", "--dst-mac", "02:00:00:00:00:01"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.link.capture_interfaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(o.link.filter, "tcp dst port 80");
  EXPECT_EQ(o.link.buffer_mb, 64);
  EXPECT_EQ(o.link.snaplen, 2000);
  EXPECT_EQ(o.link.output_interface, "eth2");
  ASSERT_TRUE(o.link.dst_mac);
  EXPECT_EQ(o.link.dst_mac->to_string(), "02:00:00:00:00:01");
  EXPECT_TRUE(o.link.pcap_file.empty());
}

TEST(CopyOptions, RawSocketsByDefault) {
  CopyOptions o;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o).action, ParseResult::Action::kRun);
  EXPECT_TRUE(o.link.capture_interfaces.empty());
  EXPECT_TRUE(o.link.output_interface.empty());
  EXPECT_TRUE(o.link.pcap_file.empty());
}

TEST(CopyOptions, OfflineReplay) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--pcap-file", "/tmp/x.pcap", "-a", "4", "-I", "500",
                  "--repeat", "3", "--filter", "tcp"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_EQ(o.link.pcap_file, "/tmp/x.pcap");
  EXPECT_EQ(o.link.speed, 4u);
  EXPECT_EQ(o.link.idle_threshold, std::chrono::milliseconds(500));
  EXPECT_EQ(o.link.repeat, 3u);
  EXPECT_EQ(o.link.filter, "tcp");
}

TEST(CopyOptions, LinkLayerMistakesAreNamed) {
  const std::vector<std::string> base{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"};
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  } cases[] = {
      {{"-i", "eth0", "--pcap-file", "/tmp/x.pcap"}, "exclude each other"},
      {{"-i", "eth0,,eth1"}, "'eth0,,eth1' for -i/--interface"},
      {{"-i", "eth0,eth0"}, "given twice"},
      {{"-i", "averyveryverylongname"}, "for -i/--interface"},
      {{"-i", "eth0", "-F", "tcp and and"}, "'tcp and and' for -F/--filter"},
      {{"-i", "eth0", "-B", "0"}, "'0' for -B/--buffer-size"},
      {{"-i", "eth0", "-S", "10"}, "'10' for -S/--snaplen"},
      {{"-B", "16"}, "-B/--buffer-size needs -i"},
      {{"-S", "1500"}, "-S/--snaplen needs -i"},
      {{"-F", "tcp"}, "-F/--filter needs -i/--interface or --pcap-file"},
      {{"-o", "any"}, "'any' for -o/--output-interface"},
      {{"-o", "eth0", "--dst-mac", "02:00:00:00:00"}, "'02:00:00:00:00' for --dst-mac"},
      {{"-o", "eth0", "--dst-mac", "ff:ff:ff:ff:ff:ff"}, "unicast"},
      {{"--dst-mac", "02:00:00:00:00:01"}, "--dst-mac needs -o"},
      {{"-a", "2"}, "-a/--accelerate needs --pcap-file"},
      {{"-I", "100"}, "-I/--idle-threshold needs --pcap-file"},
      {{"--repeat", "2"}, "--repeat needs --pcap-file"},
      {{"--pcap-file", "/tmp/x.pcap", "-a", "0"}, "'0' for -a/--accelerate"},
      {{"--pcap-file", "/tmp/x.pcap", "-I", "x"}, "'x' for -I/--idle-threshold"},
      {{"--pcap-file", "/tmp/x.pcap", "--repeat", "0"}, "'0' for --repeat"},
      {{"--pcap-file", ""}, "for --pcap-file"},
  };
  for (auto& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.args.begin(), c.args.end());
    CopyOptions o;
    auto r = parse(args, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << c.needle;
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
  }
}


TEST(CopyOptions, ComparisonIsOffUnlessAsked) {
  CopyOptions o;
  ASSERT_EQ(parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}, o).action, ParseResult::Action::kRun);
  EXPECT_FALSE(o.compare.enabled);
  EXPECT_EQ(o.reply_prefix, 0u);
}

TEST(CopyOptions, ComparisonOptionsAreRead) {
  CopyOptions o;
  auto r = parse({"-x", "80-10.0.0.2:80,6379-10.0.0.2:6379", "-s", "10.0.0.2", "--compare-log", "/tmp/d.jsonl",
                  "--compare-all", "/tmp/a.jsonl", "--compare-report", "/tmp/r.html", "--compare-protocol",
                  "bytes,80=http,6379=redis", "--compare-size-tolerance", "25,100", "--compare-slower", "1.5,20",
                  "--compare-sessions", "1000"},
                 o);
  ASSERT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  EXPECT_TRUE(o.compare.enabled);
  EXPECT_EQ(o.compare.log_file, "/tmp/d.jsonl");
  EXPECT_EQ(o.compare.all_file, "/tmp/a.jsonl");
  EXPECT_EQ(o.compare.report_file, "/tmp/r.html");
  EXPECT_EQ(o.compare.protocol, compare::ProtocolChoice::kBytes);
  ASSERT_EQ(o.compare.protocol_by_port.size(), 2u);
  EXPECT_EQ(o.compare.protocol_by_port[0], std::make_pair(uint16_t{80}, compare::ProtocolChoice::kHttp));
  EXPECT_EQ(o.compare.protocol_by_port[1], std::make_pair(uint16_t{6379}, compare::ProtocolChoice::kRedis));
  EXPECT_DOUBLE_EQ(o.compare.tolerances.size_ratio, 0.25);
  EXPECT_EQ(o.compare.tolerances.size_bytes, 100u);
  EXPECT_DOUBLE_EQ(o.compare.tolerances.slower_ratio, 1.5);
  EXPECT_DOUBLE_EQ(o.compare.tolerances.slower_ms, 20.0);
  EXPECT_EQ(o.compare.sessions, 1000u);
  EXPECT_EQ(o.reply_prefix, compare::kAnswerPrefix);  // the target's first bytes come with its replies
}

TEST(CopyOptions, BadComparisonValuesAreNamed) {
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"--compare-protocol", "ftp"}, "invalid value 'ftp' for --compare-protocol"},
      {{"--compare-protocol", "80=http,x=redis"}, "'80=http,x=redis' for --compare-protocol"},
      {{"--compare-size-tolerance", "10,abc"}, "'10,abc' for --compare-size-tolerance"},
      {{"--compare-slower", "0.5"}, "'0.5' for --compare-slower"},
      {{"--compare-sessions", "0"}, "'0' for --compare-sessions"},
      {{"--compare-log", ""}, "for --compare-log"},
  };
  for (auto& c : cases) {
    CopyOptions o;
    std::vector<std::string> args = {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = parse(args, o);
    EXPECT_EQ(r.action, ParseResult::Action::kError) << c.needle;
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
  }
}

}  // namespace
}  // namespace tc

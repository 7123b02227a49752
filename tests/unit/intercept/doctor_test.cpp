#include "intercept/doctor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/common/fake_host.h"

namespace tc::intercept {
namespace {

using doctor::FakeHost;
using doctor::Severity;

Options options(std::vector<std::string> args) {
  args.insert(args.begin(), "intercept");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Options o;
  EXPECT_EQ(parse_options(static_cast<int>(args.size()), argv.data(), o).action, ParseResult::Action::kRun);
  return o;
}

constexpr const char* kRules =
    "*filter\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":TCPCOPY_INTERCEPT - [0:0]\n"
    "-A OUTPUT -j TCPCOPY_INTERCEPT\n"
    "-A TCPCOPY_INTERCEPT ! -o lo -p tcp -m tcp --sport 80 -j NFQUEUE --queue-num 0\n"
    "COMMIT\n";

// The same rule as iptables-nft shows it to nft.
constexpr const char* kRulesSeenByNft =
    "table ip filter {\n"
    "\tchain TCPCOPY_INTERCEPT {\n"
    "\t\toifname != \"lo\" tcp sport 80 counter packets 0 bytes 0 queue num 0\n"
    "\t}\n"
    "\tchain OUTPUT {\n"
    "\t\ttype filter hook output priority filter; policy accept;\n"
    "\t\tcounter packets 0 bytes 0 jump TCPCOPY_INTERCEPT\n"
    "\t}\n"
    "}\n";

FakeHost ready_host() {
  FakeHost h;
  h.caps(1ull << doctor::kCapNetAdmin);
  h.answer("iptables-save", 0, kRules);
  h.answer("ip6tables-save", 0, kRules);  // intercept-rules loads both families
  h.answer("nft list ruleset", 0, std::string(kRulesSeenByNft) + "table ip6 filter" +
                                      std::string(kRulesSeenByNft).substr(std::string("table ip filter").size()));
  h.files["/proc/net/netfilter/nfnetlink_queue"] = "";
  h.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
  h.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
  h.rp_filter("eth0", 2);
  h.ifaces = {{"lo", true, true, {}}, {"eth0", true, false, {}}};
  h.answer("ip route get 192.0.2.7", 0, "192.0.2.7 via 10.0.0.254 dev eth0 src 10.0.0.2 uid 0 \n    cache \n");
  return h;
}

InterceptCheckEnv env(std::string port_error = {}) {
  return {"/usr/libexec/tcpcopy/intercept-rules", [port_error] { return port_error; }};
}

TEST(InterceptDoctor, ReadyHost) {
  FakeHost h = ready_host();
  const auto r = check_intercept(options({"--check", "--check-port", "80", "--check-client", "192.0.2.7"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  EXPECT_EQ(r.count(Severity::kWarn), 0u) << r.text("intercept");
  const auto* rule = doctor::find_check(r, "NFQUEUE rule, port 80");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->detail,
            "replies from port 80 go to queue 0 (iptables filter/TCPCOPY_INTERCEPT, ip6tables filter/TCPCOPY_INTERCEPT)");
  // The copies nft shows of the iptables-nft rules are not listed again.
  size_t rule_findings = 0;
  for (const auto& f : r.findings()) rule_findings += f.check.starts_with("NFQUEUE rule");
  EXPECT_EQ(rule_findings, 1u) << r.text("intercept");
  const auto* route = doctor::find_check(r, "route to client 192.0.2.7");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->severity, Severity::kOk);
  EXPECT_NE(route->detail.find("eth0 via 10.0.0.254"), std::string::npos);
}

TEST(InterceptDoctor, MissingRuleNamesTheCommandThatAddsIt) {
  FakeHost h = ready_host();
  h.answer("iptables-save", 0, "*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
  h.answer("ip6tables-save", 0, "");
  h.answer("nft list ruleset", 0, "");
  auto r = check_intercept(options({"--check", "--check-port", "80,443", "--queue-num", "2"}), h, env());
  EXPECT_EQ(r.exit_status(), 1);
  const auto* f = doctor::find_check(r, "NFQUEUE rule, port 443");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kProblem);
  EXPECT_EQ(f->fix, "/usr/libexec/tcpcopy/intercept-rules apply --port 80,443 --queue 2");
  // Without --check-port: no rule feeds the queue at all.
  r = check_intercept(options({"--check"}), h, env());
  f = doctor::find_check(r, "NFQUEUE rule");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kProblem);
  EXPECT_NE(f->detail.find("feeds queue 0"), std::string::npos);
}

TEST(InterceptDoctor, RuleForAnotherQueue) {
  FakeHost h = ready_host();
  const auto r = check_intercept(options({"--check", "--check-port", "80", "--queue-num", "3"}), h, env());
  const auto* f = doctor::find_check(r, "NFQUEUE rule, port 80");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kProblem);
  EXPECT_NE(f->detail.find("go to queue 0"), std::string::npos);
  EXPECT_NE(f->fix.find("--queue-num 0"), std::string::npos);
}

TEST(InterceptDoctor, RuleThatCatchesLoopbackOrFailsOpen) {
  FakeHost h = ready_host();
  h.answer("iptables-save", 0,
           "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -m tcp --sport 80 -j NFQUEUE --queue-num 0 "
           "--queue-bypass\nCOMMIT\n");
  h.answer("ip6tables-save", 0, "");
  h.answer("nft list ruleset", 0, "");
  const auto r = check_intercept(options({"--check"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  EXPECT_EQ(r.count(Severity::kWarn), 2u) << r.text("intercept");
  EXPECT_NE(r.text("intercept").find("catches replies over loopback"), std::string::npos);
  EXPECT_NE(r.text("intercept").find("bypass"), std::string::npos);
  EXPECT_NE(r.text("intercept").find("give --check-port"), std::string::npos);
}

TEST(InterceptDoctor, IpVersionsOfTheRule) {
  FakeHost h = ready_host();
  h.answer("ip6tables-save", 0, "");
  h.answer("nft list ruleset", 0, kRulesSeenByNft);
  // IPv4 only: fine for IPv4 clients, a note without clients, a problem for IPv6 clients.
  auto r = check_intercept(options({"--check", "--check-port", "80", "--check-client", "192.0.2.7"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  EXPECT_EQ(doctor::find_check(r, "NFQUEUE rule, port 80")->detail,
            "IPv4 replies from port 80 go to queue 0 (iptables filter/TCPCOPY_INTERCEPT)");
  r = check_intercept(options({"--check", "--check-port", "80"}), h, env());
  EXPECT_EQ(r.exit_status(), 0);
  EXPECT_EQ(r.findings()[2].severity, Severity::kInfo) << r.text("intercept");
  EXPECT_NE(r.findings()[2].detail.find("IPv6 replies from port 80 are not queued"), std::string::npos);
  h.answer("ip route get 2001:db8::7", 0, "2001:db8::7 from :: via fe80::1 dev eth0 proto ra src 2001:db8::2 metric 100 pref medium\n");
  r = check_intercept(options({"--check", "--check-port", "80", "--check-client", "2001:db8::7"}), h, env());
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_NE(r.text("intercept").find("[FAIL] NFQUEUE rule, port 80: IPv6 replies from port 80 are not queued"),
            std::string::npos)
      << r.text("intercept");
  // One nft inet table covers both.
  h.answer("iptables-save", 0, "");
  h.answer("nft list ruleset", 0,
           "table inet tcpcopy_intercept {\n\tchain output {\n"
           "\t\ttype filter hook output priority filter; policy accept;\n"
           "\t\toifname != \"lo\" tcp sport 80 queue num 0\n\t}\n}\n");
  r = check_intercept(options({"--check", "--check-port", "80", "--check-client", "2001:db8::7,192.0.2.7"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  EXPECT_EQ(doctor::find_check(r, "NFQUEUE rule, port 80")->detail,
            "replies from port 80 go to queue 0 (nft inet tcpcopy_intercept/output)");
}

TEST(InterceptDoctor, FirewallUnreadable) {
  FakeHost h = ready_host();
  h.commands.clear();
  auto r = check_intercept(options({"--check"}), h, env());
  EXPECT_NE(r.text("intercept").find("neither iptables-save nor nft"), std::string::npos);
  h.answer("iptables-save", 4, "", "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: "
                                     "Permission denied (you must be root)\n");
  h.answer("nft list ruleset", 1, "", "Operation not permitted (you must be root)\n");
  r = check_intercept(options({"--check", "--check-port", "80"}), h, env());
  EXPECT_NE(r.text("intercept").find("Permission denied"), std::string::npos);
  // Rules that could not be read are not reported missing.
  EXPECT_FALSE(doctor::find_check(r, "NFQUEUE rule, port 80")) << r.text("intercept");
  EXPECT_EQ(r.count(Severity::kWarn), 2u);
}

TEST(InterceptDoctor, QueueTakenAndPortInUse) {
  FakeHost h = ready_host();
  h.files["/proc/net/netfilter/nfnetlink_queue"] = "    0  31337     0 2   128     0     0        0  1\n";
  const auto r = check_intercept(options({"--check"}), h, env("cannot listen on [::]:36524: Address already in use"));
  EXPECT_EQ(r.exit_status(), 1);
  const auto* q = doctor::find_check(r, "queue 0");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->severity, Severity::kProblem);
  EXPECT_NE(q->detail.find("31337"), std::string::npos);
  const auto* p = doctor::find_check(r, "control port 36524");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->severity, Severity::kProblem);
  EXPECT_NE(p->detail.find("Address already in use"), std::string::npos);
}

TEST(InterceptDoctor, IpForwardIsOnlyANoteOnTheTarget) {
  FakeHost h = ready_host();
  h.files["/proc/sys/net/ipv4/ip_forward"] = "1\n";
  const auto r = check_intercept(options({"--check", "--check-port", "80"}), h, env());
  EXPECT_EQ(r.exit_status(), 0);
  const auto* f = doctor::find_check(r, "ip_forward");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->detail.find("assistant"), std::string::npos);
}

TEST(InterceptDoctor, StrictRpFilter) {
  FakeHost h = ready_host();
  h.rp_filter("eth0", 1);
  auto r = check_intercept(options({"--check"}), h, env());
  EXPECT_EQ(doctor::find_check(r, "rp_filter")->severity, Severity::kOk);  // one interface: symmetric
  h.ifaces.push_back({"eth1", true, false, {}});
  h.rp_filter("eth1", 0);
  r = check_intercept(options({"--check"}), h, env());
  const auto* f = doctor::find_check(r, "rp_filter");
  EXPECT_EQ(f->severity, Severity::kWarn);
  EXPECT_NE(f->detail.find("eth0"), std::string::npos);
  EXPECT_EQ(f->detail.find("eth1"), std::string::npos);
  EXPECT_NE(f->fix.find("net.ipv4.conf.eth0.rp_filter=2"), std::string::npos);
}

TEST(InterceptDoctor, ClientRoutes) {
  FakeHost h = ready_host();
  h.answer("ip route get 10.0.0.2", 0, "local 10.0.0.2 dev lo src 10.0.0.2 uid 0 \n    cache <local> \n");
  h.answer("ip route get 198.51.100.1", 2, "", "RTNETLINK answers: Network is unreachable\n");
  auto r = check_intercept(options({"--check", "--check-client", "10.0.0.2,198.51.100.1,192.0.2.7"}), h, env());
  EXPECT_EQ(doctor::find_check(r, "route to client 10.0.0.2")->severity, Severity::kProblem);
  const auto* none = doctor::find_check(r, "route to client 198.51.100.1");
  EXPECT_EQ(none->severity, Severity::kProblem);
  EXPECT_NE(none->fix.find("default route"), std::string::npos);
  EXPECT_EQ(doctor::find_check(r, "route to client 192.0.2.7")->severity, Severity::kOk);
  r = check_intercept(options({"--check"}), h, env());
  const auto* skipped = doctor::find_check(r, "route to clients");
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->severity, Severity::kInfo);
  EXPECT_NE(skipped->detail.find("--check-client"), std::string::npos);
}

TEST(InterceptDoctor, AssistantMode) {
  FakeHost h;
  h.caps(1ull << doctor::kCapNetRaw);
  h.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
  h.ifaces = {{"lo", true, true, {}}, {"eth1", true, false, {}}, {"eth2", false, false, {}}};
  auto r = check_intercept(options({"--check", "--mode=assistant", "-i", "eth1"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  EXPECT_EQ(doctor::find_check(r, "privileges CAP_NET_RAW")->severity, Severity::kOk);
  EXPECT_EQ(doctor::find_check(r, "interface eth1")->severity, Severity::kOk);
  // No rule, queue, rp_filter or client route on an assistant host.
  for (const auto& f : r.findings()) {
    EXPECT_FALSE(f.check.starts_with("NFQUEUE")) << f.check;
    EXPECT_FALSE(f.check.starts_with("queue")) << f.check;
    EXPECT_FALSE(f.check.starts_with("route to")) << f.check;
    EXPECT_NE(f.check, "rp_filter");
  }
  h.files["/proc/sys/net/ipv4/ip_forward"] = "1\n";
  r = check_intercept(options({"--check", "--mode=assistant", "-i", "eth1,eth2,eth9"}), h, env());
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_EQ(doctor::find_check(r, "ip_forward")->severity, Severity::kProblem);
  EXPECT_NE(doctor::find_check(r, "interface eth2")->detail.find("down"), std::string::npos);
  EXPECT_NE(doctor::find_check(r, "interface eth9")->detail.find("no such interface"), std::string::npos);
  h.caps(1ull << doctor::kCapNetAdmin);
  r = check_intercept(options({"--check", "--mode=assistant", "-i", "eth1"}), h, env());
  EXPECT_EQ(doctor::find_check(r, "privileges CAP_NET_RAW")->severity, Severity::kProblem);
}

TEST(InterceptDoctor, NoPrivilege) {
  FakeHost h = ready_host();
  h.caps(1ull << doctor::kCapNetRaw);
  const auto r = check_intercept(options({"--check"}), h, env());
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_EQ(doctor::find_check(r, "privileges CAP_NET_ADMIN")->severity, Severity::kProblem);
}

// A rule that spreads flows over queues 0-3: read by --queue-balance 0:3;
// with one queue the replies of the other three would never be routed.
TEST(InterceptDoctor, RuleSpreadOverQueues) {
  FakeHost h = ready_host();
  std::string balanced = kRules;
  balanced.replace(balanced.find("--queue-num 0"), 13, "--queue-balance 0:3");
  h.answer("iptables-save", 0, balanced);
  h.answer("ip6tables-save", 0, balanced);
  h.answer("nft list ruleset", 0, "");
  auto r = check_intercept(options({"--check", "--check-port", "80", "--queue-balance", "0:3"}), h, env());
  EXPECT_EQ(r.exit_status(), 0) << r.text("intercept");
  r = check_intercept(options({"--check", "--check-port", "80"}), h, env());
  EXPECT_EQ(r.exit_status(), 1) << r.text("intercept");
  bool named = false;
  for (const auto& f : r.findings())
    named = named || (f.severity == Severity::kProblem && f.fix == "start intercept with --queue-balance 0:3");
  EXPECT_TRUE(named) << r.text("intercept");
  // Every queue of the range must be free.
  h.files["/proc/net/netfilter/nfnetlink_queue"] = "    2   4242     0 2 65531     0     0        0  1\n";
  r = check_intercept(options({"--check", "--check-port", "80", "--queue-balance", "0:3"}), h, env());
  const auto* taken = doctor::find_check(r, "queue 2");
  ASSERT_TRUE(taken) << r.text("intercept");
  EXPECT_EQ(taken->severity, Severity::kProblem);
}

}  // namespace
}  // namespace tc::intercept

#include "common/doctor.h"

#include <gtest/gtest.h>

#include "tests/unit/common/fake_host.h"

namespace tc::doctor {
namespace {

TEST(DoctorParse, CapEff) {
  EXPECT_EQ(parse_cap_eff("Name:\tbash\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\nCapBnd:\t0\n"),
            0x1ffffffffffull);
  EXPECT_EQ(parse_cap_eff("CapEff:\t0000000000003000"), 0x3000u);
  EXPECT_FALSE(parse_cap_eff(""));
  EXPECT_FALSE(parse_cap_eff("CapPrm:\t0000000000003000\n"));
  EXPECT_FALSE(parse_cap_eff("CapEff:\tzz\n"));
  EXPECT_FALSE(parse_cap_eff("CapEff:\t\n"));
  EXPECT_FALSE(parse_cap_eff(" CapEff:\t0000000000003000\n"));  // only at the start of a line
  const uint64_t net = (1ull << kCapNetAdmin) | (1ull << kCapNetRaw);
  EXPECT_EQ(net, 0x3000u);
  EXPECT_TRUE(has_capability(0x2000, kCapNetRaw));
  EXPECT_FALSE(has_capability(0x2000, kCapNetAdmin));
}

TEST(DoctorParse, SysctlInt) {
  EXPECT_EQ(parse_sysctl_int("1\n"), 1);
  EXPECT_EQ(parse_sysctl_int(" 2 "), 2);
  EXPECT_EQ(parse_sysctl_int("0"), 0);
  EXPECT_FALSE(parse_sysctl_int(""));
  EXPECT_FALSE(parse_sysctl_int("1 2\n"));
  EXPECT_FALSE(parse_sysctl_int("x"));
  EXPECT_EQ(effective_rp_filter(0, 1), 1);
  EXPECT_EQ(effective_rp_filter(2, 1), 2);
  EXPECT_EQ(effective_rp_filter(0, 0), 0);
}

CommandResult ok(std::string out) { return {true, 0, std::move(out), ""}; }
CommandResult failed(int status, std::string err) { return {true, status, "", std::move(err)}; }

TEST(DoctorParse, IpRouteGet) {
  // As iproute2 6.1 prints them.
  auto r = parse_ip_route_get(ok("10.4.1.1 via 10.9.0.254 dev d0 src 10.9.0.1 uid 0 \n    cache \n"));
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.type, "unicast");
  EXPECT_EQ(r.via, "10.9.0.254");
  EXPECT_EQ(r.dev, "d0");
  EXPECT_EQ(r.src, "10.9.0.1");
  r = parse_ip_route_get(ok("10.9.0.5 dev d0 src 10.9.0.1 uid 0 \n    cache \n"));
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.via, "");
  EXPECT_EQ(r.dev, "d0");
  r = parse_ip_route_get(ok("local 10.9.0.1 dev lo src 10.9.0.1 uid 0 \n    cache <local> \n"));
  EXPECT_EQ(r.type, "local");
  EXPECT_EQ(r.dev, "lo");
  r = parse_ip_route_get(ok("local ::1 from :: dev lo table local proto kernel src ::1 metric 0 pref medium\n"));
  EXPECT_EQ(r.type, "local");
  EXPECT_EQ(r.src, "::1");
  r = parse_ip_route_get(failed(2, "RTNETLINK answers: Network is unreachable\n"));
  EXPECT_FALSE(r.found);
  EXPECT_EQ(r.error, "Network is unreachable");
  r = parse_ip_route_get(failed(2, "RTNETLINK answers: No route to host\n"));
  EXPECT_EQ(r.error, "No route to host");
  r = parse_ip_route_get(failed(1, "Error: any valid prefix is expected rather than \"x\".\n"));
  EXPECT_EQ(r.error, "any valid prefix is expected rather than \"x\".");
  r = parse_ip_route_get(failed(2, ""));
  EXPECT_EQ(r.error, "ip route get failed with status 2");
  r = parse_ip_route_get(ok(""));
  EXPECT_FALSE(r.found);
  r = parse_ip_route_get(CommandResult{false, -1, "", "ip: command not found"});
  EXPECT_FALSE(r.found);
  EXPECT_EQ(r.error, "ip: command not found");
}

TEST(DoctorReport, TextAndExitStatus) {
  Report r;
  r.ok("a", "fine");
  r.info("b", "note", "maybe this");
  EXPECT_EQ(r.exit_status(), 0);
  EXPECT_EQ(r.text("prog"), "[ ok ] a: fine\n[info] b: note\n       fix: maybe this\nprog --check: ready\n");
  r.warn("c", "odd", "do that");
  EXPECT_EQ(r.exit_status(), 0);  // warnings do not fail the check
  EXPECT_TRUE(r.text("prog").ends_with("prog --check: ready, 1 warning\n"));
  r.problem("d", "broken", "fix it");
  r.problem("e", "broken too", "");
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_EQ(r.count(Severity::kProblem), 2u);
  const std::string text = r.text("prog");
  EXPECT_NE(text.find("[FAIL] d: broken\n       fix: fix it\n[FAIL] e: broken too\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("prog --check: 2 problems, 1 warning\n")) << text;
}

TEST(DoctorChecks, Capabilities) {
  FakeHost host;
  host.caps(1ull << kCapNetRaw);
  Report r;
  check_capabilities(host, r,
                     {{kCapNetRaw, "CAP_NET_RAW", "raw sockets", true}, {kCapNetAdmin, "CAP_NET_ADMIN", "x", false}},
                     "tcpcopy");
  ASSERT_EQ(r.findings().size(), 2u);
  EXPECT_EQ(r.findings()[0].severity, Severity::kOk);
  EXPECT_EQ(r.findings()[1].severity, Severity::kInfo);
  host.caps(0);
  Report missing;
  check_capabilities(host, missing, {{kCapNetAdmin, "CAP_NET_ADMIN", "binding the queue", true}}, "intercept");
  ASSERT_EQ(missing.findings().size(), 1u);
  EXPECT_EQ(missing.findings()[0].severity, Severity::kProblem);
  EXPECT_NE(missing.findings()[0].fix.find("AmbientCapabilities=CAP_NET_ADMIN"), std::string::npos);
  FakeHost unreadable;
  Report none;
  check_capabilities(unreadable, none, {{kCapNetRaw, "CAP_NET_RAW", "raw", true}}, "tcpcopy");
  EXPECT_EQ(none.findings()[0].severity, Severity::kWarn);
}

TEST(DoctorChecks, IpForward) {
  FakeHost host;
  host.files["/proc/sys/net/ipv4/ip_forward"] = "1\n";
  Report target, assistant;
  check_ip_forward(host, target, false);
  check_ip_forward(host, assistant, true);
  EXPECT_EQ(target.findings()[0].severity, Severity::kInfo);
  EXPECT_EQ(assistant.findings()[0].severity, Severity::kProblem);
  EXPECT_NE(assistant.findings()[0].fix.find("net.ipv4.ip_forward=0"), std::string::npos);
  host.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
  Report off;
  check_ip_forward(host, off, true);
  EXPECT_EQ(off.findings()[0].severity, Severity::kOk);
  // IPv6 forwarding matters on an assistant host only.
  host.files["/proc/sys/net/ipv6/conf/all/forwarding"] = "1\n";
  Report v6_target, v6_assistant;
  check_ip_forward(host, v6_target, false);
  check_ip_forward(host, v6_assistant, true);
  EXPECT_EQ(v6_target.count(Severity::kProblem), 0u);
  ASSERT_EQ(v6_assistant.count(Severity::kProblem), 1u);
  EXPECT_EQ(v6_assistant.findings()[0].check, "ipv6 forwarding");
  EXPECT_NE(v6_assistant.findings()[0].fix.find("net.ipv6.conf.all.forwarding=0"), std::string::npos);
}

TEST(DoctorChecks, Route) {
  FakeHost host;
  host.answer("ip route get 10.0.0.5", 0, "10.0.0.5 via 10.0.0.1 dev eth0 src 10.0.0.2 uid 0 \n    cache \n");
  host.answer("ip route get 10.0.0.6", 2, "", "RTNETLINK answers: Network is unreachable\n");
  host.answer("ip route get 10.0.0.7", 0, "unreachable 10.0.0.7 uid 0 \n");
  Report r;
  const auto a = check_route(host, r, *IpAddress::parse("10.0.0.5"), "route", "add one");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dev, "eth0");
  EXPECT_TRUE(r.findings().empty());  // the caller reports a usable route
  EXPECT_FALSE(check_route(host, r, *IpAddress::parse("10.0.0.6"), "route b", "add one"));
  EXPECT_FALSE(check_route(host, r, *IpAddress::parse("10.0.0.7"), "route c", "add one"));
  ASSERT_EQ(r.findings().size(), 2u);
  EXPECT_EQ(r.findings()[0].severity, Severity::kProblem);
  EXPECT_NE(r.findings()[0].detail.find("Network is unreachable"), std::string::npos);
  EXPECT_NE(r.findings()[1].detail.find("unreachable"), std::string::npos);
  FakeHost no_ip;
  Report n;
  EXPECT_FALSE(check_route(no_ip, n, *IpAddress::parse("10.0.0.5"), "route", "add one"));
  EXPECT_EQ(n.findings()[0].severity, Severity::kInfo);
}

TEST(DoctorChecks, RpFilterTakesTheLargerValue) {
  FakeHost host;
  host.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "1\n";
  host.rp_filter("eth0", 0);
  EXPECT_EQ(rp_filter(host, "eth0"), 1);
  host.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
  host.rp_filter("eth0", 2);
  EXPECT_EQ(rp_filter(host, "eth0"), 2);
  EXPECT_FALSE(rp_filter(host, "eth9"));
}

// ---- the real host: commands -----------------------------------------------------

TEST(SystemHost, RunsCommandsWithOutputStatusAndTimeout) {
  SystemHost host(std::chrono::milliseconds(300));
  CommandResult r = host.run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  r = host.run({"sh", "-c", "echo $LC_ALL"});
  EXPECT_EQ(r.out, "C\n");  // messages in English for the parsers
  r = host.run({"no-such-program-here"});
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.err.find("not found"), std::string::npos);
  const TimePoint start = monotonic_now();
  r = host.run({"sleep", "5"});
  EXPECT_LT(monotonic_now() - start, std::chrono::seconds(2));
  EXPECT_EQ(r.exit_status, -1);
  EXPECT_NE(r.err.find("no answer"), std::string::npos);
  EXPECT_TRUE(host.read_file("/proc/self/status"));
  EXPECT_FALSE(host.read_file("/nonexistent/file"));
  bool has_lo = false;
  for (const auto& i : host.interfaces()) has_lo = has_lo || i.loopback;
  EXPECT_TRUE(has_lo);
}

}  // namespace
}  // namespace tc::doctor

// Architecture 1 (--reply-interface): its option, its capture filter and
// its findings in tcpcopy --check, against the doctor's fake host.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "copy/doctor.h"
#include "copy/options.h"
#include "copy/reply/reply_capture.h"
#include "tests/unit/common/fake_host.h"

namespace tc {
namespace {

using doctor::FakeHost;
using doctor::Severity;

ParseResult parse(std::vector<std::string> args, CopyOptions& out) {
  args.insert(args.begin(), "tcpcopy");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_copy_options(static_cast<int>(args.size()), argv.data(), out);
}

CopyOptions options(std::vector<std::string> args) {
  CopyOptions o;
  const ParseResult r = parse(std::move(args), o);
  EXPECT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  return o;
}

TEST(ReplyInterfaceOption, ReplacesTheIntercepts) {
  const CopyOptions o = options({"-x", "80-10.0.0.2:80", "--reply-interface", "eth1,eth2", "-c", "10.99.0.x"});
  EXPECT_EQ(o.reply_interfaces, (std::vector<std::string>{"eth1", "eth2"}));
  EXPECT_TRUE(o.intercepts.empty());
}

TEST(ReplyInterfaceOption, WithInterceptsIsAnErrorNamingBoth) {
  CopyOptions o;
  const ParseResult r = parse({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--reply-interface", "eth1"}, o);
  EXPECT_EQ(r.action, ParseResult::Action::kError);
  EXPECT_NE(r.error.find("-s/--intercept"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("--reply-interface"), std::string::npos) << r.error;
}

TEST(ReplyInterfaceOption, BadNamesAndNeitherAreErrors) {
  for (const char* bad : {"", "eth1,", ",eth1", "a/b", "averyveryverylongname", "eth1,eth1"}) {
    CopyOptions o;
    EXPECT_EQ(parse({"-x", "80-10.0.0.2:80", "--reply-interface", bad}, o).action, ParseResult::Action::kError) << bad;
  }
  CopyOptions o;
  const ParseResult r = parse({"-x", "80-10.0.0.2:80"}, o);
  EXPECT_EQ(r.action, ParseResult::Action::kError);
  EXPECT_NE(r.error.find("--reply-interface"), std::string::npos) << r.error;
}

TEST(TargetReplyFilter, SourceHostAndPortOfEveryTarget) {
  const CopyOptions one = options({"-x", "80-10.0.0.2:8080", "--reply-interface", "eth1"});
  EXPECT_EQ(target_reply_filter(one.engine.transfers), "tcp and (src host 10.0.0.2 and src port 8080)");
  const CopyOptions two =
      options({"-x", "80-10.0.0.2:80,81-10.0.0.2:80,6379-[2001:db8::2]:6379", "--reply-interface", "eth1"});
  EXPECT_EQ(target_reply_filter(two.engine.transfers),
            "tcp and ((src host 10.0.0.2 and src port 80) or (src host 2001:db8::2 and src port 6379))");
}

// ---- tcpcopy --check ------------------------------------------------------------

FakeHost ready_host() {
  FakeHost h;
  h.caps((1ull << doctor::kCapNetRaw) | (1ull << doctor::kCapNetAdmin));
  h.answer("ip route get 10.0.0.2", 0, "10.0.0.2 dev eth1 src 10.0.0.1 uid 0 \n    cache \n");
  h.files["/sys/class/net/eth1/mtu"] = "1500\n";
  h.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
  h.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
  h.files["/proc/sys/net/ipv6/conf/all/forwarding"] = "0\n";
  h.rp_filter("eth1", 0);
  h.ifaces = {{"lo", true, true, {*IpAddress::parse("127.0.0.1")}},
              {"eth0", true, false, {*IpAddress::parse("192.0.2.10")}},
              {"eth1", true, false, {*IpAddress::parse("10.0.0.1")}}};
  h.offload["eth0"] = {false, false};
  h.offload["eth1"] = {false, false};
  return h;
}

doctor::Report check(FakeHost& h, std::vector<std::string> args) {
  return check_copy(options(std::move(args)), h, [](const Endpoint&) {
    ADD_FAILURE() << "no intercept may be probed in architecture 1";
    return InterceptProbe{};
  });
}

const std::vector<std::string> kReady{"-x", "80-10.0.0.2:80", "--reply-interface", "eth1", "-c", "10.99.0.x"};

TEST(ReplyDoctor, ReadyHost) {
  FakeHost h = ready_host();
  const auto r = check(h, kReady);
  EXPECT_EQ(r.exit_status(), 0) << r.text("tcpcopy");
  EXPECT_EQ(r.count(Severity::kWarn), 0u) << r.text("tcpcopy");
  for (const char* c : {"client addresses", "forwarding net.ipv4.ip_forward", "reply interface eth1", "replies of 10.0.0.2"}) {
    const auto* f = doctor::find_check(r, c);
    ASSERT_TRUE(f) << c << "\n" << r.text("tcpcopy");
    EXPECT_EQ(f->severity, Severity::kOk) << c;
  }
  // Only the families the targets use.
  EXPECT_FALSE(doctor::find_check(r, "forwarding net.ipv6"));
}

void expect_problem(const doctor::Report& r, const std::string& check, const std::string& fix_has) {
  const auto* f = doctor::find_check(r, check);
  ASSERT_TRUE(f) << check << "\n" << r.text("tcpcopy");
  EXPECT_EQ(f->severity, Severity::kProblem) << r.text("tcpcopy");
  EXPECT_NE(f->fix.find(fix_has), std::string::npos) << f->fix;
  EXPECT_EQ(r.exit_status(), 1);
}

TEST(ReplyDoctor, LocalClientAddressesAreAProblem) {
  FakeHost h = ready_host();
  // A listed address, and a pattern covering an address of eth0.
  auto r = check(h, {"-x", "80-10.0.0.2:80", "--reply-interface", "eth1", "-c", "10.98.0.7,10.0.0.1"});
  expect_problem(r, "client addresses", "ip route add");
  EXPECT_NE(doctor::find_check(r, "client addresses")->detail.find("10.0.0.1 (eth1)"), std::string::npos);
  r = check(h, {"-x", "80-10.0.0.2:80", "--reply-interface", "eth1", "-c", "192.0.2.x"});
  expect_problem(r, "client addresses", "-c");
  EXPECT_NE(doctor::find_check(r, "client addresses")->detail.find("192.0.2.10 (eth0)"), std::string::npos);
}

TEST(ReplyDoctor, MissingClientAddressesAreAProblem) {
  FakeHost h = ready_host();
  expect_problem(check(h, {"-x", "80-10.0.0.2:80", "--reply-interface", "eth1"}), "client addresses", "-c ");
}

TEST(ReplyDoctor, ForwardingIsAProblemPerFamily) {
  FakeHost h = ready_host();
  h.files["/proc/sys/net/ipv4/ip_forward"] = "1\n";
  expect_problem(check(h, kReady), "forwarding net.ipv4.ip_forward", "net.ipv4.ip_forward=0");

  FakeHost h6 = ready_host();
  h6.answer("ip route get 2001:db8::2", 0, "2001:db8::2 from :: dev eth1 proto kernel src 2001:db8::1 metric 256\n");
  h6.files["/proc/sys/net/ipv6/conf/all/forwarding"] = "1\n";
  const auto r = check(h6, {"-x", "80-10.0.0.2:80,81-[2001:db8::2]:80", "--reply-interface", "eth1", "-c",
                            "10.99.0.7,2001:db8:99::1"});
  expect_problem(r, "forwarding net.ipv6.conf.all.forwarding", "net.ipv6.conf.all.forwarding=0");
  EXPECT_EQ(doctor::find_check(r, "forwarding net.ipv4.ip_forward")->severity, Severity::kOk);
}

TEST(ReplyDoctor, Ipv6ClientAddressesNeedARoute) {
  const std::vector<std::string> args{"-x", "80-10.0.0.2:80", "--reply-interface", "eth1", "-c", "2001:db8:99::1"};
  FakeHost h = ready_host();
  h.answer("ip route get 2001:db8:99::1", 2, "", "RTNETLINK answers: Network is unreachable\n");
  expect_problem(check(h, args), "route to client address 2001:db8:99::1", "blackhole");
  h.answer("ip route get 2001:db8:99::1", 0, "blackhole 2001:db8:99::1 from :: dev lo proto kernel src ::1 metric 1024 pref medium\n");
  const auto r = check(h, args);
  EXPECT_EQ(doctor::find_check(r, "route to client address 2001:db8:99::1")->severity, Severity::kOk) << r.text("tcpcopy");
}

TEST(ReplyDoctor, RepliesMustArriveOnAReplyInterface) {
  FakeHost h = ready_host();
  // The route to the target leaves through eth1; only eth0 is captured.
  const auto r = check(h, {"-x", "80-10.0.0.2:80", "--reply-interface", "eth0", "-c", "10.99.0.x"});
  expect_problem(r, "replies of 10.0.0.2", "--reply-interface eth1");
}

TEST(ReplyDoctor, UnknownOrDownReplyInterface) {
  FakeHost h = ready_host();
  auto r = check(h, {"-x", "80-10.0.0.2:80", "--reply-interface", "eth1,eth9", "-c", "10.99.0.x"});
  expect_problem(r, "reply interface eth9", "--reply-interface");
  h.ifaces[2].up = false;
  r = check(h, kReady);
  expect_problem(r, "reply interface eth1", "ip link set eth1 up");
}

}  // namespace
}  // namespace tc

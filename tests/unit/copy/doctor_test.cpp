#include "copy/doctor.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "common/wire.h"
#include "tests/unit/common/fake_host.h"

namespace tc {
namespace {

using doctor::FakeHost;
using doctor::Severity;

// ---- the hello probe against peers on loopback -----------------------------------

class Listener {
 public:
  Listener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(Endpoint{*IpAddress::parse("127.0.0.1"), 0}, ss);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&ss), len), 0);
    EXPECT_EQ(::listen(fd_.get(), 4), 0);
  }
  Endpoint endpoint() const { return local_endpoint(fd_.get()); }
  // Accepts one connection, reads the hello, then answers with `reply`
  // (empty: close without a word).
  std::thread serve(std::vector<uint8_t> reply) {
    return std::thread([this, reply] {
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      uint8_t buf[64];
      const ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
      got_hello_ = n >= static_cast<ssize_t>(wire::kHeaderSize) && buf[3] == static_cast<uint8_t>(wire::MessageType::kHello);
      if (!reply.empty()) ::send(c.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    });
  }
  bool got_hello() const { return got_hello_; }

 private:
  UniqueFd fd_;
  bool got_hello_ = false;
};

std::vector<uint8_t> hello_ack() {
  wire::FrameWriter w(64);
  w.hello_ack();
  return {w.pending().begin(), w.pending().end()};
}

TEST(ProbeIntercept, AnswersTheHello) {
  Listener l;
  std::thread t = l.serve(hello_ack());
  const InterceptProbe p = probe_intercept(l.endpoint(), 2s);
  t.join();
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kOk) << p.detail;
  EXPECT_TRUE(l.got_hello());
}

TEST(ProbeIntercept, AChallengeIsAnAnswer) {
  Listener l;
  wire::FrameWriter w(128);
  std::array<uint8_t, wire::kAuthBytes> nonce{};
  w.challenge(nonce);
  std::thread t = l.serve({w.pending().begin(), w.pending().end()});
  const InterceptProbe p = probe_intercept(l.endpoint(), 2s);
  t.join();
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kChallenged) << p.detail;
}

TEST(ProbeIntercept, NotTheControlProtocol) {
  Listener l;
  const std::string http = "HTTP/1.0 400 Bad Request\r\n\r\n";
  std::thread t = l.serve({http.begin(), http.end()});
  const InterceptProbe p = probe_intercept(l.endpoint(), 2s);
  t.join();
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kNotIntercept);
}

TEST(ProbeIntercept, AnotherProtocolVersionIsNamed) {
  Listener l;
  std::vector<uint8_t> ack = hello_ack();
  ack[2] = 1;  // the version byte of an older intercept's frame
  std::thread t = l.serve(ack);
  const InterceptProbe p = probe_intercept(l.endpoint(), 2s);
  t.join();
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kOtherVersion);
  EXPECT_EQ(p.version, 1);
}

TEST(ProbeIntercept, ClosedWithoutAnswer) {
  Listener l;
  std::thread t = l.serve({});
  const InterceptProbe p = probe_intercept(l.endpoint(), 2s);
  t.join();
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kClosed);
}

TEST(ProbeIntercept, SilentPeerTimesOut) {
  Listener l;  // the kernel completes the connect; nobody ever answers
  const TimePoint start = monotonic_now();
  const InterceptProbe p = probe_intercept(l.endpoint(), 200ms);
  EXPECT_EQ(p.outcome, InterceptProbe::Outcome::kTimeout);
  EXPECT_LT(monotonic_now() - start, 1s);
}

TEST(ProbeIntercept, Refused) {
  Endpoint closed;
  {
    Listener l;
    closed = l.endpoint();
  }  // the port is free again: nothing listens
  EXPECT_EQ(probe_intercept(closed, 1s).outcome, InterceptProbe::Outcome::kRefused);
}

// ---- the whole check on a fake host ------------------------------------------------

CopyOptions options(std::vector<std::string> args) {
  args.insert(args.begin(), "tcpcopy");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  CopyOptions o;
  const ParseResult r = parse_copy_options(static_cast<int>(args.size()), argv.data(), o);
  EXPECT_EQ(r.action, ParseResult::Action::kRun) << r.error;
  return o;
}

FakeHost ready_host() {
  FakeHost h;
  h.caps((1ull << doctor::kCapNetRaw) | (1ull << doctor::kCapNetAdmin));
  h.answer("ip route get 10.0.0.2", 0, "10.0.0.2 dev eth1 src 10.0.0.1 uid 0 \n    cache \n");
  h.files["/sys/class/net/eth1/mtu"] = "1500\n";
  h.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
  h.rp_filter("eth1", 0);
  h.ifaces = {{"lo", true, true, {*IpAddress::parse("127.0.0.1")}},
              {"eth0", true, false, {*IpAddress::parse("192.0.2.10")}},
              {"eth1", true, false, {*IpAddress::parse("10.0.0.1")}}};
  h.offload["eth0"] = {false, false};
  h.offload["eth1"] = {false, false};
  return h;
}

InterceptProber always(InterceptProbe::Outcome o) {
  return [o](const Endpoint&) {
    InterceptProbe p;
    p.outcome = o;
    p.detail = "No route to host";
    return p;
  };
}

TEST(CopyDoctor, TheDefaultSendPathOfEachTarget) {
  FakeHost h = ready_host();
  h.files["/sys/class/net/eth1/type"] = "1\n";
  auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  const auto* ring = doctor::find_check(r, "send path to target 10.0.0.2");
  ASSERT_TRUE(ring) << r.text("tcpcopy");
  EXPECT_EQ(ring->severity, Severity::kOk);
  EXPECT_NE(ring->detail.find("transmit ring on eth1"), std::string::npos) << ring->detail;
  // A tunnel (wg0: ARPHRD_NONE) is no Ethernet: raw sockets, as a note.
  h.answer("ip route get 10.0.0.2", 0, "10.0.0.2 dev wg0 src 10.0.0.1 uid 0 \n    cache \n");
  h.files["/sys/class/net/wg0/type"] = "65534\n";
  h.files["/sys/class/net/wg0/mtu"] = "1500\n";
  h.rp_filter("wg0", 0);
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  const auto* raw = doctor::find_check(r, "send path to target 10.0.0.2");
  ASSERT_TRUE(raw) << r.text("tcpcopy");
  EXPECT_EQ(raw->severity, Severity::kInfo);
  EXPECT_EQ(raw->detail, "wg0 has no Ethernet framing: copies to 10.0.0.2 go through raw sockets "
                         "(counted in send_fallback{no_ethernet})");
  EXPECT_EQ(r.exit_status(), 0) << r.text("tcpcopy");
}

TEST(CopyDoctor, WorkersAreToldHowTheyShareTheCapture) {
  FakeHost h = ready_host();
  h.files["/proc/sys/kernel/osrelease"] = "6.1.0-13-amd64\n";
  auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", "4"}), h,
                      always(InterceptProbe::Outcome::kOk));
  const auto* w = doctor::find_check(r, "workers");
  ASSERT_TRUE(w) << r.text("tcpcopy");
  EXPECT_EQ(w->severity, Severity::kOk);
  EXPECT_NE(w->detail.find("4 session engines"), std::string::npos) << w->detail;
  EXPECT_NE(w->detail.find("8 control connections"), std::string::npos) << w->detail;
  h.files["/proc/sys/kernel/osrelease"] = "4.2.8\n";
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", "2"}), h,
                 always(InterceptProbe::Outcome::kOk));
  w = doctor::find_check(r, "workers");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->severity, Severity::kWarn);
  EXPECT_NE(w->detail.find("Linux 4.2.8 cannot share"), std::string::npos) << w->detail;
  h.files["/proc/sys/kernel/osrelease"] = "6.1.0\n";
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "--workers", "2", "-i", "eth0"}), h,
                 always(InterceptProbe::Outcome::kOk));
  w = doctor::find_check(r, "workers");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->severity, Severity::kInfo);
  EXPECT_NE(w->detail.find("capture_other_workers"), std::string::npos) << w->detail;
  EXPECT_FALSE(doctor::find_check(check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h,
                                             always(InterceptProbe::Outcome::kOk)),
                                  "workers"))
      << "one worker says nothing";
}

TEST(CopyDoctor, ReadyHost) {
  FakeHost h = ready_host();
  const auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  EXPECT_EQ(r.exit_status(), 0) << r.text("tcpcopy");
  EXPECT_EQ(r.count(Severity::kWarn), 0u) << r.text("tcpcopy");
  const auto* route = doctor::find_check(r, "route to target 10.0.0.2");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->detail, "packets leave through eth1, MTU 1500");
  EXPECT_TRUE(doctor::find_check(r, "intercept 10.0.0.2:36524"));
}

TEST(CopyDoctor, EachInterceptOutcomeIsAProblemWithAFix) {
  using O = InterceptProbe::Outcome;
  for (O o : {O::kRefused, O::kTimeout, O::kUnreachable, O::kNotIntercept, O::kOtherVersion, O::kClosed}) {
    FakeHost h = ready_host();
    const auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2,10.0.0.3:4000"}), h, always(o));
    EXPECT_EQ(r.exit_status(), 1);
    const auto* a = doctor::find_check(r, "intercept 10.0.0.2:36524");
    const auto* b = doctor::find_check(r, "intercept 10.0.0.3:4000");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->severity, Severity::kProblem);
    EXPECT_FALSE(a->fix.empty()) << a->detail;
  }
}

TEST(CopyDoctor, SharedSecretMustBeOnBothSides) {
  using O = InterceptProbe::Outcome;
  const std::string good = ::testing::TempDir() + "doctor_secret_" + std::to_string(::getpid());
  const std::string open = good + ".open";
  for (const auto& [path, mode] : {std::pair{good, 0600}, std::pair{open, 0644}}) {
    std::ofstream(path) << "0123456789abcdef0123\n";
    ASSERT_EQ(::chmod(path.c_str(), static_cast<mode_t>(mode)), 0);
  }
  const std::vector<std::string> base{"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"};
  auto with = [&](const std::string& file) {
    auto a = base;
    a.insert(a.end(), {"--secret-file", file});
    return options(a);
  };
  FakeHost h = ready_host();
  auto r = check_copy(options(base), h, always(O::kChallenged));
  EXPECT_EQ(doctor::find_check(r, "intercept 10.0.0.2:36524")->severity, Severity::kProblem) << r.text("tcpcopy");
  r = check_copy(with(good), h, always(O::kOk));
  EXPECT_EQ(doctor::find_check(r, "intercept 10.0.0.2:36524")->severity, Severity::kProblem) << r.text("tcpcopy");
  r = check_copy(with(good), h, always(O::kChallenged));
  EXPECT_EQ(r.exit_status(), 0) << r.text("tcpcopy");
  EXPECT_TRUE(doctor::find_check(r, "secret file"));
  r = check_copy(with(open), h, always(O::kChallenged));
  EXPECT_EQ(doctor::find_check(r, "secret file")->severity, Severity::kProblem) << r.text("tcpcopy");
  std::remove(good.c_str());
  std::remove(open.c_str());
}

TEST(CopyDoctor, MissingRawCapabilityIsAProblem) {
  FakeHost h = ready_host();
  h.caps(0);
  const auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_EQ(doctor::find_check(r, "privileges CAP_NET_RAW")->severity, Severity::kProblem);
  EXPECT_EQ(doctor::find_check(r, "privileges CAP_NET_ADMIN")->severity, Severity::kInfo);
}

TEST(CopyDoctor, RouteAndMtuToTheTarget) {
  FakeHost h = ready_host();
  h.files["/sys/class/net/eth1/mtu"] = "1400\n";
  auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  const auto* f = doctor::find_check(r, "route to target");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kProblem);
  EXPECT_EQ(f->fix, "-M 1400");
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-M", "1400"}), h,
                 always(InterceptProbe::Outcome::kOk));
  EXPECT_EQ(r.exit_status(), 0);

  FakeHost none = ready_host();
  none.answer("ip route get 10.0.0.2", 2, "", "RTNETLINK answers: Network is unreachable\n");
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), none, always(InterceptProbe::Outcome::kOk));
  EXPECT_EQ(doctor::find_check(r, "route to target")->severity, Severity::kProblem);
}

TEST(CopyDoctor, PathNarrowerThanTheOnlineInterfaceIsANote) {
  FakeHost h = ready_host();
  h.files["/sys/class/net/eth0/mtu"] = "9000\n";
  auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  const auto* f = doctor::find_check(r, "path MTU to target 10.0.0.2");
  ASSERT_TRUE(f) << r.text("tcpcopy");
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->detail.find("9000 bytes arrive on eth0"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("eth1 with MTU 1500"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("packets_malformed{fragment}"), std::string::npos) << f->detail;
  EXPECT_EQ(r.exit_status(), 0);
  // As wide as the online interface: nothing to say.
  h.files["/sys/class/net/eth0/mtu"] = "1500\n";
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  EXPECT_FALSE(doctor::find_check(r, "path MTU to target"));
}

TEST(CopyDoctor, StrictRpFilterHereIsANote) {
  FakeHost h = ready_host();
  h.rp_filter("eth1", 1);
  const auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  const auto* f = doctor::find_check(r, "rp_filter eth1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_EQ(r.exit_status(), 0);
}

TEST(CopyDoctor, ClientAddressesOfMinusC) {
  FakeHost h = ready_host();
  auto r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  EXPECT_FALSE(doctor::find_check(r, "client addresses"));
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-c", "10.9.0.x"}), h,
                 always(InterceptProbe::Outcome::kOk));
  const auto* f = doctor::find_check(r, "client addresses");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->fix.find("--check-client"), std::string::npos);
}

TEST(CopyDoctor, OffloadsOfTheCaptureInterfaces) {
  FakeHost h = ready_host();
  h.offload["eth0"] = {true, false};
  h.offload["eth1"] = {false, true};
  // Every transfer names its online address: only that interface counts.
  auto r = check_copy(options({"-x", "192.0.2.10:80-10.0.0.2:80", "-s", "10.0.0.2"}), h,
                      always(InterceptProbe::Outcome::kOk));
  const auto* f = doctor::find_check(r, "offloads eth0");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->detail.find("GRO on"), std::string::npos);
  EXPECT_NE(f->fix.find("ethtool -K eth0 gro off lro off"), std::string::npos);
  EXPECT_FALSE(doctor::find_check(r, "offloads eth1"));
  EXPECT_FALSE(doctor::find_check(r, "offloads lo"));
  // Otherwise every interface that is up.
  r = check_copy(options({"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"}), h, always(InterceptProbe::Outcome::kOk));
  EXPECT_TRUE(doctor::find_check(r, "offloads eth0"));
  EXPECT_NE(doctor::find_check(r, "offloads eth1")->detail.find("LRO on"), std::string::npos);
  EXPECT_EQ(r.exit_status(), 0);
}

// ---- -o: the send interface and the targets' next hops -----------------------------

// check_copy with every intercept answering.
doctor::Report check_with(FakeHost& h, std::vector<std::string> args) {
  return check_copy(options(std::move(args)), h, always(InterceptProbe::Outcome::kOk));
}

// The finding of `check`; a failure (and an empty finding) when missing.
doctor::Finding finding(const doctor::Report& r, const std::string& check) {
  if (const doctor::Finding* f = doctor::find_check(r, check)) return *f;
  ADD_FAILURE() << "no finding '" << check << "' in:\n" << r.text("tcpcopy");
  return {};
}

const char* kArp =
    "IP address       HW type     Flags       HW address            Mask     Device\n"
    "10.0.0.2         0x1         0x2         02:00:00:00:00:02     *        eth1\n"
    "10.0.0.254       0x1         0x2         02:00:00:00:00:fe     *        eth1\n"
    "10.0.0.3         0x1         0x0         00:00:00:00:00:00     *        eth1\n";

TEST(CopyDoctor, SendInterfaceAndNextHopFromTheNeighbourTable) {
  FakeHost h = ready_host();
  h.files["/proc/net/arp"] = kArp;
  const auto r = check_with(h, {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-o", "eth1"});
  EXPECT_EQ(r.exit_status(), 0) << r.text("tcpcopy");
  doctor::Finding dev = finding(r, "send interface eth1");
  EXPECT_EQ(dev.severity, Severity::kOk);
  EXPECT_EQ(dev.detail, "up, MTU 1500");
  doctor::Finding hop = finding(r, "next hop of 10.0.0.2 on eth1");
  EXPECT_EQ(hop.severity, Severity::kOk);
  EXPECT_EQ(hop.detail, "02:00:00:00:00:02, from /proc/net/arp");
  // Without -o, none of this is looked at.
  const auto plain = check_with(h, {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2"});
  EXPECT_FALSE(doctor::find_check(plain, "send interface"));
  EXPECT_FALSE(doctor::find_check(plain, "next hop"));
}

TEST(CopyDoctor, SendInterfaceMissingDownOrNarrow) {
  FakeHost h = ready_host();
  h.files["/proc/net/arp"] = kArp;
  auto r = check_with(h, {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-o", "eth9"});
  EXPECT_EQ(r.exit_status(), 1);
  doctor::Finding f = finding(r, "send interface eth9");
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.detail, "no interface eth9 on this host");
  EXPECT_EQ(f.fix, "-o with one of: eth0, eth1");

  h.ifaces[2].up = false;
  r = check_with(h, {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-o", "eth1"});
  f = finding(r, "send interface eth1");
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.fix, "ip link set eth1 up");

  h.ifaces[2].up = true;
  h.files["/sys/class/net/eth1/mtu"] = "1400\n";
  r = check_with(h, {"-x", "80-10.0.0.2:80", "-s", "10.0.0.2", "-o", "eth1", "-M", "1450"});
  f = finding(r, "send interface eth1");
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.fix, "-M 1400");
}

TEST(CopyDoctor, NextHopsThatOnlyDstMacCanGive) {
  FakeHost h = ready_host();
  h.files["/proc/net/arp"] = kArp;
  // Not yet heard from: reach it once, or say its MAC.
  h.answer("ip route get 10.0.0.3", 0, "10.0.0.3 dev eth1 src 10.0.0.1 uid 0 \n    cache \n");
  auto r = check_with(h, {"-x", "80-10.0.0.3:80", "-s", "10.0.0.3", "-o", "eth1"});
  EXPECT_EQ(r.exit_status(), 1);
  doctor::Finding f = finding(r, "next hop of 10.0.0.3 on eth1");
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.fix, "reach it once (ping -c 1 10.0.0.3) or give --dst-mac (the next hop's MAC)");
  // Behind a router: its MAC, from the table, is the fix.
  h.answer("ip route get 172.16.0.5", 0, "172.16.0.5 via 10.0.0.254 dev eth1 src 10.0.0.1 uid 0 \n    cache \n");
  r = check_with(h, {"-x", "80-172.16.0.5:80", "-s", "172.16.0.5", "-o", "eth1"});
  f = finding(r, "next hop of 172.16.0.5 on eth1");
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.detail, "reached via the router 10.0.0.254: frames must go to its MAC");
  EXPECT_EQ(f.fix, "--dst-mac 02:00:00:00:00:fe");
  // --dst-mac given: nothing to look up.
  r = check_with(h, {"-x", "80-172.16.0.5:80", "-s", "172.16.0.5", "-o", "eth1", "--dst-mac", "02:00:00:00:00:fe"});
  f = finding(r, "next hop of 172.16.0.5 on eth1");
  EXPECT_EQ(f.severity, Severity::kOk);
}

}  // namespace
}  // namespace tc

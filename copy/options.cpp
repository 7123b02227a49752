#include "copy/options.h"

#include <getopt.h>

#include <net/if.h>

#include <charconv>
#include <optional>
#include <string_view>
#include <limits>

#include "common/pcap_io.h"
#include "common/wire.h"


namespace tc {

namespace {

template <typename T>
bool parse_number(const char* text, T lo, T hi, T& out) {
  const std::string_view s(text);
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

enum LongOnly : int {
  kNoHold = 1000,
  kHoldTimeout,
  kLogLevel,
  kStatsInterval,
  kMaxSessions,
  kMetrics,
  kCheck,
  kSecretFile,
  kDstMac,
  kPcapFile,
  kRepeat,
  kBatchWait,
  kSchedPolicy,
  kPortWait,
  kMovePorts,
  kSynRetries,
  kReplyInterface,
  kCompare,
  kCompareLog,
  kCompareAll,
  kCompareReport,
  kCompareProtocol,
  kCompareSizeTolerance,
  kCompareSlower,
  kCompareSessions,
};

constexpr const char* kShortOptions = ":x:s:p:C:M:D:t:k:R:m:OLl:dP:hvn:f:r:g::c:H:i:F:B:S:o:a:I:";

const option kLongOptions[] = {
    {"transfer", required_argument, nullptr, 'x'},
    {"intercept", required_argument, nullptr, 's'},
    {"intercept-port", required_argument, nullptr, 'p'},
    {"connections", required_argument, nullptr, 'C'},
    {"mtu", required_argument, nullptr, 'M'},
    {"mss", required_argument, nullptr, 'D'},
    {"session-timeout", required_argument, nullptr, 't'},
    {"idle-timeout", required_argument, nullptr, 'k'},
    {"rto", required_argument, nullptr, 'R'},
    {"memory", required_argument, nullptr, 'm'},
    {"max-sessions", required_argument, nullptr, kMaxSessions},
    {"only-full-sessions", no_argument, nullptr, 'O'},
    {"no-hold", no_argument, nullptr, kNoHold},
    {"hold-timeout", required_argument, nullptr, kHoldTimeout},
    {"syn-retries", required_argument, nullptr, kSynRetries},
    {"port-wait", required_argument, nullptr, kPortWait},
    {"move-ports", required_argument, nullptr, kMovePorts},
    {"lonely", no_argument, nullptr, 'L'},
    {"copies", required_argument, nullptr, 'n'},
    {"instance", required_argument, nullptr, 'f'},
    {"percentage", required_argument, nullptr, 'r'},
    {"gradually", optional_argument, nullptr, 'g'},
    {"client-address", required_argument, nullptr, 'c'},
    {"local-address", required_argument, nullptr, 'H'},
    {"log", required_argument, nullptr, 'l'},
    {"log-level", required_argument, nullptr, kLogLevel},
    {"daemon", no_argument, nullptr, 'd'},
    {"pid-file", required_argument, nullptr, 'P'},
    {"stats-interval", required_argument, nullptr, kStatsInterval},
    {"batch-wait", required_argument, nullptr, kBatchWait},
    {"sched-policy", required_argument, nullptr, kSchedPolicy},
    {"metrics", required_argument, nullptr, kMetrics},
    {"check", no_argument, nullptr, kCheck},
    {"secret-file", required_argument, nullptr, kSecretFile},
    {"reply-interface", required_argument, nullptr, kReplyInterface},
    {"compare", no_argument, nullptr, kCompare},
    {"compare-log", required_argument, nullptr, kCompareLog},
    {"compare-all", required_argument, nullptr, kCompareAll},
    {"compare-report", required_argument, nullptr, kCompareReport},
    {"compare-protocol", required_argument, nullptr, kCompareProtocol},
    {"compare-size-tolerance", required_argument, nullptr, kCompareSizeTolerance},
    {"compare-slower", required_argument, nullptr, kCompareSlower},
    {"compare-sessions", required_argument, nullptr, kCompareSessions},
    {"interface", required_argument, nullptr, 'i'},
    {"filter", required_argument, nullptr, 'F'},
    {"buffer-size", required_argument, nullptr, 'B'},
    {"snaplen", required_argument, nullptr, 'S'},
    {"output-interface", required_argument, nullptr, 'o'},
    {"dst-mac", required_argument, nullptr, kDstMac},
    {"pcap-file", required_argument, nullptr, kPcapFile},
    {"accelerate", required_argument, nullptr, 'a'},
    {"idle-threshold", required_argument, nullptr, 'I'},
    {"repeat", required_argument, nullptr, kRepeat},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'v'},
    {nullptr, 0, nullptr, 0},
};

std::string bad(const std::string& opt, const char* value, const std::string& why) {
  return "invalid value '" + std::string(value) + "' for " + opt + ": " + why;
}

// ------------------------------------------ link-layer backends and offline replay

// Which of them were given, to check the combinations once all are read.
enum LinkGiven : unsigned {
  kGivenInterface = 1u << 0,
  kGivenFilter = 1u << 1,
  kGivenBuffer = 1u << 2,
  kGivenSnaplen = 1u << 3,
  kGivenOutput = 1u << 4,
  kGivenDstMac = 1u << 5,
  kGivenPcapFile = 1u << 6,
  kGivenAccelerate = 1u << 7,
  kGivenIdle = 1u << 8,
  kGivenRepeat = 1u << 9,
};

bool is_link_option(int c) {
  switch (c) {
    case 'i': case 'F': case 'B': case 'S': case 'o': case kDstMac: case kPcapFile: case 'a': case 'I': case kRepeat:
      return true;
    default:
      return false;
  }
}

bool valid_interface_name(std::string_view name) {
  return !name.empty() && name.size() < IFNAMSIZ && name.find_first_of("/ \t,") == std::string_view::npos;
}

std::string parse_link_option(int c, const char* v, LinkOptions& link, unsigned& given) {
  switch (c) {
    case 'i': {
      given |= kGivenInterface;
      std::string_view rest(v);
      link.capture_interfaces.clear();
      while (true) {
        const size_t comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        if (!valid_interface_name(name)) return bad("-i/--interface", v, "expected interface names separated by commas");
        for (const std::string& seen : link.capture_interfaces)
          if (seen == name) return bad("-i/--interface", v, "interface '" + seen + "' given twice");
        link.capture_interfaces.emplace_back(name);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      return {};
    }
    case 'F':
      given |= kGivenFilter;
      if (*v == '\0') return bad("-F/--filter", v, "expected a filter expression");
      if (std::string err = check_filter_syntax(v); !err.empty()) return bad("-F/--filter", v, err);
      link.filter = v;
      return {};
    case 'B':
      given |= kGivenBuffer;
      if (!parse_number<int>(v, 1, 4096, link.buffer_mb)) return bad("-B/--buffer-size", v, "expected 1-4096 MB");
      return {};
    case 'S':
      given |= kGivenSnaplen;
      if (!parse_number<int>(v, 64, 262144, link.snaplen)) return bad("-S/--snaplen", v, "expected 64-262144 bytes");
      return {};
    case 'o':
      given |= kGivenOutput;
      if (!valid_interface_name(v)) return bad("-o/--output-interface", v, "expected one interface name");
      if (std::string_view(v) == "any") return bad("-o/--output-interface", v, "frames go out one Ethernet interface");
      link.output_interface = v;
      return {};
    case kDstMac: {
      given |= kGivenDstMac;
      auto mac = MacAddress::parse(v);
      if (!mac) return bad("--dst-mac", v, "expected a MAC address like 02:00:00:00:00:01");
      if (mac->is_zero() || mac->is_multicast()) return bad("--dst-mac", v, "expected a unicast MAC address");
      link.dst_mac = mac;
      return {};
    }
    case kPcapFile:
      given |= kGivenPcapFile;
      if (*v == '\0') return bad("--pcap-file", v, "expected a file name");
      link.pcap_file = v;
      return {};
    case 'a':
      given |= kGivenAccelerate;
      if (!parse_number<uint32_t>(v, 1, 1000, link.speed)) return bad("-a/--accelerate", v, "expected 1-1000");
      return {};
    case 'I': {
      given |= kGivenIdle;
      uint32_t ms = 0;
      if (!parse_number<uint32_t>(v, 1, 3600000, ms)) return bad("-I/--idle-threshold", v, "expected 1-3600000 ms");
      link.idle_threshold = std::chrono::milliseconds(ms);
      return {};
    }
    case kRepeat:
      given |= kGivenRepeat;
      if (!parse_number<uint32_t>(v, 1, 1000000, link.repeat)) return bad("--repeat", v, "expected 1-1000000");
      return {};
    default:
      return "internal: not a link option";
  }
}

// Combinations: each option belongs to the backend it configures.
std::string check_link_options(unsigned given) {
  auto has = [given](unsigned bit) { return (given & bit) != 0; };
  if (has(kGivenInterface) && has(kGivenPcapFile))
    return "-i/--interface (live capture) and --pcap-file (offline replay) exclude each other";
  if (has(kGivenBuffer) && !has(kGivenInterface)) return "-B/--buffer-size needs -i/--interface (pcap capture)";
  if (has(kGivenSnaplen) && !has(kGivenInterface)) return "-S/--snaplen needs -i/--interface (pcap capture)";
  if (has(kGivenFilter) && !has(kGivenInterface) && !has(kGivenPcapFile))
    return "-F/--filter needs -i/--interface or --pcap-file";
  if (has(kGivenDstMac) && !has(kGivenOutput)) return "--dst-mac needs -o/--output-interface (pcap send)";
  if (!has(kGivenPcapFile)) {
    if (has(kGivenAccelerate)) return "-a/--accelerate needs --pcap-file (offline replay)";
    if (has(kGivenIdle)) return "-I/--idle-threshold needs --pcap-file (offline replay)";
    if (has(kGivenRepeat)) return "--repeat needs --pcap-file (offline replay)";
  }
  return {};
}

// ------------------------------------------ answer comparison

bool is_compare_option(int c) { return c >= kCompare && c <= kCompareSessions; }

std::optional<compare::ProtocolChoice> parse_protocol_name(std::string_view name) {
  if (name == "auto") return compare::ProtocolChoice::kAuto;
  if (name == "http") return compare::ProtocolChoice::kHttp;
  if (name == "redis") return compare::ProtocolChoice::kRedis;
  if (name == "bytes") return compare::ProtocolChoice::kBytes;
  return std::nullopt;
}

// "http" or "80=http,6379=redis[,auto]": a bare name applies to every port
// not named.
bool parse_compare_protocol(std::string_view text, CompareOptions& out) {
  out.protocol_by_port.clear();
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t eq = item.find('=');
    const auto choice = parse_protocol_name(eq == std::string_view::npos ? item : item.substr(eq + 1));
    if (!choice) return false;
    if (eq == std::string_view::npos) {
      out.protocol = *choice;
      continue;
    }
    uint16_t port = 0;
    const std::string port_text(item.substr(0, eq));
    if (!parse_number<uint16_t>(port_text.c_str(), 1, 65535, port)) return false;
    out.protocol_by_port.emplace_back(port, *choice);
  }
  return true;
}

// "A" or "A,B": a number and an optional second one.
template <typename T1, typename T2>
bool parse_pair(const char* v, T1 lo1, T1 hi1, T1& first, T2 lo2, T2 hi2, T2& second) {
  const std::string_view text(v);
  const size_t comma = text.find(',');
  const std::string a(text.substr(0, comma));
  if (!parse_number<T1>(a.c_str(), lo1, hi1, first)) return false;
  if (comma == std::string_view::npos) return true;
  const std::string b(text.substr(comma + 1));
  return parse_number<T2>(b.c_str(), lo2, hi2, second);
}

std::string parse_compare_option(int c, const char* v, CompareOptions& out) {
  out.enabled = true;
  switch (c) {
    case kCompare: break;
    case kCompareLog:
      if (*v == '\0') return bad("--compare-log", v, "expected a file name");
      out.log_file = v;
      break;
    case kCompareAll:
      if (*v == '\0') return bad("--compare-all", v, "expected a file name");
      out.all_file = v;
      break;
    case kCompareReport:
      if (*v == '\0') return bad("--compare-report", v, "expected a file name");
      out.report_file = v;
      break;
    case kCompareProtocol:
      if (!parse_compare_protocol(v, out))
        return bad("--compare-protocol", v, "expected auto, http, redis or bytes, or PORT=PROTOCOL[,...]");
      break;
    case kCompareSizeTolerance: {
      uint32_t percent = 10;
      uint32_t bytes = 64;
      if (!parse_pair<uint32_t, uint32_t>(v, 0, 10000, percent, 0, 1u << 30, bytes))
        return bad("--compare-size-tolerance", v, "expected PERCENT[,BYTES], 0-10000 and 0-1073741824");
      out.tolerances.size_ratio = percent / 100.0;
      out.tolerances.size_bytes = bytes;
      break;
    }
    case kCompareSlower: {
      double ratio = 2.0;
      uint32_t ms = 50;
      if (!parse_pair<double, uint32_t>(v, 1.0, 1000.0, ratio, 0, 3600000, ms))
        return bad("--compare-slower", v, "expected RATIO[,MS], a ratio 1-1000 and 0-3600000 ms");
      out.tolerances.slower_ratio = ratio;
      out.tolerances.slower_ms = ms;
      break;
    }
    case kCompareSessions:
      if (!parse_number<uint32_t>(v, 1, 1u << 22, out.sessions))
        return bad("--compare-sessions", v, "expected 1-4194304");
      break;
    default: return "internal: not a compare option";
  }
  return {};
}

}  // namespace

std::string copy_usage() {
  return R"(Usage: tcpcopy -x TRANSFERS (-s INTERCEPTS | --reply-interface IFS) [options]

Replays live TCP sessions seen on this (online) server against a target
server. Replies are taken away on the target by intercept and come back
over a control channel.

Required:
  -x, --transfer LIST        [srcIP:]srcPort-dstIP:dstPort[,...]  online port -> target
                             (IPv6 in brackets: [2001:db8::2]:80)
  -s, --intercept LIST       intercept addresses ip[:port][,...]
  or
      --reply-interface IF[,IF...]
                             architecture 1, no intercept: the target routes its
                             replies to this host, tcpcopy captures them on these
                             interfaces and the kernel drops them (needs -c with
                             addresses not local here, and ip_forward off)

Control channel:
  -p, --intercept-port PORT  port for -s entries without one (default 36524)
  -C, --connections N        connections to each intercept, 1-11 (default 2)
  -L, --lonely               keep running when intercepts go away (always on;
                             accepted for compatibility)
      --secret-file FILE     shared secret for the intercepts (HMAC-SHA256
                             challenge, both ways); FILE must not be readable
                             by others

Session emulation:
  -M, --mtu BYTES            largest packet sent to the target (default 1500)
  -D, --mss BYTES            MSS written into faked SYNs (default 1460)
  -t, --session-timeout S    drop a session whose target stays silent S seconds
                             while it waits for it (default 120)
  -k, --idle-timeout S       drop a session idle for S seconds (default 3600)
  -R, --rto MS               initial retransmission timeout (default 200)
      --syn-retries N        SYN retransmissions before a copy is given up, 0-15,
                             backing off from -R to 30 s (default 9: about 80 s,
                             as patient as a client's connect)
  -O, --only-full-sessions   replay only sessions whose SYN was seen
      --no-hold              send each request at once instead of waiting for
                             the target's answer to the previous one
      --hold-timeout MS      target silence after which a waiting request goes anyway
                             (default 2000)
      --port-wait MS         a connection whose client port copies of earlier
                             ones still hold queues this long for it, then takes
                             a port of --move-ports; 0-60000, 0 = at once
                             (default 10000)
      --move-ports LOW-HIGH  client ports for copies that cannot keep their own,
                             taken in turn (default 1024-32767: below the
                             ephemeral ranges clients use)

Traffic shaping:
  -n, --copies N             send N copies of every session, 1-1023 (default 1); each
                             copy uses another client port
  -f, --instance N           shift client ports by instance N, 0-1023, so several
                             tcpcopy instances replaying to one target do not collide
  -r, --percentage P         replay P% of the sessions, 1-100 (default 100), chosen
                             per session by a hash of client address and port
  -g, --gradually[=S]        ramp the share up from 0 over S seconds (default 60);
                             a session first seen before its turn joins mid-stream
  -c, --client-address LIST  client addresses the target sees: a list
                             (a.b.c.d,...; each real client keeps one) or a.b.c.x
                             (x = the real client's last octet)
  -H, --local-address ADDR   address that replaces loopback client addresses
                             (without it, loopback clients are skipped)

Link layer (libpcap; without these, raw sockets capture and send):
  -i, --interface IF[,IF...] capture requests with libpcap on these interfaces
  -F, --filter EXPR          BPF filter for -i or --pcap-file (default for -i:
                             tcp and (dst port P or ...) with the -x ports, and
                             dst host terms when every -x names its address)
  -B, --buffer-size MB       capture ring per interface, 1-4096 (default 16)
  -S, --snaplen BYTES        bytes kept per captured packet, 64-262144 (default
                             262144); a packet cut by it is not replayed
  -o, --output-interface IF  send whole frames on this Ethernet interface (one
                             send() per batch from a transmit ring), past
                             routing, netfilter and conntrack
      --dst-mac MAC          next hop for -o (default: each target's entry on
                             IF in /proc/net/arp, looked up at start; IPv4 only)

Offline replay:
      --pcap-file FILE       replay the sessions in a capture file (pcap or
                             pcapng: Ethernet, VLAN, Linux cooked v1/v2, raw IP)
                             against the target, then exit
  -a, --accelerate N         replay N times faster, 1-1000 (default 1)
  -I, --idle-threshold MS    cut gaps between packets longer than MS to MS
      --repeat N             replay the file N times, 1-1000000 (default 1)

Answer comparison (off unless one of these is given):
      --compare              compare each exchange (request, then answer) with
                             the online server's answer: counters, metrics
      --compare-log FILE     write the exchanges that differ, JSON Lines
      --compare-all FILE     write every exchange compared, JSON Lines
      --compare-report FILE  keep an HTML report in FILE, rewritten every few
                             seconds and at exit
      --compare-protocol P   how answers are read: auto (from each session's
                             first bytes, the default), http, redis or bytes;
                             or per online port: 80=http,6379=redis
      --compare-size-tolerance PCT[,BYTES]
                             sizes differ beyond PCT% of online's size and
                             BYTES bytes (default 10,64)
      --compare-slower RATIO[,MS]
                             slower beyond RATIO times online's latency and MS
                             milliseconds more (default 2,50)
      --compare-sessions N   sessions compared at once, 1-4194304 (default 16384);
                             more are replicated but not compared

Resources:
  -m, --memory MB            cap on buffered client payload (default 512)
      --max-sessions N       cap on concurrent sessions (default 262144). When
                             the table is full, a closed session or else the
                             least recently active one with nothing in flight
                             makes room (sessions_evicted); if none may go,
                             the new session is refused (sessions_lost{session_cap})
      --batch-wait US        after a wakeup for packets, wait US microseconds
                             before the next, so packets are handled in batches:
                             fewer wakeups, at most US of added delay to the
                             copy; 0-10000, 0 = off (default 200)
      --sched-policy P       batch: SCHED_BATCH, the daemon's wakeups never
                             preempt the production server, it runs in fewer,
                             longer turns (default); normal: SCHED_OTHER

Running:
  -l, --log FILE             log file (default: stderr)
      --log-level LEVEL      debug, info, warn or error (default info)
  -d, --daemon               run in the background
  -P, --pid-file FILE        write the process id to FILE
      --stats-interval S     log counters every S seconds, 0 = only at exit (default 10)
      --metrics ADDR:PORT    serve the counters for Prometheus at http://ADDR:PORT/metrics
      --check                check this host and the intercepts, print what is wrong
                             and how to fix it, then exit: 0 ready, 1 problems found
  -h, --help                 this text
  -v, --version              print the version
)";
}

ParseResult parse_copy_options(int argc, char* const argv[], CopyOptions& out) {
  ParseResult r;
  auto fail = [&r](std::string msg) {
    r.action = ParseResult::Action::kError;
    r.error = std::move(msg);
    return r;
  };
  std::string transfers, intercepts;
  uint16_t intercept_port = wire::kDefaultPort;
  optind = 0;  // reset getopt (also re-entrant for tests)
  opterr = 0;
  int c;
  unsigned link_given = 0;
  while ((c = getopt_long(argc, argv, kShortOptions, kLongOptions, nullptr)) != -1) {
    const char* v = optarg;
    if (is_compare_option(c)) {
      if (std::string err = parse_compare_option(c, v, out.compare); !err.empty()) return fail(err);
      continue;
    }
    if (is_link_option(c)) {
      if (std::string err = parse_link_option(c, v, out.link, link_given); !err.empty()) return fail(err);
      continue;
    }
    switch (c) {
      case 'x': transfers = v; break;
      case 's': intercepts = v; break;
      case 'p':
        if (!parse_port(v, intercept_port)) return fail(bad("-p/--intercept-port", v, "expected a port 1-65535"));
        break;
      case 'C':
        if (!parse_number<size_t>(v, 1, 11, out.connections))
          return fail(bad("-C/--connections", v, "expected 1-11"));
        break;
      case 'M':
        if (!parse_number<uint16_t>(v, 576, 65535, out.engine.mtu))
          return fail(bad("-M/--mtu", v, "expected 576-65535"));
        break;
      case 'D':
        if (!parse_number<uint16_t>(v, 88, 65495, out.engine.fake_syn_mss))
          return fail(bad("-D/--mss", v, "expected 88-65495"));
        break;
      case 't': {
        uint32_t s = 0;
        if (!parse_number<uint32_t>(v, 1, 86400, s)) return fail(bad("-t/--session-timeout", v, "expected 1-86400 seconds"));
        out.engine.session_timeout = std::chrono::seconds(s);
        break;
      }
      case 'k': {
        uint32_t s = 0;
        if (!parse_number<uint32_t>(v, 1, 864000, s)) return fail(bad("-k/--idle-timeout", v, "expected 1-864000 seconds"));
        out.engine.idle_timeout = std::chrono::seconds(s);
        break;
      }
      case 'R': {
        uint32_t ms = 0;
        if (!parse_number<uint32_t>(v, 10, 60000, ms)) return fail(bad("-R/--rto", v, "expected 10-60000 ms"));
        out.engine.initial_rto = std::chrono::milliseconds(ms);
        if (out.engine.max_rto < out.engine.initial_rto) out.engine.max_rto = out.engine.initial_rto;
        break;
      }
      case 'm': {
        uint32_t mb = 0;
        if (!parse_number<uint32_t>(v, 1, 1u << 20, mb)) return fail(bad("-m/--memory", v, "expected 1-1048576 MB"));
        out.engine.buffer_bytes = size_t{mb} << 20;
        break;
      }
      case kMaxSessions:
        if (!parse_number<uint32_t>(v, 1, 1u << 24, out.engine.max_sessions))
          return fail(bad("--max-sessions", v, "expected 1-16777216"));
        break;
      case 'O': out.engine.only_full_sessions = true; break;
      case kNoHold: out.engine.hold_requests = false; break;
      case kHoldTimeout: {
        uint32_t ms = 0;
        if (!parse_number<uint32_t>(v, 1, 600000, ms)) return fail(bad("--hold-timeout", v, "expected 1-600000 ms"));
        out.engine.hold_timeout = std::chrono::milliseconds(ms);
        break;
      }
      case kSynRetries:
        if (!parse_number<uint8_t>(v, 0, 15, out.engine.max_syn_retransmits))
          return fail(bad("--syn-retries", v, "expected 0-15"));
        break;
      case kPortWait: {
        uint32_t ms = 0;
        if (!parse_number<uint32_t>(v, 0, 60000, ms)) return fail(bad("--port-wait", v, "expected 0-60000 ms"));
        out.engine.port_wait = std::chrono::milliseconds(ms);
        break;
      }
      case kMovePorts: {
        const std::string_view text(v);
        const size_t dash = text.find('-');
        const std::string low(text.substr(0, dash));
        const std::string high(dash == std::string_view::npos ? "" : text.substr(dash + 1));
        PortRange range;
        if (dash == std::string_view::npos || !parse_number<uint16_t>(low.c_str(), 1, 65535, range.lo) ||
            !parse_number<uint16_t>(high.c_str(), 1, 65535, range.hi) || range.hi < range.lo)
          return fail(bad("--move-ports", v, "expected LOW-HIGH, 1 <= LOW <= HIGH <= 65535"));
        out.engine.move_ports = range;
        break;
      }
      case 'L': break;  // tcpcopy never exits when an intercept goes away
      case 'n':
        if (!parse_number<uint16_t>(v, 1, 1023, out.engine.copies)) return fail(bad("-n/--copies", v, "expected 1-1023"));
        break;
      case 'f':
        if (!parse_number<uint16_t>(v, 0, 1023, out.engine.instance)) return fail(bad("-f/--instance", v, "expected 0-1023"));
        break;
      case 'r':
        if (!parse_number<uint8_t>(v, 1, 100, out.engine.sample_percent))
          return fail(bad("-r/--percentage", v, "expected 1-100"));
        break;
      case 'g': {
        uint32_t s = 60;
        if (v && !parse_number<uint32_t>(v, 1, 86400, s)) return fail(bad("-g/--gradually", v, "expected 1-86400 seconds"));
        out.engine.ramp = std::chrono::seconds(s);
        break;
      }
      case 'c':
        if (std::string err = ClientMap::parse(v, out.engine.client_map); !err.empty())
          return fail(bad("-c/--client-address", v, err));
        break;
      case 'H': {
        auto a = IpAddress::parse(v);
        if (!a || a->is_unspecified()) return fail(bad("-H/--local-address", v, "expected an IP address"));
        out.engine.local_address = *a;
        break;
      }
      case 'l': out.log_file = v; break;
      case kLogLevel:
        if (!parse_log_level(v, out.log_level)) return fail(bad("--log-level", v, "expected debug, info, warn or error"));
        break;
      case 'd': out.daemon = true; break;
      case 'P': out.pid_file = v; break;
      case kStatsInterval: {
        uint32_t s = 0;
        if (!parse_number<uint32_t>(v, 0, 86400, s)) return fail(bad("--stats-interval", v, "expected 0-86400 seconds"));
        out.stats_interval = std::chrono::seconds(s);
        break;
      }
      case kBatchWait: {
        uint32_t us = 0;
        if (!parse_number<uint32_t>(v, 0, 10000, us)) return fail(bad("--batch-wait", v, "expected 0-10000 microseconds"));
        out.batch_wait = std::chrono::microseconds(us);
        break;
      }
      case kSchedPolicy: {
        const std::optional<SchedPolicy> p = parse_sched_policy(v);
        if (!p) return fail(bad("--sched-policy", v, "expected batch or normal"));
        out.sched_policy = *p;
        break;
      }
      case kMetrics: {
        std::string err;
        out.metrics = parse_endpoint(v, 0, err);
        if (!out.metrics) return fail(bad("--metrics", v, err + " (expected ADDR:PORT, e.g. 127.0.0.1:9101)"));
        break;
      }
      case kCheck: out.check = true; break;
      case kReplyInterface: {  // the list syntax of -i, read by -i's parser
        LinkOptions list;
        unsigned unused = 0;
        if (!parse_link_option('i', v, list, unused).empty())
          return fail(bad("--reply-interface", v, "expected interface names IF[,IF...], each once"));
        out.reply_interfaces = std::move(list.capture_interfaces);
        break;
      }
      case kSecretFile:
        if (*v == '\0') return fail(bad("--secret-file", v, "expected a file name"));
        out.secret_file = v;
        break;
      case 'h': r.action = ParseResult::Action::kHelp; return r;
      case 'v': r.action = ParseResult::Action::kVersion; return r;
      case ':': return fail(std::string("option ") + argv[optind - 1] + " needs a value");
      default: return fail(std::string("unknown option ") + argv[optind - 1]);
    }
  }
  if (optind < argc) return fail(std::string("unexpected argument '") + argv[optind] + "'");
  if (std::string err = check_link_options(link_given); !err.empty()) return fail(err);
  if (transfers.empty()) return fail("missing -x/--transfer (e.g. -x 80-10.0.0.2:80)");
  if (std::string err = TransferMap::parse(transfers, out.engine.transfers); !err.empty())
    return fail("invalid value '" + transfers + "' for -x/--transfer: " + err);
  if (!out.reply_interfaces.empty()) {
    if (!intercepts.empty()) return fail("-s/--intercept and --reply-interface exclude each other (intercept, or replies captured here)");
  } else if (intercepts.empty()) {
    return fail("missing -s/--intercept (the intercept address, e.g. -s 10.0.0.2) or --reply-interface");
  }
  std::string err;
  if (!intercepts.empty()) {
    auto list = parse_endpoint_list(intercepts, intercept_port, err);
    if (!list) return fail("invalid value '" + intercepts + "' for -s/--intercept: " + err);
    out.intercepts = *list;
  }
  // The comparison reads the first bytes of the target's answers.
  if (out.compare.enabled) out.reply_prefix = compare::kAnswerPrefix;
  if (out.daemon && !out.log_file.empty() && out.log_file.front() != '/')
    return fail("invalid value '" + out.log_file + "' for -l/--log: a daemon needs an absolute path");
  return r;
}

}  // namespace tc

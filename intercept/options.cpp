#include "intercept/options.h"

#include <getopt.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "common/pcap_io.h"

namespace tc::intercept {

namespace {

enum LongOnly : int {
  kOptMode = 1000,
  kOptQueueNum,
  kOptLogLevel,
  kOptStatsInterval,
  kOptMetrics,
  kOptCheck,
  kOptCheckClient,
  kOptCheckPort,
  kOptAllow,
  kOptSecretFile,
  kOptTargetPorts,
  kOptQueueBalance,
  kOptBatchWait,
  kOptSchedPolicy,
};

constexpr const char* kShortOptions = ":x:p:b:q:s:t:l:dP:hvi:F:B:S:";

const option kLongOptions[] = {
    {"mode", required_argument, nullptr, kOptMode},
    {"passlist", required_argument, nullptr, 'x'},
    {"port", required_argument, nullptr, 'p'},
    {"bind", required_argument, nullptr, 'b'},
    {"queue-num", required_argument, nullptr, kOptQueueNum},
    {"queue-balance", required_argument, nullptr, kOptQueueBalance},
    {"queue-maxlen", required_argument, nullptr, 'q'},
    {"hash-size", required_argument, nullptr, 's'},
    {"route-timeout", required_argument, nullptr, 't'},
    {"log", required_argument, nullptr, 'l'},
    {"log-level", required_argument, nullptr, kOptLogLevel},
    {"daemon", no_argument, nullptr, 'd'},
    {"pid-file", required_argument, nullptr, 'P'},
    {"stats-interval", required_argument, nullptr, kOptStatsInterval},
    {"batch-wait", required_argument, nullptr, kOptBatchWait},
    {"sched-policy", required_argument, nullptr, kOptSchedPolicy},
    {"metrics", required_argument, nullptr, kOptMetrics},
    {"check", no_argument, nullptr, kOptCheck},
    {"check-client", required_argument, nullptr, kOptCheckClient},
    {"check-port", required_argument, nullptr, kOptCheckPort},
    {"allow", required_argument, nullptr, kOptAllow},
    {"secret-file", required_argument, nullptr, kOptSecretFile},
    {"interface", required_argument, nullptr, 'i'},
    {"filter", required_argument, nullptr, 'F'},
    {"buffer-size", required_argument, nullptr, 'B'},
    {"snaplen", required_argument, nullptr, 'S'},
    {"target-ports", required_argument, nullptr, kOptTargetPorts},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'v'},
    {nullptr, 0, nullptr, 0},
};

// "--port (-p)" or "--queue-num": how error messages name an option.
std::string option_name(int code) {
  for (const option* o = kLongOptions; o->name; ++o) {
    if (o->val != code) continue;
    std::string name = std::string("--") + o->name;
    if (code < 256) name += std::string(" (-") + static_cast<char>(code) + ")";
    return name;
  }
  return std::string("-") + static_cast<char>(code);
}

std::string bad_value(int code, std::string_view value, std::string_view expected) {
  return "invalid value '" + std::string(value) + "' for " + option_name(code) + ": expected " +
         std::string(expected);
}

// Accepts plain decimal digits only: "+1", " 1", "1s" and "0x10" are errors.
bool parse_uint(std::string_view text, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

// Comma-separated addresses; every element must parse.
bool parse_address_list(std::string_view text, std::vector<IpAddress>& out) {
  std::vector<IpAddress> list;
  while (true) {
    const size_t comma = text.find(',');
    auto addr = IpAddress::parse(text.substr(0, comma));
    if (!addr) return false;
    list.push_back(*addr);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out.insert(out.end(), list.begin(), list.end());
  return true;
}

// Comma-separated ports 1-65535; every element must parse.
bool parse_port_list(std::string_view text, std::vector<uint16_t>& out) {
  std::vector<uint16_t> list;
  while (true) {
    const size_t comma = text.find(',');
    uint64_t v = 0;
    if (!parse_uint(text.substr(0, comma), 1, 65535, v)) return false;
    list.push_back(static_cast<uint16_t>(v));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out.insert(out.end(), list.begin(), list.end());
  return true;
}

template <typename T>
std::string set_uint(int code, const char* value, uint64_t lo, uint64_t hi, T& field) {
  uint64_t v = 0;
  if (!parse_uint(value, lo, hi, v))
    return bad_value(code, value, std::to_string(lo) + ".." + std::to_string(hi));
  field = static_cast<T>(v);
  return {};
}

// Comma-separated interface names, each given once.
bool parse_interface_list(std::string_view text, std::vector<std::string>& out) {
  std::vector<std::string> list;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    if (name.empty() || name.size() >= IFNAMSIZ || name.find_first_of("/ \t") != std::string_view::npos) return false;
    if (std::find(list.begin(), list.end(), name) != list.end()) return false;
    list.emplace_back(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out = std::move(list);
  return true;
}

// "A:B", A <= B, at most kMaxQueues queues.
constexpr unsigned kMaxQueues = 64;
bool parse_queue_range(std::string_view text, uint16_t& first, uint16_t& count) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned a = 0;
  unsigned b = 0;
  const auto number = [](std::string_view t, unsigned& v) {
    if (t.empty() || t.size() > 5) return false;
    v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v <= 65535;
  };
  if (!number(text.substr(0, colon), a) || !number(text.substr(colon + 1), b) || b < a || b - a + 1 > kMaxQueues)
    return false;
  first = static_cast<uint16_t>(a);
  count = static_cast<uint16_t>(b - a + 1);
  return true;
}

// Options that belong to one mode, to refuse them in the other.
enum Given : unsigned {
  kGivenQueue = 1u << 0,      // --queue-num, -q
  kGivenPasslist = 1u << 1,   // -x
  kGivenCapture = 1u << 2,    // -i, -F, -B, -S, --target-ports
  kGivenQueueNum = 1u << 3,
  kGivenQueueBalance = 1u << 4,
};

std::string check_mode(const Options& o, unsigned given) {
  if (o.mode == Mode::kAssistant) {
    if (o.interfaces.empty()) return "--mode assistant needs -i/--interface (where the target's replies arrive)";
    if (given & kGivenQueue)
      return "--queue-num, --queue-balance and -q/--queue-maxlen only apply to --mode nfqueue";
    if (given & kGivenPasslist)
      return "-x/--passlist only applies to --mode nfqueue (an assistant host lets no reply through)";
  } else if (given & kGivenCapture) {
    return "-i, -F, -B, -S and --target-ports only apply to --mode assistant";
  }
  return {};
}

}  // namespace

std::string parse_options(int argc, char* const argv[], Options& out) {
  out = Options{};
  // getopt keeps its state in globals; optind = 0 makes glibc start afresh
  // so the parser can run more than once (tests do).
  optind = 0;
  opterr = 0;
  unsigned given = 0;
  while (true) {
    int long_index = -1;
    const int c = getopt_long(argc, argv, kShortOptions, kLongOptions, &long_index);
    if (c == -1) break;
    std::string err;
    switch (c) {
      case kOptMode:
        if (std::string_view(optarg) == "nfqueue") out.mode = Mode::kNfqueue;
        else if (std::string_view(optarg) == "assistant") out.mode = Mode::kAssistant;
        else err = bad_value(c, optarg, "nfqueue or assistant");
        break;
      case 'i':
        given |= kGivenCapture;
        if (!parse_interface_list(optarg, out.interfaces))
          err = bad_value(c, optarg, "interface names separated by commas, each once");
        break;
      case 'F':
        given |= kGivenCapture;
        if (*optarg == '\0') {
          err = bad_value(c, optarg, "a filter expression");
        } else if (std::string why = check_filter_syntax(optarg); !why.empty()) {
          err = bad_value(c, optarg, "a valid filter expression (" + why + ")");
        }
        out.filter = optarg;
        break;
      case 'B': given |= kGivenCapture; err = set_uint(c, optarg, 1, 4096, out.buffer_mb); break;
      case 'S': given |= kGivenCapture; err = set_uint(c, optarg, 64, 65535, out.snaplen); break;
      case kOptTargetPorts:
        given |= kGivenCapture;
        if (!parse_port_list(optarg, out.target_ports)) err = bad_value(c, optarg, "ports 1-65535 separated by commas");
        break;
      case 'x':
        given |= kGivenPasslist;
        if (!parse_address_list(optarg, out.passlist))
          err = bad_value(c, optarg, "IP addresses separated by commas");
        break;
      case 'p': err = set_uint(c, optarg, 1, 65535, out.port); break;
      case 'b':
        if (!parse_address_list(optarg, out.bind))
          err = bad_value(c, optarg, "IP addresses separated by commas");
        break;
      case kOptQueueNum:
        if (given & kGivenQueueBalance) err = "--queue-num and --queue-balance exclude each other";
        given |= kGivenQueue | kGivenQueueNum;
        if (err.empty()) err = set_uint(c, optarg, 0, 65535, out.queue_num);
        break;
      case kOptQueueBalance:
        if (given & kGivenQueueNum) err = "--queue-num and --queue-balance exclude each other";
        given |= kGivenQueue | kGivenQueueBalance;
        if (err.empty() && !parse_queue_range(optarg, out.queue_num, out.queue_count))
          err = bad_value(c, optarg, "FIRST:LAST, FIRST <= LAST, at most 64 queues (e.g. 0:3)");
        break;
      case 'q': given |= kGivenQueue; err = set_uint(c, optarg, 1, 1u << 24, out.queue_maxlen); break;
      case 's': err = set_uint(c, optarg, 1, 1u << 24, out.hash_size); break;
      case 't': err = set_uint(c, optarg, 1, 86400, out.route_timeout_s); break;
      case 'l':
        if (*optarg == '\0') err = bad_value(c, optarg, "a file name");
        out.log_file = optarg;
        break;
      case kOptLogLevel:
        if (!parse_log_level(optarg, out.log_level)) err = bad_value(c, optarg, "debug, info, warn or error");
        break;
      case 'd': out.daemon = true; break;
      case 'P':
        if (*optarg == '\0') err = bad_value(c, optarg, "a file name");
        out.pid_file = optarg;
        break;
      case kOptStatsInterval: err = set_uint(c, optarg, 0, 86400, out.stats_interval_s); break;
      case kOptBatchWait: err = set_uint(c, optarg, 0, 10000, out.batch_wait_us); break;
      case kOptSchedPolicy:
        if (const std::optional<SchedPolicy> p = parse_sched_policy(optarg)) out.sched_policy = *p;
        else err = bad_value(c, optarg, "batch or normal");
        break;
      case kOptMetrics: {
        std::string why;
        out.metrics = parse_endpoint(optarg, 0, why);
        if (!out.metrics) err = bad_value(c, optarg, "ADDR:PORT, e.g. 127.0.0.1:9102 (" + why + ")");
        break;
      }
      case kOptCheck: out.check = true; break;
      case kOptCheckClient:
        if (!parse_address_list(optarg, out.check_clients))
          err = bad_value(c, optarg, "client IP addresses separated by commas");
        break;
      case kOptCheckPort:
        if (!parse_port_list(optarg, out.check_ports)) err = bad_value(c, optarg, "ports 1-65535 separated by commas");
        break;
      case kOptAllow: {
        if (std::string_view(optarg) == "any") {
          out.allow_any = true;
          break;
        }
        std::string why;
        auto list = parse_prefix_list(optarg, why);
        if (!list) err = bad_value(c, optarg, "ADDR[/PREFIX][,...] (" + why + ")");
        else out.allow.insert(out.allow.end(), list->begin(), list->end());
        break;
      }
      case kOptSecretFile:
        if (*optarg == '\0') err = bad_value(c, optarg, "a file name");
        out.secret_file = optarg;
        break;
      case 'h': out.help = true; break;
      case 'v': out.version = true; break;
      case ':':
        return "option " + option_name(optopt) + " needs a value";
      default:
        // optopt names an unknown short flag; for an unknown long one it is 0
        // and the offending word is the last one getopt consumed.
        if (optopt != 0) return std::string("unknown option -") + static_cast<char>(optopt);
        return std::string("unknown option ") + argv[optind - 1];
    }
    if (!err.empty()) return err;
  }
  if (optind < argc) return std::string("unexpected argument '") + argv[optind] + "'";
  if (!out.check && !out.check_clients.empty()) return "--check-client needs --check";
  if (!out.check && !out.check_ports.empty()) return "--check-port needs --check";
  if (out.allow_any && !out.allow.empty())
    return "--allow any opens the control port to every address: it cannot be combined with an address list";
  if (out.help || out.version) return {};
  return check_mode(out, given);
}

ControlExposure control_exposure(const Options& o) {
  ControlExposure e;
  e.bind = o.bind;
  if (o.allow_any || !o.allow.empty() || !o.secret_file.empty() || !o.bind.empty()) return e;
  e.bind = {*IpAddress::parse("127.0.0.1"), *IpAddress::parse("::1")};
  e.loopback_default = true;
  return e;
}

std::string usage_text(const char* program) {
  std::string u = "Usage: ";
  u += program;
  u += R"( [options]

Takes the target's replies to replayed sessions, keeps them from the real
clients, and sends their IP+TCP headers to the tcpcopy instance that
registered the session. nfqueue mode runs on the target and takes the
replies from NFQUEUE; assistant mode runs on a host of the target's subnet
that the target routes the replies to, and captures them there with libpcap.

      --mode MODE           nfqueue (default) or assistant
  -x, --passlist IP[,IP..]  nfqueue: client addresses whose replies are let through
  -p, --port PORT           control channel port (default 36524)
  -b, --bind IP[,IP..]      addresses to listen on (default: all, IPv4 and IPv6,
                            with --allow or --secret-file; loopback only without)
      --allow ADDR[/LEN][,..] accept control connections only from these
                            addresses or ranges
      --allow any           accept control connections from every address; without
                            --allow, --secret-file or -b intercept listens on
                            loopback only
      --secret-file FILE    shared secret tcpcopy must prove (HMAC-SHA256
                            challenge); FILE must not be readable by others
      --queue-num N         nfqueue: NFQUEUE number to bind (default 0)
      --queue-balance A:B   nfqueue: bind queues A..B, a thread each (the rule's
                            --queue-balance A:B; at most 64)
  -q, --queue-maxlen N      nfqueue: NFQUEUE maximum length in packets (default 4096)
  -i, --interface IF[,IF..] assistant: interfaces the target's replies arrive on (required)
  -F, --filter EXPR         assistant: BPF filter for the replies (default: tcp and
                            (src port P or ...) with --target-ports; without them: tcp)
      --target-ports P[,P..] assistant: the target's service ports, for the default filter
  -B, --buffer-size MB      assistant: capture ring per interface, 1-4096 (default 16)
  -S, --snaplen BYTES       assistant: bytes kept per reply, 64-65535 (default 576:
                            headers and the longest payload prefix tcpcopy asks for)
  -s, --hash-size N         expected number of sessions (default 65536)
  -t, --route-timeout SECS  forget a session after SECS without traffic (default 120)
      --batch-wait US       after a wakeup for replies, wait US microseconds before
                            the next, so replies are handled in batches: fewer
                            wakeups, at most US of added delay; 0-10000, 0 = off
                            (default 200)
      --sched-policy P      batch: SCHED_BATCH, wakeups for replies never preempt
                            the target's server, fewer and longer turns (default);
                            normal: SCHED_OTHER
  -l, --log FILE            log file (default stderr; SIGHUP reopens it)
      --log-level LEVEL     debug, info, warn or error (default info)
  -d, --daemon              run in the background
  -P, --pid-file FILE       write the process id to FILE
      --stats-interval SECS log counters every SECS (default 10, 0: off)
      --metrics ADDR:PORT   serve the counters for Prometheus at http://ADDR:PORT/metrics

Deployment check (prints what is wrong and how to fix it, then exits:
0 ready, 1 problems found; changes nothing):
      --check               check privileges, the NFQUEUE rule, the queue,
                            the control port and the host's routing settings
      --check-port P[,P..]  target ports whose replies the rule must queue
      --check-client IP[,IP..]
                            client addresses the target must have a route to
  -h, --help                show this text
  -v, --version             show the version

Example rule for nfqueue mode (replies of a web server, loopback excluded):
  iptables -A OUTPUT -p tcp --sport 80 ! -o lo -j NFQUEUE --queue-num 0

assistant mode: the target routes the client addresses to this host
  (ip route add CLIENT_NET via THIS_HOST), which must not forward
  (sysctl -w net.ipv4.ip_forward=0; intercept warns when it does):
  intercept --mode assistant -i eth1 --target-ports 80
)";
  return u;
}

}  // namespace tc::intercept

#include "copy/options.h"

#include <optional>
#include <string_view>

#include "common/options/option_values.h"
#include "common/pcap_io.h"
#include "common/wire.h"

namespace tc {

namespace {

enum CopyOption : int {
  kNoHold = kProgramOptionCode,
  kHoldTimeout,
  kMaxSessions,
  kDstMac,
  kPcapFile,
  kRepeat,
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
  kWorkers,
};

// tcpcopy's options in --help order; the shared ones come from
// process_option().
OptionTable copy_table() {
  std::vector<OptionSpec> specs{
      option_heading("Required:"),
      {'x', "transfer", OptionArg::kRequired, "LIST",
       "[srcIP:]srcPort-dstIP:dstPort[,...]  online port -> target\n"
       "(IPv6 in brackets: [2001:db8::2]:80)"},
      {'s', "intercept", OptionArg::kRequired, "LIST", "intercept addresses ip[:port][,...]"},
      {kReplyInterface, "reply-interface", OptionArg::kRequired, "IF[,IF...]",
       "instead of -s, architecture 1, no intercept: the\n"
       "target routes its replies to this host, tcpcopy\n"
       "captures them on these interfaces and the kernel\n"
       "drops them (needs -c with addresses not local here,\n"
       "and ip_forward off)"},
      option_heading("Control channel:"),
      {'p', "intercept-port", OptionArg::kRequired, "PORT", "port for -s entries without one (default 36524)"},
      {'C', "connections", OptionArg::kRequired, "N", "connections to each intercept, 1-11 (default 2)"},
      {'L', "lonely", OptionArg::kNone, "",
       "keep running when intercepts go away (always on;\n"
       "accepted for compatibility)"},
      process_option(kOptSecretFile),
      option_heading("Cores:"),
      {kWorkers, "workers", OptionArg::kRequired, "N",
       "run N session engines, 1-16 (default 1), a thread\n"
       "each: the packet ring gives each its share of the\n"
       "client connections (by a hash of the client port);\n"
       "each has its own -C connections to every intercept;\n"
       "the session and buffer limits are shared out"},
      option_heading("Session emulation:"),
      {'M', "mtu", OptionArg::kRequired, "BYTES", "largest packet sent to the target (default 1500)"},
      {'D', "mss", OptionArg::kRequired, "BYTES", "MSS written into faked SYNs (default 1460)"},
      {'t', "session-timeout", OptionArg::kRequired, "S",
       "drop a session whose target stays silent S seconds\n"
       "while it waits for it (default 120)"},
      {'k', "idle-timeout", OptionArg::kRequired, "S", "drop a session idle for S seconds (default 3600)"},
      {'R', "rto", OptionArg::kRequired, "MS", "initial retransmission timeout (default 200)"},
      {kSynRetries, "syn-retries", OptionArg::kRequired, "N",
       "SYN retransmissions before a copy is given up, 0-15,\n"
       "backing off from -R to 30 s (default 9: about 80 s,\n"
       "as patient as a client's connect)"},
      {'O', "only-full-sessions", OptionArg::kNone, "", "replay only sessions whose SYN was seen"},
      {kNoHold, "no-hold", OptionArg::kNone, "",
       "send each request at once instead of waiting for\n"
       "the target's answer to the previous one"},
      {kHoldTimeout, "hold-timeout", OptionArg::kRequired, "MS",
       "target silence after which a waiting request goes anyway\n"
       "(default 2000)"},
      {kPortWait, "port-wait", OptionArg::kRequired, "MS",
       "a connection whose client port copies of earlier\n"
       "ones still hold queues this long for it, then takes\n"
       "a port of --move-ports; 0-60000, 0 = at once\n"
       "(default 10000)"},
      {kMovePorts, "move-ports", OptionArg::kRequired, "LOW-HIGH",
       "client ports for copies that cannot keep their own,\n"
       "taken in turn (default 1024-32767: below the\n"
       "ephemeral ranges clients use)"},
      option_heading("Traffic shaping:"),
      {'n', "copies", OptionArg::kRequired, "N",
       "send N copies of every session, 1-1023 (default 1); each\n"
       "copy uses another client port"},
      {'f', "instance", OptionArg::kRequired, "N",
       "shift client ports by instance N, 0-1023, so several\n"
       "tcpcopy instances replaying to one target do not collide"},
      {'r', "percentage", OptionArg::kRequired, "P",
       "replay P% of the sessions, 1-100 (default 100), chosen\n"
       "per session by a hash of client address and port"},
      {'g', "gradually", OptionArg::kOptional, "[=S]",
       "ramp the share up from 0 over S seconds (default 60);\n"
       "a session first seen before its turn joins mid-stream"},
      {'c', "client-address", OptionArg::kRequired, "LIST",
       "client addresses the target sees: a list\n"
       "(a.b.c.d,...; each real client keeps one) or a.b.c.x\n"
       "(x = the real client's last octet)"},
      {'H', "local-address", OptionArg::kRequired, "ADDR",
       "address that replaces loopback client addresses\n"
       "(without it, loopback clients are skipped)"},
      option_heading("Link layer (without these, a packet ring captures and a transmit ring\non the route to each target sends, raw sockets where it cannot):"),
      {'i', "interface", OptionArg::kRequired, "IF[,IF...]", "capture requests with libpcap on these interfaces"},
      {'F', "filter", OptionArg::kRequired, "EXPR",
       "BPF filter for -i or --pcap-file (default for -i:\n"
       "tcp and (dst port P or ...) with the -x ports, and\n"
       "dst host terms when every -x names its address)"},
      {'B', "buffer-size", OptionArg::kRequired, "MB", "capture ring per interface, 1-4096 (default 16)"},
      {'S', "snaplen", OptionArg::kRequired, "BYTES",
       "bytes kept per captured packet, 64-262144 (default\n"
       "262144); a packet cut by it is not replayed"},
      {'o', "output-interface", OptionArg::kRequired, "IF",
       "send whole frames on this Ethernet interface (one\n"
       "send() per batch from a transmit ring), past\n"
       "routing, netfilter and conntrack"},
      {kDstMac, "dst-mac", OptionArg::kRequired, "MAC",
       "next hop for -o (default: each target's entry on\n"
       "IF in /proc/net/arp, looked up at start; IPv4 only)"},
      option_heading("Offline replay:"),
      {kPcapFile, "pcap-file", OptionArg::kRequired, "FILE",
       "replay the sessions in a capture file (pcap or\n"
       "pcapng: Ethernet, VLAN, Linux cooked v1/v2, raw IP)\n"
       "against the target, then exit"},
      {'a', "accelerate", OptionArg::kRequired, "N", "replay N times faster, 1-1000 (default 1)"},
      {'I', "idle-threshold", OptionArg::kRequired, "MS", "cut gaps between packets longer than MS to MS"},
      {kRepeat, "repeat", OptionArg::kRequired, "N", "replay the file N times, 1-1000000 (default 1)"},
      option_heading("Answer comparison (off unless one of these is given):"),
      {kCompare, "compare", OptionArg::kNone, "",
       "compare each exchange (request, then answer) with\n"
       "the online server's answer: counters, metrics"},
      {kCompareLog, "compare-log", OptionArg::kRequired, "FILE", "write the exchanges that differ, JSON Lines"},
      {kCompareAll, "compare-all", OptionArg::kRequired, "FILE", "write every exchange compared, JSON Lines"},
      {kCompareReport, "compare-report", OptionArg::kRequired, "FILE",
       "keep an HTML report in FILE, rewritten every few\n"
       "seconds and at exit"},
      {kCompareProtocol, "compare-protocol", OptionArg::kRequired, "P",
       "how answers are read: auto (from each session's\n"
       "first bytes, the default), http, redis or bytes;\n"
       "or per online port: 80=http,6379=redis"},
      {kCompareSizeTolerance, "compare-size-tolerance", OptionArg::kRequired, "PCT[,BYTES]",
       "sizes differ beyond PCT% of online's size and\n"
       "BYTES bytes (default 10,64)"},
      {kCompareSlower, "compare-slower", OptionArg::kRequired, "RATIO[,MS]",
       "slower beyond RATIO times online's latency and MS\n"
       "milliseconds more (default 2,50)"},
      {kCompareSessions, "compare-sessions", OptionArg::kRequired, "N",
       "sessions compared at once, 1-4194304 (default 16384);\n"
       "more are replicated but not compared"},
      option_heading("Resources:"),
      {'m', "memory", OptionArg::kRequired, "MB", "cap on buffered client payload (default 512)"},
      {kMaxSessions, "max-sessions", OptionArg::kRequired, "N",
       "cap on concurrent sessions (default 262144). When\n"
       "the table is full, a closed session or else the\n"
       "least recently active one with nothing in flight\n"
       "makes room (sessions_evicted); if none may go,\n"
       "the new session is refused (sessions_lost{session_cap})"},
      process_option(kOptBatchWait),
      process_option(kOptSchedPolicy),
  };
  specs.push_back(option_heading("Running:"));
  for (OptionSpec& s : running_options()) specs.push_back(s);
  specs.push_back(process_option(kOptCheck, "check this host and the intercepts, print what is\n"
                                            "wrong and how to fix it, then exit: 0 ready,\n1 problems found"));
  specs.push_back(process_option('h'));
  specs.push_back(process_option('v'));
  return OptionTable(std::move(specs));
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

std::string parse_link_option(const OptionTable& t, int c, const char* v, LinkOptions& link, unsigned& given) {
  switch (c) {
    case 'i':
      given |= kGivenInterface;
      if (std::string why = parse_interface_list(v, link.capture_interfaces); !why.empty())
        return t.bad_value(c, v, why);
      return {};
    case 'F':
      given |= kGivenFilter;
      if (*v == '\0') return t.bad_value(c, v, "expected a filter expression");
      if (std::string err = check_filter_syntax(v); !err.empty()) return t.bad_value(c, v, err);
      link.filter = v;
      return {};
    case 'B':
      given |= kGivenBuffer;
      if (!parse_number<int>(v, 1, 4096, link.buffer_mb)) return t.bad_value(c, v, "expected 1-4096 MB");
      return {};
    case 'S':
      given |= kGivenSnaplen;
      if (!parse_number<int>(v, 64, 262144, link.snaplen)) return t.bad_value(c, v, "expected 64-262144 bytes");
      return {};
    case 'o': {
      given |= kGivenOutput;
      std::vector<std::string> one;
      if (!parse_interface_list(v, one).empty() || one.size() != 1)
        return t.bad_value(c, v, "expected one interface name");
      if (one[0] == "any") return t.bad_value(c, v, "frames go out one Ethernet interface");
      link.output_interface = v;
      return {};
    }
    case kDstMac: {
      given |= kGivenDstMac;
      auto mac = MacAddress::parse(v);
      if (!mac) return t.bad_value(c, v, "expected a MAC address like 02:00:00:00:00:01");
      if (mac->is_zero() || mac->is_multicast()) return t.bad_value(c, v, "expected a unicast MAC address");
      link.dst_mac = mac;
      return {};
    }
    case kPcapFile:
      given |= kGivenPcapFile;
      if (*v == '\0') return t.bad_value(c, v, "expected a file name");
      link.pcap_file = v;
      return {};
    case 'a':
      given |= kGivenAccelerate;
      if (!parse_number<uint32_t>(v, 1, 1000, link.speed)) return t.bad_value(c, v, "expected 1-1000");
      return {};
    case 'I': {
      given |= kGivenIdle;
      uint32_t ms = 0;
      if (!parse_number<uint32_t>(v, 1, 3600000, ms)) return t.bad_value(c, v, "expected 1-3600000 ms");
      link.idle_threshold = std::chrono::milliseconds(ms);
      return {};
    }
    case kRepeat:
      given |= kGivenRepeat;
      if (!parse_number<uint32_t>(v, 1, 1000000, link.repeat)) return t.bad_value(c, v, "expected 1-1000000");
      return {};
    default:
      return "internal: not a link option";
  }
}

// Combinations: each option belongs to the backend it configures.
std::string check_link_options(const OptionTable& t, unsigned given) {
  auto has = [given](unsigned bit) { return (given & bit) != 0; };
  auto needs = [&t](int option, const std::string& what) { return t.name(option) + " needs " + what; };
  if (has(kGivenInterface) && has(kGivenPcapFile))
    return t.name('i') + " (live capture) and " + t.name(kPcapFile) + " (offline replay) exclude each other";
  if (has(kGivenBuffer) && !has(kGivenInterface)) return needs('B', t.name('i') + " (pcap capture)");
  if (has(kGivenSnaplen) && !has(kGivenInterface)) return needs('S', t.name('i') + " (pcap capture)");
  if (has(kGivenFilter) && !has(kGivenInterface) && !has(kGivenPcapFile))
    return needs('F', t.name('i') + " or " + t.name(kPcapFile));
  if (has(kGivenDstMac) && !has(kGivenOutput)) return needs(kDstMac, t.name('o') + " (pcap send)");
  if (!has(kGivenPcapFile)) {
    if (has(kGivenAccelerate)) return needs('a', t.name(kPcapFile) + " (offline replay)");
    if (has(kGivenIdle)) return needs('I', t.name(kPcapFile) + " (offline replay)");
    if (has(kGivenRepeat)) return needs(kRepeat, t.name(kPcapFile) + " (offline replay)");
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
    if (!parse_number<uint16_t>(item.substr(0, eq), 1, 65535, port)) return false;
    out.protocol_by_port.emplace_back(port, *choice);
  }
  return true;
}

// "A" or "A,B": a number and an optional second one.
template <typename T1, typename T2>
bool parse_pair(std::string_view text, T1 lo1, T1 hi1, T1& first, T2 lo2, T2 hi2, T2& second) {
  const size_t comma = text.find(',');
  if (!parse_number<T1>(text.substr(0, comma), lo1, hi1, first)) return false;
  return comma == std::string_view::npos || parse_number<T2>(text.substr(comma + 1), lo2, hi2, second);
}

std::string parse_compare_option(const OptionTable& t, int c, const char* v, CompareOptions& out) {
  out.enabled = true;
  switch (c) {
    case kCompare: break;
    case kCompareLog:
      if (*v == '\0') return t.bad_value(c, v, "expected a file name");
      out.log_file = v;
      break;
    case kCompareAll:
      if (*v == '\0') return t.bad_value(c, v, "expected a file name");
      out.all_file = v;
      break;
    case kCompareReport:
      if (*v == '\0') return t.bad_value(c, v, "expected a file name");
      out.report_file = v;
      break;
    case kCompareProtocol:
      if (!parse_compare_protocol(v, out))
        return t.bad_value(c, v, "expected auto, http, redis or bytes, or PORT=PROTOCOL[,...]");
      break;
    case kCompareSizeTolerance: {
      uint32_t percent = 10;
      uint32_t bytes = 64;
      if (!parse_pair<uint32_t, uint32_t>(v, 0, 10000, percent, 0, 1u << 30, bytes))
        return t.bad_value(c, v, "expected PERCENT[,BYTES], 0-10000 and 0-1073741824");
      out.tolerances.size_ratio = percent / 100.0;
      out.tolerances.size_bytes = bytes;
      break;
    }
    case kCompareSlower: {
      double ratio = 2.0;
      uint32_t ms = 50;
      if (!parse_pair<double, uint32_t>(v, 1.0, 1000.0, ratio, 0, 3600000, ms))
        return t.bad_value(c, v, "expected RATIO[,MS], a ratio 1-1000 and 0-3600000 ms");
      out.tolerances.slower_ratio = ratio;
      out.tolerances.slower_ms = ms;
      break;
    }
    case kCompareSessions:
      if (!parse_number<uint32_t>(v, 1, 1u << 22, out.sessions))
        return t.bad_value(c, v, "expected 1-4194304");
      break;
    default: return "internal: not a compare option";
  }
  return {};
}

// What the walk keeps for the checks after it.
struct CommandLine {
  std::string transfers;  // -x
  std::string intercepts;  // -s
  uint16_t intercept_port = wire::kDefaultPort;
  unsigned link_given = 0;
};

std::string apply_copy_option(const OptionTable& t, int c, const char* v, CopyOptions& out, CommandLine& line) {
  if (is_process_option(c)) return apply_process_option(t, c, v, out);
  if (is_compare_option(c)) return parse_compare_option(t, c, v, out.compare);
  if (is_link_option(c)) return parse_link_option(t, c, v, out.link, line.link_given);
  switch (c) {
    case 'x': line.transfers = v; break;
    case 's': line.intercepts = v; break;
    case 'p':
      if (!parse_port(v, line.intercept_port)) return t.bad_value(c, v, "expected a port 1-65535");
      break;
    case 'C':
      if (!parse_number<size_t>(v, 1, 11, out.connections))
        return t.bad_value(c, v, "expected 1-11");
      break;
    case kWorkers:
      if (!parse_number<uint16_t>(v, 1, 16, out.workers)) return t.bad_value(c, v, "expected 1-16");
      break;
    case 'M':
      if (!parse_number<uint16_t>(v, 576, 65535, out.engine.mtu))
        return t.bad_value(c, v, "expected 576-65535");
      break;
    case 'D':
      if (!parse_number<uint16_t>(v, 88, 65495, out.engine.fake_syn_mss))
        return t.bad_value(c, v, "expected 88-65495");
      break;
    case 't': {
      uint32_t s = 0;
      if (!parse_number<uint32_t>(v, 1, 86400, s)) return t.bad_value(c, v, "expected 1-86400 seconds");
      out.engine.session_timeout = std::chrono::seconds(s);
      break;
    }
    case 'k': {
      uint32_t s = 0;
      if (!parse_number<uint32_t>(v, 1, 864000, s)) return t.bad_value(c, v, "expected 1-864000 seconds");
      out.engine.idle_timeout = std::chrono::seconds(s);
      break;
    }
    case 'R': {
      uint32_t ms = 0;
      if (!parse_number<uint32_t>(v, 10, 60000, ms)) return t.bad_value(c, v, "expected 10-60000 ms");
      out.engine.initial_rto = std::chrono::milliseconds(ms);
      if (out.engine.max_rto < out.engine.initial_rto) out.engine.max_rto = out.engine.initial_rto;
      break;
    }
    case 'm': {
      uint32_t mb = 0;
      if (!parse_number<uint32_t>(v, 1, 1u << 20, mb)) return t.bad_value(c, v, "expected 1-1048576 MB");
      out.engine.buffer_bytes = size_t{mb} << 20;
      break;
    }
    case kMaxSessions:
      if (!parse_number<uint32_t>(v, 1, 1u << 24, out.engine.max_sessions))
        return t.bad_value(c, v, "expected 1-16777216");
      break;
    case 'O': out.engine.only_full_sessions = true; break;
    case kNoHold: out.engine.hold_requests = false; break;
    case kHoldTimeout: {
      uint32_t ms = 0;
      if (!parse_number<uint32_t>(v, 1, 600000, ms)) return t.bad_value(c, v, "expected 1-600000 ms");
      out.engine.hold_timeout = std::chrono::milliseconds(ms);
      break;
    }
    case kSynRetries:
      if (!parse_number<uint8_t>(v, 0, 15, out.engine.max_syn_retransmits))
        return t.bad_value(c, v, "expected 0-15");
      break;
    case kPortWait: {
      uint32_t ms = 0;
      if (!parse_number<uint32_t>(v, 0, 60000, ms)) return t.bad_value(c, v, "expected 0-60000 ms");
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
        return t.bad_value(c, v, "expected LOW-HIGH, 1 <= LOW <= HIGH <= 65535");
      out.engine.move_ports = range;
      break;
    }
    case 'L': break;  // tcpcopy never exits when an intercept goes away
    case 'n':
      if (!parse_number<uint16_t>(v, 1, 1023, out.engine.copies)) return t.bad_value(c, v, "expected 1-1023");
      break;
    case 'f':
      if (!parse_number<uint16_t>(v, 0, 1023, out.engine.instance)) return t.bad_value(c, v, "expected 0-1023");
      break;
    case 'r':
      if (!parse_number<uint8_t>(v, 1, 100, out.engine.sample_percent))
        return t.bad_value(c, v, "expected 1-100");
      break;
    case 'g': {
      uint32_t s = 60;
      if (v && !parse_number<uint32_t>(v, 1, 86400, s)) return t.bad_value(c, v, "expected 1-86400 seconds");
      out.engine.ramp = std::chrono::seconds(s);
      break;
    }
    case 'c':
      if (std::string err = ClientMap::parse(v, out.engine.client_map); !err.empty())
        return t.bad_value(c, v, err);
      break;
    case 'H': {
      auto a = IpAddress::parse(v);
      if (!a || a->is_unspecified()) return t.bad_value(c, v, "expected an IP address");
      out.engine.local_address = *a;
      break;
    }
    case kReplyInterface:
      if (std::string why = parse_interface_list(v, out.reply_interfaces); !why.empty()) return t.bad_value(c, v, why);
      break;
    default:
      return "internal: " + t.name(c) + " has no reader";
  }
  return {};
}

}  // namespace

std::string copy_usage() {
  return "Usage: tcpcopy -x TRANSFERS (-s INTERCEPTS | --reply-interface IFS) [options]\n"
         "\n"
         "Replays live TCP sessions seen on this (online) server against a target\n"
         "server. Replies are taken away on the target by intercept and come back\n"
         "over a control channel.\n"
         "\n" +
         copy_table().help();
}

ParseResult parse_copy_options(int argc, char* const argv[], CopyOptions& out) {
  const OptionTable t = copy_table();
  CommandLine line;
  ParseResult r = t.parse(argc, argv, [&](int c, const char* v) { return apply_copy_option(t, c, v, out, line); });
  if (r.action != ParseResult::Action::kRun) return r;
  auto fail = [&r](std::string msg) {
    r.action = ParseResult::Action::kError;
    r.error = std::move(msg);
    return r;
  };
  if (std::string err = check_link_options(t, line.link_given); !err.empty()) return fail(err);
  if (line.transfers.empty()) return fail("missing " + t.name('x') + " (e.g. -x 80-10.0.0.2:80)");
  if (std::string err = TransferMap::parse(line.transfers, out.engine.transfers); !err.empty())
    return fail(t.bad_value('x', line.transfers, err));
  if (!out.reply_interfaces.empty()) {
    if (!line.intercepts.empty())
      return fail(t.name('s') + " and " + t.name(kReplyInterface) +
                  " exclude each other (intercept, or replies captured here)");
  } else if (line.intercepts.empty()) {
    return fail("missing " + t.name('s') + " (the intercept address, e.g. -s 10.0.0.2) or " + t.name(kReplyInterface));
  }
  if (!line.intercepts.empty()) {
    std::string err;
    auto list = parse_endpoint_list(line.intercepts, line.intercept_port, err);
    if (!list) return fail(t.bad_value('s', line.intercepts, err));
    out.intercepts = *list;
  }
  if (out.workers > 1 && !out.link.pcap_file.empty())
    return fail(t.name(kWorkers) + " " + std::to_string(out.workers) + " and " + t.name(kPcapFile) +
                " exclude each other: an offline replay runs on one engine");
  // The comparison reads the first bytes of the target's answers.
  if (out.compare.enabled) out.reply_prefix = compare::kAnswerPrefix;
  return r;
}

}  // namespace tc

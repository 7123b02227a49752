#include "intercept/options.h"

#include <string>
#include <string_view>
#include <utility>

#include "common/options/option_values.h"
#include "common/pcap_io.h"

namespace tc::intercept {

namespace {

enum InterceptOption : int {
  kOptMode = kProgramOptionCode,
  kOptQueueNum,
  kOptCheckClient,
  kOptCheckPort,
  kOptAllow,
  kOptTargetPorts,
  kOptQueueBalance,
};

// intercept's options in --help order; the shared ones come from
// process_option().
OptionTable intercept_table() {
  std::vector<OptionSpec> specs{
      option_heading("Mode:"),
      {kOptMode, "mode", OptionArg::kRequired, "MODE", "nfqueue (default) or assistant"},
      option_heading("Control channel:"),
      {'p', "port", OptionArg::kRequired, "PORT", "control channel port (default 36524)"},
      {'b', "bind", OptionArg::kRequired, "IP[,IP..]",
       "addresses to listen on (default: all, IPv4 and IPv6,\n"
       "with --allow or --secret-file; loopback only without)"},
      {kOptAllow, "allow", OptionArg::kRequired, "ADDR[/LEN][,..]",
       "accept control connections only from these\n"
       "addresses or ranges; --allow any: from every\n"
       "address. Without --allow, --secret-file or -b\n"
       "intercept listens on loopback only"},
      process_option(kOptSecretFile),
      option_heading("nfqueue mode (on the target):"),
      {'x', "passlist", OptionArg::kRequired, "IP[,IP..]", "client addresses whose replies are let through"},
      {kOptQueueNum, "queue-num", OptionArg::kRequired, "N", "NFQUEUE number to bind (default 0)"},
      {kOptQueueBalance, "queue-balance", OptionArg::kRequired, "A:B",
       "bind queues A..B, a thread each (the rule's\n"
       "--queue-balance A:B; at most 64)"},
      {'q', "queue-maxlen", OptionArg::kRequired, "N", "NFQUEUE maximum length in packets (default 4096)"},
      option_heading("assistant mode (on a host the target routes its replies to):"),
      {'i', "interface", OptionArg::kRequired, "IF[,IF..]", "interfaces the target's replies arrive on (required)"},
      {'F', "filter", OptionArg::kRequired, "EXPR",
       "BPF filter for the replies (default: tcp and\n"
       "(src port P or ...) with --target-ports; without\n"
       "them: tcp)"},
      {kOptTargetPorts, "target-ports", OptionArg::kRequired, "P[,P..]",
       "the target's service ports, for the default filter"},
      {'B', "buffer-size", OptionArg::kRequired, "MB", "capture ring per interface, 1-4096 (default 16)"},
      {'S', "snaplen", OptionArg::kRequired, "BYTES",
       "bytes kept per reply, 64-65535 (default 576:\n"
       "headers and the longest payload prefix tcpcopy\n"
       "asks for)"},
      option_heading("Sessions and resources:"),
      {'s', "hash-size", OptionArg::kRequired, "N", "expected number of sessions (default 65536)"},
      {'t', "route-timeout", OptionArg::kRequired, "SECS",
       "forget a session after SECS without traffic\n"
       "(default 120)"},
      process_option(kOptBatchWait),
      process_option(kOptSchedPolicy),
      option_heading("Deployment check (prints what is wrong and how to fix it, then exits:\n"
                     "0 ready, 1 problems found; changes nothing):"),
      process_option(kOptCheck,
                     "check privileges, the NFQUEUE rule, the queue,\n"
                     "the control port and the host's routing settings"),
      {kOptCheckPort, "check-port", OptionArg::kRequired, "P[,P..]", "target ports whose replies the rule must queue"},
      {kOptCheckClient, "check-client", OptionArg::kRequired, "IP[,IP..]",
       "client addresses the target must have a route to"},
      option_heading("Running:"),
  };
  for (OptionSpec& s : running_options()) specs.push_back(s);
  specs.push_back(process_option('h'));
  specs.push_back(process_option('v'));
  return OptionTable(std::move(specs));
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
    uint16_t port = 0;
    if (!parse_number<uint16_t>(text.substr(0, comma), 1, 65535, port)) return false;
    list.push_back(port);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out.insert(out.end(), list.begin(), list.end());
  return true;
}

template <typename T>
std::string set_number(const OptionTable& t, int code, const char* value, T lo, T hi, T& field) {
  if (!parse_number<T>(value, lo, hi, field))
    return t.bad_value(code, value, "expected " + std::to_string(lo) + "-" + std::to_string(hi));
  return {};
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

std::string queues_exclude(const OptionTable& t) {
  return t.name(kOptQueueNum) + " and " + t.name(kOptQueueBalance) + " exclude each other";
}

std::string apply_intercept_option(const OptionTable& t, int c, const char* v, Options& out, unsigned& given) {
  if (is_process_option(c)) return apply_process_option(t, c, v, out);
  switch (c) {
    case kOptMode:
      if (std::string_view(v) == "nfqueue") out.mode = Mode::kNfqueue;
      else if (std::string_view(v) == "assistant") out.mode = Mode::kAssistant;
      else return t.bad_value(c, v, "expected nfqueue or assistant");
      return {};
    case 'i':
      given |= kGivenCapture;
      if (std::string why = parse_interface_list(v, out.interfaces); !why.empty()) return t.bad_value(c, v, why);
      return {};
    case 'F':
      given |= kGivenCapture;
      if (*v == '\0') return t.bad_value(c, v, "expected a filter expression");
      if (std::string why = check_filter_syntax(v); !why.empty()) return t.bad_value(c, v, why);
      out.filter = v;
      return {};
    case 'B': given |= kGivenCapture; return set_number<uint32_t>(t, c, v, 1, 4096, out.buffer_mb);
    case 'S': given |= kGivenCapture; return set_number<uint32_t>(t, c, v, 64, 65535, out.snaplen);
    case kOptTargetPorts:
      given |= kGivenCapture;
      if (!parse_port_list(v, out.target_ports)) return t.bad_value(c, v, "expected ports 1-65535 separated by commas");
      return {};
    case 'x':
      given |= kGivenPasslist;
      if (!parse_address_list(v, out.passlist)) return t.bad_value(c, v, "expected IP addresses separated by commas");
      return {};
    case 'p':
      if (!parse_number<uint16_t>(v, 1, 65535, out.port)) return t.bad_value(c, v, "expected a port 1-65535");
      return {};
    case 'b':
      if (!parse_address_list(v, out.bind)) return t.bad_value(c, v, "expected IP addresses separated by commas");
      return {};
    case kOptQueueNum:
      if (given & kGivenQueueBalance) return queues_exclude(t);
      given |= kGivenQueue | kGivenQueueNum;
      return set_number<uint16_t>(t, c, v, 0, 65535, out.queue_num);
    case kOptQueueBalance:
      if (given & kGivenQueueNum) return queues_exclude(t);
      given |= kGivenQueue | kGivenQueueBalance;
      if (!parse_queue_range(v, out.queue_num, out.queue_count))
        return t.bad_value(c, v, "expected FIRST:LAST, FIRST <= LAST, at most 64 queues (e.g. 0:3)");
      return {};
    case 'q': given |= kGivenQueue; return set_number<uint32_t>(t, c, v, 1, 1u << 24, out.queue_maxlen);
    case 's': return set_number<uint32_t>(t, c, v, 1, 1u << 24, out.hash_size);
    case 't': return set_number<uint32_t>(t, c, v, 1, 86400, out.route_timeout_s);
    case kOptCheckClient:
      if (!parse_address_list(v, out.check_clients))
        return t.bad_value(c, v, "expected client IP addresses separated by commas");
      return {};
    case kOptCheckPort:
      if (!parse_port_list(v, out.check_ports)) return t.bad_value(c, v, "expected ports 1-65535 separated by commas");
      return {};
    case kOptAllow: {
      if (std::string_view(v) == "any") {
        out.allow_any = true;
        return {};
      }
      std::string why;
      auto list = parse_prefix_list(v, why);
      if (!list) return t.bad_value(c, v, "expected ADDR[/PREFIX][,...] or any (" + why + ")");
      out.allow.insert(out.allow.end(), list->begin(), list->end());
      return {};
    }
    default:
      return "internal: " + t.name(c) + " has no reader";
  }
}

// What the options say together, once each was read: "" or the error.
std::string check_combination(const OptionTable& t, const Options& out, unsigned given) {
  if (!out.check && !out.check_clients.empty()) return t.name(kOptCheckClient) + " needs " + t.name(kOptCheck);
  if (!out.check && !out.check_ports.empty()) return t.name(kOptCheckPort) + " needs " + t.name(kOptCheck);
  if (out.allow_any && !out.allow.empty())
    return "--allow any opens the control port to every address: it cannot be combined with an address list";
  return check_mode(out, given);
}

}  // namespace

ParseResult parse_options(int argc, char* const argv[], Options& out) {
  out = Options{};
  const OptionTable t = intercept_table();
  unsigned given = 0;
  ParseResult r =
      t.parse(argc, argv, [&](int c, const char* v) { return apply_intercept_option(t, c, v, out, given); });
  if (r.action != ParseResult::Action::kRun) return r;
  if (std::string error = check_combination(t, out, given); !error.empty()) {
    r.action = ParseResult::Action::kError;
    r.error = std::move(error);
  }
  return r;
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
  u += " [options]\n"
       "\n"
       "Takes the target's replies to replayed sessions, keeps them from the real\n"
       "clients, and sends their IP+TCP headers to the tcpcopy instance that\n"
       "registered the session. nfqueue mode runs on the target and takes the\n"
       "replies from NFQUEUE; assistant mode runs on a host of the target's subnet\n"
       "that the target routes the replies to, and captures them there with libpcap.\n"
       "\n";
  u += intercept_table().help();
  u += R"(
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

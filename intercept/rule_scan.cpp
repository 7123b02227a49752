#include "intercept/rule_scan.h"

#include <charconv>
#include <map>
#include <set>

namespace tc::intercept {

namespace {

bool to_u16(std::string_view s, uint16_t& out) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

// "80", "80<sep>90", and for iptables also ":90" and "80:".
bool parse_range(std::string_view s, char sep, PortRange& out) {
  const size_t at = s.find(sep);
  if (at == std::string_view::npos) {
    if (!to_u16(s, out.lo)) return false;
    out.hi = out.lo;
    return true;
  }
  const std::string_view a = s.substr(0, at), b = s.substr(at + 1);
  out.lo = 0;
  out.hi = 65535;
  if (!a.empty() && !to_u16(a, out.lo)) return false;
  if (!b.empty() && !to_u16(b, out.hi)) return false;
  return out.lo <= out.hi;
}

// Splits a line into words; double quotes group, backslash escapes inside.
std::vector<std::string> tokens(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string word;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
      const char c = line[i++];
      if (c == '"') quoted = !quoted;
      else if (c == '\\' && quoted && i < line.size()) word += line[i++];
      else word += c;
    }
    out.push_back(std::move(word));
  }
  return out;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view l = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r')) l.remove_suffix(1);
    out.push_back(l);
  }
  return out;
}

bool is_loopback_name(std::string_view name) { return name == "lo"; }

// A chain graph of one table: rules per chain, jumps, entry chains.
struct Table {
  std::string label;  // "iptables filter", "nft ip tcpcopy_intercept"
  bool ipv4 = true;
  bool ipv6 = true;
  std::set<std::string> entries;
  std::map<std::string, std::vector<std::string>> jumps;
  std::vector<std::pair<std::string, QueueRule>> rules;  // chain -> queue rule
};

void collect_reachable(const Table& t, std::vector<QueueRule>& out) {
  std::set<std::string> seen;
  std::vector<std::string> todo(t.entries.begin(), t.entries.end());
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (!seen.insert(c).second) continue;
    if (auto it = t.jumps.find(c); it != t.jumps.end())
      for (const std::string& next : it->second) todo.push_back(next);
  }
  for (const auto& [chain, rule] : t.rules) {
    if (!seen.count(chain)) continue;
    QueueRule r = rule;
    r.where = t.label + "/" + chain;
    r.ipv4 = t.ipv4;
    r.ipv6 = t.ipv6;
    out.push_back(std::move(r));
  }
}

// ---- iptables-save ------------------------------------------------------------

void iptables_rule(Table& t, const std::string& chain, const std::vector<std::string>& w, size_t start) {
  QueueRule r;
  bool negate = false, not_tcp = false, queue = false;
  std::string target;
  for (size_t i = start; i < w.size(); ++i) {
    const std::string& o = w[i];
    if (o == "!") {
      negate = true;
      continue;
    }
    const bool has_value = i + 1 < w.size();
    const std::string value = has_value ? w[i + 1] : std::string();
    if (o == "-p" || o == "--protocol") {
      const bool is_tcp = value == "tcp" || value == "6";
      if (negate ? is_tcp : !(is_tcp || value == "all" || value == "0")) not_tcp = true;
      ++i;
    } else if (o == "--sport" || o == "--source-port" || o == "--sports" || o == "--source-ports" || o == "--ports") {
      r.any_port = false;
      if (negate) {
        r.ports_unreadable = true;
      } else {
        std::string_view list = value;
        while (true) {
          const size_t comma = list.find(',');
          PortRange p;
          if (parse_range(list.substr(0, comma), ':', p)) r.sports.push_back(p);
          else r.ports_unreadable = true;
          if (comma == std::string_view::npos) break;
          list.remove_prefix(comma + 1);
        }
      }
      ++i;
    } else if (o == "-o" || o == "--out-interface") {
      // "lo+" and "+" match loopback too.
      const bool may_be_lo = value == "lo" || value == "+" || value == "l+" || value == "lo+";
      if (negate ? is_loopback_name(value) : !may_be_lo) r.spares_loopback = true;
      ++i;
    } else if (o == "-j" || o == "--jump" || o == "-g" || o == "--goto") {
      target = value;
      ++i;
    } else if (o == "--queue-num") {
      uint16_t q = 0;
      if (to_u16(value, q)) r.queue_lo = r.queue_hi = q;
      ++i;
    } else if (o == "--queue-balance") {
      PortRange q;
      if (parse_range(value, ':', q)) {
        r.queue_lo = q.lo;
        r.queue_hi = q.hi;
      }
      ++i;
    } else if (o == "--queue-bypass") {
      r.bypass = true;
    }
    negate = false;
  }
  if (target == "NFQUEUE" || target == "QUEUE") queue = true;
  if (queue && !not_tcp) t.rules.emplace_back(chain, std::move(r));
  else if (!target.empty() && !queue) t.jumps[chain].push_back(target);
}

// ---- nft list ruleset ---------------------------------------------------------

int brace_delta(std::string_view line) {
  int d = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == '{') ++d;
    else if (!quoted && c == '}') --d;
  }
  return d;
}

void nft_ports(const std::vector<std::string>& w, size_t& i, QueueRule& r) {
  r.any_port = false;
  if (i < w.size() && (w[i] == "!=" || w[i].starts_with("@"))) {
    r.ports_unreadable = true;
    return;
  }
  auto add = [&r](std::string_view item) {
    while (!item.empty() && item.back() == ',') item.remove_suffix(1);
    if (item.empty()) return;
    PortRange p;
    if (parse_range(item, '-', p)) r.sports.push_back(p);
    else r.ports_unreadable = true;
  };
  if (i < w.size() && w[i] == "{") {
    for (++i; i < w.size() && w[i] != "}"; ++i) add(w[i]);
    return;
  }
  if (i < w.size()) add(w[i]);
  else r.ports_unreadable = true;
}

void nft_rule(Table& t, const std::string& chain, const std::vector<std::string>& w) {
  QueueRule r;
  bool queue = false, not_tcp = false;
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string& o = w[i];
    const std::string next = i + 1 < w.size() ? w[i + 1] : std::string();
    if ((o == "tcp" || o == "th") && next == "sport") {
      i += 2;
      nft_ports(w, i, r);
    } else if ((o == "udp" || o == "sctp" || o == "dccp") && (next == "sport" || next == "dport")) {
      not_tcp = true;
    } else if ((o == "l4proto" || o == "protocol" || o == "nexthdr") && !next.empty() && next != "tcp" &&
               next != "6" && next != "!=" && next != "{") {
      not_tcp = true;
    } else if (o == "oifname" || o == "oif") {
      if (next == "!=") {
        if (i + 2 < w.size() && is_loopback_name(w[i + 2])) r.spares_loopback = true;
      } else if (!next.empty() && !is_loopback_name(next) && next != "{") {
        r.spares_loopback = true;
      }
    } else if (o == "jump" || o == "goto") {
      if (!next.empty()) t.jumps[chain].push_back(next);
    } else if (o == "queue") {
      queue = true;
      for (size_t k = i + 1; k < w.size(); ++k) {
        if ((w[k] == "num" || w[k] == "to") && k + 1 < w.size()) {
          PortRange q;
          if (parse_range(w[k + 1], '-', q)) {
            r.queue_lo = q.lo;
            r.queue_hi = q.hi;
          }
          ++k;
        } else if (w[k] == "flags" && k + 1 < w.size()) {
          if (w[k + 1].find("bypass") != std::string::npos) r.bypass = true;
          ++k;
        } else if (w[k] == "bypass") {
          r.bypass = true;
        }
      }
      break;
    }
  }
  if (queue && !not_tcp) t.rules.emplace_back(chain, std::move(r));
}

}  // namespace

std::vector<QueueRule> scan_iptables_save(std::string_view text, int ip_version) {
  std::vector<QueueRule> out;
  Table t;
  bool in_table = false;
  for (std::string_view line : lines(text)) {
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '*') {
      t = Table{};
      t.label = (ip_version == 6 ? "ip6tables " : "iptables ") + std::string(line.substr(1));
      t.ipv4 = ip_version != 6;
      t.ipv6 = ip_version == 6;
      t.entries.insert("OUTPUT");
      in_table = true;
    } else if (line == "COMMIT") {
      if (in_table) collect_reachable(t, out);
      in_table = false;
    } else if (in_table && line.starts_with("-A ")) {
      const auto w = tokens(line);
      if (w.size() >= 2) iptables_rule(t, w[1], w, 2);
    }
  }
  return out;
}

std::vector<QueueRule> scan_nft_ruleset(std::string_view text) {
  std::vector<QueueRule> out;
  Table t;
  bool table_relevant = false;
  std::string chain;  // empty: not inside a chain
  int depth = 0;
  for (std::string_view line : lines(text)) {
    if (line.empty() || line.front() == '#') continue;
    const auto w = tokens(line);
    const int before = depth;
    depth += brace_delta(line);
    if (depth < 0) depth = 0;
    if (before == 0 && w.size() >= 3 && w[0] == "table") {
      t = Table{};
      const std::string& family = w[1];
      table_relevant = family == "ip" || family == "ip6" || family == "inet";
      t.label = "nft " + family + " " + w[2];
      t.ipv4 = family != "ip6";
      t.ipv6 = family != "ip";
      chain.clear();
      continue;
    }
    if (before == 1 && depth == 0) {  // the table closes
      if (table_relevant) collect_reachable(t, out);
      table_relevant = false;
      continue;
    }
    if (before == 1) {
      chain = (w.size() >= 2 && w[0] == "chain") ? w[1] : std::string();
      continue;
    }
    if (before == 2 && !chain.empty() && table_relevant) {
      if (w.size() >= 4 && w[0] == "type") {
        for (size_t i = 0; i + 1 < w.size(); ++i)
          if (w[i] == "hook" && (w[i + 1] == "output" || w[i + 1] == "output;")) t.entries.insert(chain);
        continue;
      }
      if (w.empty() || w[0] == "policy" || w[0] == "}") continue;
      nft_rule(t, chain, w);
    }
  }
  return out;
}

bool catches_port(const QueueRule& rule, uint16_t port) {
  if (rule.any_port) return true;
  for (const PortRange& p : rule.sports)
    if (port >= p.lo && port <= p.hi) return true;
  return false;
}

bool feeds_queue(const QueueRule& rule, uint16_t queue) { return queue >= rule.queue_lo && queue <= rule.queue_hi; }

std::string describe_ports(const QueueRule& rule) {
  if (rule.any_port) return "any port";
  std::string out;
  for (const PortRange& p : rule.sports) {
    if (!out.empty()) out += ",";
    out += std::to_string(p.lo);
    if (p.hi != p.lo) out += "-" + std::to_string(p.hi);
  }
  if (rule.ports_unreadable) out += out.empty() ? "ports not read by this check" : " and more";
  return out;
}

}  // namespace tc::intercept

#include "copy/capture/port_filter.h"

#include <linux/if_packet.h>

#include <algorithm>

#include "common/flow_shard.h"

namespace tc {

namespace {

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

constexpr uint16_t kLdAbsB = BPF_LD | BPF_B | BPF_ABS;
constexpr uint16_t kLdAbsH = BPF_LD | BPF_H | BPF_ABS;
constexpr uint16_t kLdAbsW = BPF_LD | BPF_W | BPF_ABS;
constexpr uint16_t kLdIndH = BPF_LD | BPF_H | BPF_IND;
constexpr uint16_t kLdxMsh = BPF_LDX | BPF_B | BPF_MSH;
constexpr uint16_t kJeq = BPF_JMP | BPF_JEQ | BPF_K;
constexpr uint16_t kJset = BPF_JMP | BPF_JSET | BPF_K;
constexpr uint16_t kJa = BPF_JMP | BPF_JA;
constexpr uint16_t kRet = BPF_RET | BPF_K;

constexpr uint32_t kIpProtoOffset = 9;
constexpr uint32_t kIpFragOffset = 6;
constexpr uint32_t kIpDstOffset = 16;
constexpr uint32_t kFragOffsetMask = 0x1fff;
constexpr uint32_t kTcpDstPortOffset = 2;
constexpr uint32_t kProtoTcp = 6;

}  // namespace

std::vector<sock_filter> build_port_filter(std::span<const uint16_t> ports,
                                           std::span<const IpAddress> addresses) {
  std::vector<uint16_t> port_list(ports.begin(), ports.end());
  std::sort(port_list.begin(), port_list.end());
  port_list.erase(std::unique(port_list.begin(), port_list.end()), port_list.end());

  std::vector<uint32_t> v4_list;
  for (const IpAddress& a : addresses)
    if (a.is_v4()) v4_list.push_back(a.v4_host());
  std::sort(v4_list.begin(), v4_list.end());
  v4_list.erase(std::unique(v4_list.begin(), v4_list.end()), v4_list.end());

  std::vector<sock_filter> p;
  // Each test either skips the `ret #0` right after it or falls into it, so
  // no jump offset depends on the list sizes (jt/jf are only 8 bits).
  p.push_back(stmt(kLdAbsB, kIpProtoOffset));
  p.push_back(jump(kJeq, kProtoTcp, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsH, kIpFragOffset));
  p.push_back(jump(kJset, kFragOffsetMask, 0, 1));
  p.push_back(stmt(kRet, 0));

  if (!addresses.empty()) {
    if (v4_list.empty()) {  // only IPv6 addresses: no IPv4 packet can match
      p.push_back(stmt(kRet, 0));
      return p;
    }
    p.push_back(stmt(kLdAbsW, kIpDstOffset));
    // Per address: "jeq a" falls into a `ja` to the port checks on a match.
    // The `ja` targets are patched once the section's length is known.
    std::vector<size_t> to_ports;
    for (uint32_t a : v4_list) {
      p.push_back(jump(kJeq, a, 0, 1));
      to_ports.push_back(p.size());
      p.push_back(stmt(kJa, 0));
    }
    p.push_back(stmt(kRet, 0));
    for (size_t at : to_ports) p[at].k = static_cast<uint32_t>(p.size() - at - 1);
  }

  if (port_list.empty()) {
    p.push_back(stmt(kRet, kFilterAccept));
    return p;
  }
  p.push_back(stmt(kLdxMsh, 0));  // X = 4 * IHL: the TCP header's offset
  p.push_back(stmt(kLdIndH, kTcpDstPortOffset));
  for (uint16_t port : port_list) {
    p.push_back(jump(kJeq, port, 0, 1));
    p.push_back(stmt(kRet, kFilterAccept));
  }
  p.push_back(stmt(kRet, 0));
  return p;
}

std::vector<sock_filter> build_tcp_port_filter(std::span<const uint16_t> ports) {
  std::vector<uint16_t> port_list(ports.begin(), ports.end());
  std::sort(port_list.begin(), port_list.end());
  port_list.erase(std::unique(port_list.begin(), port_list.end()), port_list.end());
  std::vector<sock_filter> p;
  if (port_list.empty()) {
    p.push_back(stmt(kRet, kFilterAccept));
    return p;
  }
  p.push_back(stmt(kLdAbsH, kTcpDstPortOffset));
  for (uint16_t port : port_list) {
    p.push_back(jump(kJeq, port, 0, 1));
    p.push_back(stmt(kRet, kFilterAccept));
  }
  p.push_back(stmt(kRet, 0));
  return p;
}

std::vector<sock_filter> build_answer_filter(std::span<const uint16_t> ports, uint32_t snaplen) {
  std::vector<uint16_t> port_list(ports.begin(), ports.end());
  std::sort(port_list.begin(), port_list.end());
  port_list.erase(std::unique(port_list.begin(), port_list.end()), port_list.end());
  constexpr uint32_t kEtherIpv4 = 0x0800;
  constexpr uint32_t kEtherIpv6 = 0x86dd;
  constexpr uint32_t kPacketOutgoing = 4;  // PACKET_OUTGOING
  constexpr uint32_t kIpv6NextHeader = 6;
  constexpr uint32_t kIpv6TcpSrcPort = 40;
  auto source_ports = [&](std::vector<sock_filter>& p) {
    if (port_list.empty()) {
      p.push_back(stmt(kRet, snaplen));
      return;
    }
    for (uint16_t port : port_list) {
      p.push_back(jump(kJeq, port, 0, 1));
      p.push_back(stmt(kRet, snaplen));
    }
    p.push_back(stmt(kRet, 0));
  };
  std::vector<sock_filter> p;
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
  p.push_back(jump(kJeq, kPacketOutgoing, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)));
  p.push_back(jump(kJeq, kEtherIpv4, 1, 0));
  const size_t to_v6 = p.size();
  p.push_back(stmt(kJa, 0));  // patched: to the IPv6 section
  p.push_back(stmt(kLdAbsB, kIpProtoOffset));
  p.push_back(jump(kJeq, kProtoTcp, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsH, kIpFragOffset));
  p.push_back(jump(kJset, kFragOffsetMask, 0, 1));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdxMsh, 0));
  p.push_back(stmt(kLdIndH, 0));  // the TCP source port
  source_ports(p);
  p[to_v6].k = static_cast<uint32_t>(p.size() - to_v6 - 1);
  p.push_back(jump(kJeq, kEtherIpv6, 1, 0));  // A still holds the protocol
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsB, kIpv6NextHeader));
  p.push_back(jump(kJeq, kProtoTcp, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsH, kIpv6TcpSrcPort));
  source_ports(p);
  return p;
}

std::vector<sock_filter> build_ring_filter(std::span<const uint16_t> ports, std::span<const IpAddress> addresses,
                                           std::span<const int> excluded_ifindexes, uint32_t answer_snaplen) {
  constexpr uint32_t kEtherIpv4 = 0x0800;
  constexpr uint32_t kEtherIpv6 = 0x86dd;
  constexpr uint32_t kPacketHost = 0;      // PACKET_HOST
  constexpr uint32_t kPacketOutgoing = 4;  // PACKET_OUTGOING
  constexpr uint32_t kIpv6NextHeader = 6;
  constexpr uint32_t kIpv6TcpDstPort = 42;
  std::vector<sock_filter> p;
  // Views that repeat a packet seen elsewhere, in either direction.
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)));
  p.push_back(jump(kJeq, 0, 1, 0));
  p.push_back(stmt(kRet, 0));
  if (!excluded_ifindexes.empty()) {
    p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX)));
    for (int index : excluded_ifindexes) {
      p.push_back(jump(kJeq, static_cast<uint32_t>(index), 0, 1));
      p.push_back(stmt(kRet, 0));
    }
  }
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
  size_t to_answers = 0;
  if (answer_snaplen > 0) {
    p.push_back(jump(kJeq, kPacketOutgoing, 0, 1));
    to_answers = p.size();
    p.push_back(stmt(kJa, 0));  // patched: to the answers' section
  }
  p.push_back(jump(kJeq, kPacketHost, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)));
  p.push_back(jump(kJeq, kEtherIpv4, 1, 0));
  const size_t to_v6 = p.size();
  p.push_back(stmt(kJa, 0));  // patched: to the IPv6 section
  // IPv4: the raw socket's program, which starts at the IP header too and
  // ends every path in a `ret`.
  const std::vector<sock_filter> v4 = build_port_filter(ports, addresses);
  p.insert(p.end(), v4.begin(), v4.end());
  p[to_v6].k = static_cast<uint32_t>(p.size() - to_v6 - 1);
  p.push_back(stmt(kLdAbsW, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)));
  p.push_back(jump(kJeq, kEtherIpv6, 1, 0));
  p.push_back(stmt(kRet, 0));
  p.push_back(stmt(kLdAbsB, kIpv6NextHeader));
  p.push_back(jump(kJeq, kProtoTcp, 1, 0));
  p.push_back(stmt(kRet, 0));
  // IPv6: by port only, as the IPv6 raw socket keeps them.
  p.push_back(stmt(kLdAbsH, kIpv6TcpDstPort));
  const std::vector<sock_filter> v6 = build_tcp_port_filter(ports);
  // Its first instruction loads the port at the TCP header's offset 2; the
  // one above loaded it at the IPv6 packet's offset 42 already.
  p.insert(p.end(), v6.begin() + (v6.size() > 1 ? 1 : 0), v6.end());
  if (answer_snaplen > 0) {
    // The answers' program after its own packet type test (its first three
    // instructions); every path in it ends in a `ret`.
    p[to_answers].k = static_cast<uint32_t>(p.size() - to_answers - 1);
    const std::vector<sock_filter> answers = build_answer_filter(ports, answer_snaplen);
    p.insert(p.end(), answers.begin() + 3, answers.end());
  }
  return p;
}

std::vector<sock_filter> build_reject_all_filter() { return {stmt(kRet, 0)}; }

std::vector<sock_filter> build_fanout_program(uint16_t members) {
  constexpr uint32_t kNet = static_cast<uint32_t>(SKF_NET_OFF);
  constexpr uint32_t kProtocol = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL);
  constexpr uint32_t kPktType = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE);
  // Jump offsets count from the next instruction; the layout is fixed.
  return {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kProtocol),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 3, 0),  // IPv6: 5
      /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 12),  // not IPv4: 15
      /* 3 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, kNet),          // X = IPv4 header length
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
      /* 5 */ BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 40),            // X = IPv6 header length
      /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kPktType),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 2, 0),
      /* 8 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, kNet + 0),       // source port
      /* 9 */ BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
      /* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, kNet + 2),      // destination port
      /* 11 */ BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, FlowShard::kMultiplier),
      /* 12 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, FlowShard::kShift),
      /* 13 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, members == 0 ? 1u : members),
      /* 14 */ BPF_STMT(BPF_RET | BPF_A, 0),
      /* 15 */ BPF_STMT(BPF_RET | BPF_K, 0),
  };
}

}  // namespace tc

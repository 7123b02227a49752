// The classic BPF program that keeps a raw IPv4 TCP socket's queue to the
// packets being replicated. Filtering in the kernel matters: without it every
// TCP packet the server receives would be copied to user space.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/ip_address.h"

namespace tc {

// What the accepting `ret` returns: keep the whole packet (GRO may have
// merged segments far beyond the MTU).
inline constexpr uint32_t kFilterAccept = 0xffffffffu;

// Builds a program for packets that start at the IPv4 header (what a raw
// IPv4 socket's filter sees). It accepts a packet when
//   - the protocol is TCP,
//   - it is not a fragment with a non-zero offset (no TCP header there),
//   - its destination address is one of `addresses` (empty: any address;
//     IPv6 entries never match an IPv4 packet), and
//   - its TCP destination port is one of `ports` (empty: any port).
// Every jump is short or a `ja`, so the program is valid for any number of
// entries; the caller checks the size against BPF_MAXINSNS.
std::vector<sock_filter> build_port_filter(std::span<const uint16_t> ports,
                                           std::span<const IpAddress> addresses);

// The same port test for packets that start at the TCP header, which is
// what an IPv6 raw socket's filter sees (the kernel has already taken the
// IPv6 header and its extension headers off).
std::vector<sock_filter> build_tcp_port_filter(std::span<const uint16_t> ports);

// For the online answers (comparison): a program for a packet socket of
// type SOCK_DGRAM, whose filter sees packets from the network header on,
// that accepts packets the host sends (PACKET_OUTGOING) that are IPv4 or
// IPv6 TCP (IPv4: not a later fragment; IPv6: TCP as the first next header)
// from one of `ports` (empty: any), keeping their first `snaplen` bytes.
std::vector<sock_filter> build_answer_filter(std::span<const uint16_t> ports, uint32_t snaplen);

// For the default capture's packet ring (SOCK_DGRAM on every interface):
// accepts IPv4 packets as build_port_filter does and IPv6 TCP packets (TCP
// as the first next header) to one of `ports`, but only packets addressed
// to this host (PACKET_HOST: not what it sends, not what it overhears), not
// the tagged view of a VLAN's parent, and nothing from `excluded_ifindexes`.
// With `answer_snaplen` > 0 it also keeps what this host sends from one of
// `ports` (the online answers, for the comparison), cut to that many bytes
// as build_answer_filter does, so both directions share one ring and come
// in the order the kernel saw them.
std::vector<sock_filter> build_ring_filter(std::span<const uint16_t> ports, std::span<const IpAddress> addresses,
                                           std::span<const int> excluded_ifindexes, uint32_t answer_snaplen = 0);

// For --workers: the program of a PACKET_FANOUT_CBPF group of packet
// sockets of type SOCK_DGRAM, which returns the member a packet goes to: the
// worker of its client port among `members` (FlowShard::worker_of). The client port is the TCP
// source port of a packet the host receives and the destination port of one
// it sends (an online answer), so both directions of a connection reach the
// same member. It reads from the network header whatever the device's link
// header (SKF_NET_OFF); IPv6 is read as TCP right after its fixed header.
// Anything else, or too short to hold the ports, goes to member 0.
std::vector<sock_filter> build_fanout_program(uint16_t members);

// A program that accepts nothing: attached first, so packets that arrive
// before the real filter can be flushed.
std::vector<sock_filter> build_reject_all_filter();

}  // namespace tc

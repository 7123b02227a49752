// Sender tests: queue one SYN to `dst` (IPv4 or IPv6) through a sender's
// acquire/commit, its sequence number telling packets apart.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>

#include "common/ip_address.h"
#include "common/tcp_builder.h"
#include "common/tcp_packet.h"
#include "copy/engine/ports.h"

namespace tc {

inline void queue_syn(PacketOutput& out, const char* dst, uint32_t seq) {
  TcpSegmentSpec s;
  const IpAddress d = *IpAddress::parse(dst);
  s.src = *IpAddress::parse(d.is_v4() ? "192.0.2.1" : "2001:db8::1");
  s.dst = d;
  s.sport = 40000;
  s.dport = 80;
  s.seq = seq;
  s.flags = tcpflag::kSyn;
  std::span<uint8_t> buf = out.acquire(d);
  ASSERT_GE(buf.size(), 1500u);
  const size_t len = build_tcp_packet(s, buf);
  ASSERT_GT(len, 0u);
  out.commit(len);
}

}  // namespace tc

// Builds the netlink messages the kernel sends for queued packets, and reads
// back the verdict messages intercept sends, for tests without a kernel.
#pragma once

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/tcp_builder.h"

namespace tc::intercept::testing {

inline std::vector<uint8_t> packet_message(uint32_t id, std::span<const uint8_t> payload, uint16_t queue = 0) {
  std::vector<uint8_t> buf(4096);
  nlmsghdr* nlh = nfq_nlmsg_put(reinterpret_cast<char*>(buf.data()), NFQNL_MSG_PACKET, queue);
  nfqnl_msg_packet_hdr ph{};
  ph.packet_id = htonl(id);
  ph.hw_protocol = htons(0x0800);
  ph.hook = 3;  // NF_INET_LOCAL_OUT
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof ph, &ph);
  if (!payload.empty()) mnl_attr_put(nlh, NFQA_PAYLOAD, payload.size(), payload.data());
  buf.resize(nlh->nlmsg_len);
  return buf;
}

inline std::vector<uint8_t> error_message(int error, uint32_t seq) {
  std::vector<uint8_t> buf(256);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_seq = seq;
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  err->error = error;
  buf.resize(nlh->nlmsg_len);
  return buf;
}

struct SentVerdict {
  bool batch;
  uint32_t verdict;
  uint32_t id;
  uint16_t queue;
  friend bool operator==(const SentVerdict&, const SentVerdict&) = default;
};

inline std::vector<SentVerdict> read_verdicts(std::span<const uint8_t> bytes) {
  std::vector<SentVerdict> out;
  int len = static_cast<int>(bytes.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    const uint16_t type = nlh->nlmsg_type & 0xff;
    if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE) continue;
    const auto* gen = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    if (mnl_attr_get_type(attr) != NFQA_VERDICT_HDR) continue;
    nfqnl_msg_verdict_hdr vh{};
    std::memcpy(&vh, mnl_attr_get_payload(attr), sizeof vh);
    out.push_back({type == NFQNL_MSG_VERDICT_BATCH, ntohl(vh.verdict), ntohl(vh.id), ntohs(gen->res_id)});
  }
  return out;
}

// A reply of the target (10.2.0.1:80) to a client.
inline std::vector<uint8_t> reply_packet(const char* client, uint16_t client_port, uint8_t flags,
                                         size_t payload_len = 0) {
  std::vector<uint8_t> payload(payload_len, 'x');
  TcpSegmentSpec s;
  s.src = *IpAddress::parse("10.2.0.1");
  s.dst = *IpAddress::parse(client);
  s.sport = 80;
  s.dport = client_port;
  s.seq = 1000;
  s.ack = 2000;
  s.flags = flags;
  s.window = 512;
  s.timestamp = true;
  s.payload = payload;
  std::vector<uint8_t> out(kMaxBuiltHeader + payload_len);
  out.resize(build_tcp_packet(s, out));
  return out;
}

}  // namespace tc::intercept::testing

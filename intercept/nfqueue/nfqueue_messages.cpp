#include "intercept/nfqueue/nfqueue_messages.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cstdint>
#include <cstring>

#include "common/byte_reader.h"

namespace tc::intercept::nfq {

namespace {

constexpr uint16_t kPacketMessageType = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;

char* as_chars(std::span<uint8_t> out) { return reinterpret_cast<char*>(out.data()); }

}  // namespace

size_t put_verdicts(std::span<const Verdict> verdicts, uint16_t queue_num, std::span<uint8_t> out) {
  if (out.size() < verdicts.size() * kVerdictMessageSize) return 0;
  size_t used = 0;
  for (const Verdict& v : verdicts) {
    const bool batch = v.kind == Verdict::Kind::kDropUpTo;
    nlmsghdr* nlh = nfq_nlmsg_put(as_chars(out.subspan(used)), batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT,
                                  queue_num);
    nfq_nlmsg_verdict_put(nlh, static_cast<int>(v.id), batch ? NF_DROP : NF_ACCEPT);
    used += nlh->nlmsg_len;
  }
  return used;
}

size_t put_bind_request(std::span<uint8_t> out, uint16_t queue_num, uint32_t seq) {
  if (out.size() < kConfigBufferSize) return 0;
  nlmsghdr* nlh = nfq_nlmsg_put(as_chars(out), NFQNL_MSG_CONFIG, queue_num);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
  return nlh->nlmsg_len;
}

size_t put_settings_request(std::span<uint8_t> out, uint16_t queue_num, uint32_t queue_maxlen, uint32_t seq) {
  if (out.size() < kConfigBufferSize) return 0;
  nlmsghdr* nlh = nfq_nlmsg_put(as_chars(out), NFQNL_MSG_CONFIG, queue_num);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, static_cast<int>(kCopyRange));
  nfq_nlmsg_cfg_put_qmaxlen(nlh, queue_maxlen);
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
  return nlh->nlmsg_len;
}

QueueMessage decode_message(const nlmsghdr* nlh) {
  QueueMessage m;
  m.seq = nlh->nlmsg_seq;
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    // nlmsgerr starts with the (negative) errno as a native int.
    ByteReader r({static_cast<const uint8_t*>(mnl_nlmsg_get_payload(nlh)), mnl_nlmsg_get_payload_len(nlh)});
    auto err = r.take(sizeof(int));
    if (!err) return m;
    std::memcpy(&m.error, err->data(), sizeof(int));
    m.kind = QueueMessage::Kind::kAck;
    return m;
  }
  if (nlh->nlmsg_type != kPacketMessageType) return m;

  m.kind = QueueMessage::Kind::kBadPacket;
  nlattr* attr[NFQA_MAX + 1] = {};
  if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) return m;
  ByteReader hdr({static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR])),
                  mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR])});
  if (!hdr.be32(m.packet_id)) return m;
  m.kind = QueueMessage::Kind::kPacket;
  if (attr[NFQA_PAYLOAD])
    m.payload = {static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
                 mnl_attr_get_payload_len(attr[NFQA_PAYLOAD])};
  return m;
}

namespace {

// mnl_nlmsg_ok compares the length as a signed int: a length field above
// INT_MAX passes it and sends the walk far outside the datagram. These
// checks compare unsigned and never step past the end.
bool message_fits(const nlmsghdr* nlh, int remaining) {
  return remaining >= static_cast<int>(sizeof(nlmsghdr)) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
         nlh->nlmsg_len <= static_cast<unsigned>(remaining);
}

}  // namespace

namespace detail {

const nlmsghdr* first_message(std::span<const uint8_t> datagram, int& remaining) {
  if (datagram.size() > static_cast<size_t>(INT32_MAX)) return nullptr;
  remaining = static_cast<int>(datagram.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
  return message_fits(nlh, remaining) ? nlh : nullptr;
}

const nlmsghdr* next_message(const nlmsghdr* nlh, int& remaining) {
  // The current message fits, so its aligned length is at most remaining + 3.
  const unsigned step = MNL_ALIGN(nlh->nlmsg_len);
  if (step >= static_cast<unsigned>(remaining)) return nullptr;
  remaining -= static_cast<int>(step);
  const auto* next = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const uint8_t*>(nlh) + step);
  return message_fits(next, remaining) ? next : nullptr;
}

}  // namespace detail

}  // namespace tc::intercept::nfq

// The netlink socket bound to one NFQUEUE queue. Construction binds and
// configures the queue and waits for the kernel's ack of each request, so a
// queue held by another process or a missing privilege fails at start-up
// with a clear message (std::runtime_error).
#pragma once

#include <sys/socket.h>
#include <linux/netlink.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/counters.h"
#include "intercept/nfqueue/queue_transport.h"

struct mnl_socket;

namespace tc::intercept {

struct MnlSocketCloser {
  void operator()(mnl_socket* s) const;
};
using MnlSocketPtr = std::unique_ptr<mnl_socket, MnlSocketCloser>;

// Packets queued while the settings were still being applied; they were
// dropped (verdict given) during construction.
#define TC_NFQUEUE_SOCKET_COUNTERS(COUNTER, GAUGE, REASONS)  \
  COUNTER(dropped_during_setup, "dropped_during_setup", "", \
          "Packets the queue delivered while intercept was still configuring it, dropped")

struct NfqueueSocketCounters {
  TC_COUNTER_FIELDS(TC_NFQUEUE_SOCKET_COUNTERS)

  void report(CounterSink& sink) const;
};

class NfqueueSocket : public QueueTransport {
 public:
  struct Config {
    uint16_t queue_num = 0;
    uint32_t queue_maxlen = 4096;
  };
  explicit NfqueueSocket(const Config& config);

  int fd() const;
  // Receive buffer size the kernel granted (bytes, as getsockopt reports).
  int receive_buffer_bytes() const { return rcvbuf_bytes_; }
  uint64_t dropped_during_setup() const { return counters_.dropped_during_setup; }
  const NfqueueSocketCounters& counters() const { return counters_; }

  int receive(std::span<ReceivedDatagram> slots) override;
  int send(std::span<const uint8_t> messages) override;

 private:
  void set_receive_buffer(uint32_t queue_maxlen);
  void request(std::span<const uint8_t> message, uint32_t seq, const char* what);

  Config config_;
  MnlSocketPtr nl_;
  unsigned portid_ = 0;
  int rcvbuf_bytes_ = 0;
  bool has_net_admin_ = false;
  NfqueueSocketCounters counters_;
  // recvmmsg bookkeeping, sized once for the largest batch asked for.
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<sockaddr_nl> peers_;
};

}  // namespace tc::intercept

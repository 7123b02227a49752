// The receive syscall of the capture shell behind a seam, so tests can make
// it fail (EAGAIN, ENOMEM) or hand back crafted batches.
#pragma once

#include <sys/socket.h>

namespace tc {

class RecvOps {
 public:
  virtual ~RecvOps() = default;
  // Same contract as recvmmsg(2) without a timeout: the number of messages
  // received, or -1 with errno set.
  virtual int recvmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int flags) = 0;
};

// Calls the real syscall. Stateless, shared by every capture.
RecvOps& system_recv_ops();

}  // namespace tc

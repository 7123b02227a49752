// The send syscall of the raw sender behind a seam, so tests can make it
// fail (EAGAIN, ENOBUFS, EPERM, EMSGSIZE) and see how batches are cut.
#pragma once

#include <sys/socket.h>

namespace tc {

class SendOps {
 public:
  virtual ~SendOps() = default;
  // Same contract as sendmmsg(2): the number of messages sent, or -1 with
  // errno set when the first one failed.
  virtual int sendmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int flags) = 0;
};

// Calls the real syscall. Stateless, shared by every sender.
SendOps& system_send_ops();

}  // namespace tc

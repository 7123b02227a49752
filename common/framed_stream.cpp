#include "common/framed_stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace tc {

FramedStream::FramedStream(size_t writer_bytes) : writer_bytes_(writer_bytes), writer_(writer_bytes) {}

FramedStream::FramedStream(UniqueFd fd, size_t writer_bytes)
    : fd_(std::move(fd)), writer_bytes_(writer_bytes), writer_(writer_bytes) {}

void FramedStream::open(UniqueFd fd) {
  fd_ = std::move(fd);
  decoder_ = wire::FrameDecoder();
  writer_ = wire::FrameWriter(writer_bytes_);
}

FramedStream::ReadResult FramedStream::bad_frame() const {
  ReadResult r{ReadResult::Kind::kBadFrame};
  r.wire_error = decoder_.error();
  r.peer_version = decoder_.bad_version();
  return r;
}

std::optional<FramedStream::ReadResult> FramedStream::fill(bool& drained) {
  const std::span<uint8_t> space = decoder_.write_space();
  if (space.empty()) {
    // Frames are taken out after every read, so only a corrupt stream
    // leaves no room.
    if (decoder_.error() != wire::WireError::kNone) return bad_frame();
    return ReadResult{ReadResult::Kind::kAgain};
  }
  while (true) {
    const ssize_t n = ::recv(fd_.get(), space.data(), space.size(), MSG_DONTWAIT);
    if (n > 0) {
      decoder_.commit(static_cast<size_t>(n));
      drained = static_cast<size_t>(n) < space.size();
      return std::nullopt;
    }
    if (n == 0) return ReadResult{ReadResult::Kind::kEof};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return ReadResult{ReadResult::Kind::kAgain};
    ReadResult r{ReadResult::Kind::kError};
    r.err = err;
    return r;
  }
}

FramedStream::WriteResult FramedStream::flush() {
  while (!writer_.empty()) {
    const std::span<const uint8_t> out = writer_.pending();
    const ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      writer_.consume(static_cast<size_t>(n));
      continue;
    }
    // send() takes nothing only when the connection is gone.
    const int err = n < 0 ? errno : EPIPE;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return {WriteResult::Kind::kBlocked};
    return {WriteResult::Kind::kError, err};
  }
  return {WriteResult::Kind::kDone};
}

}  // namespace tc

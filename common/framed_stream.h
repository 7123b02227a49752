// A control-channel stream: one socket, the decoder its frames come in
// through and the writer that queues frames out. The read and write loops
// of both programs' control connections (and the doctor's probe) live here
// only, so EINTR, EAGAIN, end of stream and a corrupt stream are handled
// the same way everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/unique_fd.h"
#include "common/wire.h"

namespace tc {

class FramedStream {
 public:
  // How a read() ended.
  struct ReadResult {
    enum class Kind : uint8_t {
      kAgain,     // the socket is drained (or the read budget used): wait for it
      kStopped,   // the frame callback stopped it, or closed the stream
      kEof,       // the peer closed its side
      kError,     // recv failed: `err`
      kBadFrame,  // the byte stream is corrupt: `wire_error`
    };
    Kind kind = Kind::kAgain;
    int err = 0;
    wire::WireError wire_error = wire::WireError::kNone;
    uint8_t peer_version = 0;  // with wire_error kBadVersion: the version the peer speaks
  };
  // How a flush() ended.
  struct WriteResult {
    enum class Kind : uint8_t {
      kDone,     // nothing is left to write
      kBlocked,  // the socket is full: the rest waits for writability
      kError,    // send failed: `err`
    };
    Kind kind = Kind::kDone;
    int err = 0;
  };

  // Reads per read() call, so one busy peer cannot starve the others.
  static constexpr int kReadsPerCall = 16;

  // `writer_bytes` bounds the output queue (see wire::FrameWriter).
  explicit FramedStream(size_t writer_bytes);
  FramedStream(UniqueFd fd, size_t writer_bytes);

  // Starts a fresh stream on `fd` (non-blocking): nothing of a previous
  // one is left in the decoder or the writer.
  void open(UniqueFd fd);
  // Closes the socket. Frames handed out stay readable until open().
  void close() { fd_.reset(); }
  bool is_open() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  wire::FrameWriter& writer() { return writer_; }
  const wire::FrameWriter& writer() const { return writer_; }
  bool has_output() const { return !writer_.empty(); }
  void set_max_payload(size_t n) { decoder_.set_max_payload(n); }
  // Frees the input and output buffers where they hold nothing (an idle
  // connection); they grow again from small when needed.
  void release_buffers() {
    decoder_.release();
    writer_.release();
  }
  // Bytes the buffers hold allocated.
  size_t buffer_bytes() const { return decoder_.capacity() + writer_.capacity(); }

  // Reads what the socket holds and calls `on_frame(const wire::Frame&)`
  // for every complete frame; it returns false to stop. The callback may
  // close() the stream: reading stops then too.
  template <class OnFrame>
  ReadResult read(OnFrame&& on_frame, int max_reads = kReadsPerCall) {
    bool drained = false;
    for (int reads = 0;; ++reads) {
      // Frames left over from a stopped read come first.
      while (std::optional<wire::Frame> frame = decoder_.next()) {
        if (!on_frame(*frame) || !is_open()) return {ReadResult::Kind::kStopped};
      }
      if (decoder_.error() != wire::WireError::kNone) return bad_frame();
      if (drained || reads == max_reads) return {ReadResult::Kind::kAgain};
      if (std::optional<ReadResult> end = fill(drained)) return *end;
    }
  }

  // Writes pending output until it is all sent or the socket is full.
  WriteResult flush();

 private:
  // One recv() into the decoder. nullopt: bytes came in (`drained` when
  // they did not fill the space offered); otherwise how reading ends.
  std::optional<ReadResult> fill(bool& drained);
  ReadResult bad_frame() const;

  UniqueFd fd_;
  size_t writer_bytes_;
  wire::FrameDecoder decoder_;
  wire::FrameWriter writer_;
};

}  // namespace tc

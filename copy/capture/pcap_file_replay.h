// Offline replay: the packets of a capture file (pcap or pcapng), handed to
// the engine in file order at the pace of their timestamps (-a speeds it
// up, -I cuts long idle gaps), the whole file `repeat` times. The target is
// live; replies come back through intercept as usual.
//
// The loop polls a timerfd armed for the next packet's due time. Packets
// already due are delivered in batches, so a fast replay cannot starve
// the replies.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/pcap_io.h"
#include "common/unique_fd.h"
#include "copy/capture/capture_source.h"
#include "copy/capture/replay_pacer.h"
#include "copy/capture/replay_progress.h"

namespace tc {

struct PcapReplayOptions {
  std::string path;
  std::string filter;            // -F; empty: every packet (the engine keeps the -x ones)
  uint32_t speed = 1;            // -a
  Duration idle_threshold{0};    // -I; 0: gaps are kept
  uint32_t repeat = 1;           // --repeat
};

// packets: IP packets delivered; truncated: cut when recorded, not
// replayable; read_errors: the file could not be read to its end, or
// reopened.
#define TC_PCAP_REPLAY_COUNTERS(COUNTER, GAUGE, REASONS)                                             \
  COUNTER(packets, "capture_packets", "", "Packets the capture read (packet ring, raw sockets, libpcap or a file)") \
  COUNTER(bytes, "capture_bytes", "", "Bytes of those packets")                                      \
  COUNTER(truncated, "capture_truncated", "", "Packets cut short by the snap length (-S, or a file's when it was recorded), not replayed") \
  COUNTER(passes, "replay_passes", "", "Passes through the capture file finished (--repeat)")         \
  COUNTER(read_errors, "replay_read_errors", "", "Times the capture file could not be read to its end, or reopened") \
  REASONS(link_errors, "capture_link_errors", LinkError, 1, "Frames whose link-layer header could not be read, by reason")

struct PcapReplayStats {
  TC_COUNTER_FIELDS(TC_PCAP_REPLAY_COUNTERS)

  void report(CounterSink& sink) const;
};

// Where a damaged file stopped the replay: the record read last, the byte
// offset libpcap had reached, and libpcap's reason.
struct ReplayBreak {
  uint32_t pass = 0;        // 0 for the first pass
  uint64_t record = 0;      // records read in that pass before the break
  int64_t offset = -1;      // byte offset in the file; -1 when unknown
  std::string reason;
};

class PcapFileReplay final : public CaptureSource {
 public:
  static constexpr size_t kMaxPerDrain = 1024;

  // Opens the file. Throws std::runtime_error ("cannot read pcap file F:
  // ...", unsupported link type, bad filter) or std::system_error (timerfd).
  explicit PcapFileReplay(const PcapReplayOptions& options);

  // Starts the replay: the first packet is due at `at`. Until then nothing
  // is delivered (the owner waits for its intercepts).
  void start(TimePoint at);
  bool started() const { return started_; }

  int fd() const override { return timer_.get(); }
  size_t drain(PacketHandler& handler) override;
  void report(CounterSink& sink) const override;
  bool finished() const override { return started_ && !pending_; }

  // Delivers the packets due at `now` (at most kMaxPerDrain), and tells
  // the handler when a pass ended, before the first packet of the next.
  // Used by drain() with the monotonic clock, by tests with their own.
  size_t deliver_due(TimePoint now, PacketHandler& handler);
  // The due time of the next packet (meaningless once finished()).
  TimePoint next_due() const { return pending_due_; }
  int link_type() const { return link_type_; }
  uint32_t pass() const { return pass_; }
  const PcapReplayStats& stats() const { return stats_; }
  // Set when the file could not be read to its end (or reopened for a
  // later pass): the replay ended there.
  const std::optional<ReplayBreak>& damage() const { return damage_; }
  // How far through the file it is. Costs a seek query (a system call):
  // for a progress line now and then, not per packet.
  ReplayPosition position() const;

 private:
  // Opens (again) the file with its filter; the error text, empty on success.
  std::string open_file();
  // Reads the next packet of the file into pending_, going on to the next
  // pass at the end of the file; pending_ = false after the last pass.
  void advance();
  // Notes where the file broke and why; the first break is kept.
  void note_damage(std::string reason);
  void deliver(PacketHandler& handler);
  void arm_timer();

  PcapReplayOptions options_;
  PcapHandle file_;
  int link_type_ = 0;
  int64_t file_size_ = -1;  // -1: not a regular file
  UniqueFd timer_;
  ReplayPacer pacer_;
  uint32_t pass_ = 0;
  bool started_ = false;
  bool pending_ = false;
  const pcap_pkthdr* pending_header_ = nullptr;
  const u_char* pending_data_ = nullptr;
  TimePoint pending_due_{};
  // Packets of later passes are copied here to move their sequence numbers.
  std::unique_ptr<uint8_t[]> scratch_;
  size_t scratch_size_ = 0;
  PcapReplayStats stats_;
  uint64_t records_in_pass_ = 0;
  std::optional<ReplayBreak> damage_;
  bool pass_ended_ = false;  // the handler hears of it before the next packet
};

}  // namespace tc

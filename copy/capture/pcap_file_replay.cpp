#include "copy/capture/pcap_file_replay.h"

#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace tc {

namespace {

constexpr size_t kMinScratch = 65536;

Duration stamp_of(const pcap_pkthdr& h) {
  // Opened with nanosecond precision: tv_usec holds nanoseconds.
  return std::chrono::seconds(h.ts.tv_sec) + std::chrono::nanoseconds(h.ts.tv_usec);
}

}  // namespace

PcapFileReplay::PcapFileReplay(const PcapReplayOptions& options)
    : options_(options),
      timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      pacer_(options.speed, options.idle_threshold) {
  if (!timer_) throw std::system_error(errno, std::generic_category(), "offline replay: timerfd_create");
  if (std::string err = open_file(); !err.empty()) throw std::runtime_error(err);
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) file_size_ = static_cast<int64_t>(st.st_size);
  const int snapshot = pcap_snapshot(file_.get());
  scratch_size_ = std::max(kMinScratch, snapshot > 0 ? static_cast<size_t>(snapshot) : size_t{0});
  scratch_ = std::make_unique_for_overwrite<uint8_t[]>(scratch_size_);
}

void PcapFileReplay::start(TimePoint at) {
  if (started_) return;
  started_ = true;
  pacer_.start_pass(at);
  advance();
  arm_timer();
}

std::string PcapFileReplay::open_file() {
  const std::string what = "pcap file " + options_.path;
  std::string err;
  file_ = open_capture_file(options_.path, err);
  if (!file_) return "cannot read pcap file: " + err;  // libpcap's text names the file
  link_type_ = pcap_datalink(file_.get());
  err = link_type_problem(file_.get());
  if (err.empty()) err = install_filter(file_.get(), options_.filter);
  if (err.empty()) return {};
  file_.reset();
  return what + ": " + err;
}

void PcapFileReplay::advance() {
  pending_ = false;
  // At most one reopen per call: a file with no packet ends the replay.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (file_) {
      pcap_pkthdr* header = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(file_.get(), &header, &data);
      if (rc == 1) {
        ++records_in_pass_;
        pending_ = true;
        pending_header_ = header;
        pending_data_ = data;
        pending_due_ = pacer_.due(stamp_of(*header));
        return;
      }
      if (rc != PCAP_ERROR_BREAK) {
        // A damaged file: the replay ends here, whatever passes remain (a
        // later pass would break at the same place).
        ++stats_.read_errors;
        note_damage(pcap_geterr(file_.get()));
        ++stats_.passes;
        pass_ended_ = true;
        file_.reset();
        return;
      }
      ++stats_.passes;
      pass_ended_ = true;
      if (pass_ + 1 >= options_.repeat || stats_.packets == 0) {
        file_.reset();
        return;
      }
    }
    // The next pass starts right after the last packet of this one.
    ++pass_;
    records_in_pass_ = 0;
    if (std::string err = open_file(); !err.empty()) {  // deleted or replaced since start-up
      ++stats_.read_errors;
      note_damage(err);
      return;
    }
    pacer_.start_pass(pending_due_);
  }
}

void PcapFileReplay::note_damage(std::string reason) {
  if (damage_) return;
  ReplayBreak b;
  b.pass = pass_;
  b.record = records_in_pass_;
  if (file_) {
    if (FILE* f = pcap_file(file_.get())) b.offset = static_cast<int64_t>(std::ftell(f));
  }
  b.reason = std::move(reason);
  damage_ = std::move(b);
}

void PcapFileReplay::deliver(PacketHandler& handler) {
  const pcap_pkthdr& h = *pending_header_;
  if (h.caplen < h.len) {
    ++stats_.truncated;
    return;
  }
  std::span<const uint8_t> ip;
  const LinkError e = ip_packet(link_type_, std::span<const uint8_t>(pending_data_, h.caplen), ip);
  if (e != LinkError::kNone) {
    ++stats_.link_errors[static_cast<size_t>(e)];
    return;
  }
  ++stats_.packets;
  stats_.bytes += ip.size();
  const uint32_t shift = pass_shift(pass_);
  if (shift == 0 || ip.size() > scratch_size_) {
    handler.on_packet(ip);
    return;
  }
  std::memcpy(scratch_.get(), ip.data(), ip.size());
  const std::span<uint8_t> copy(scratch_.get(), ip.size());
  shift_client_packet(copy, shift);  // not TCP: delivered as it is, the engine counts it
  handler.on_packet(copy);
}

size_t PcapFileReplay::deliver_due(TimePoint now, PacketHandler& handler) {
  size_t n = 0;
  for (;;) {
    if (pass_ended_) {
      pass_ended_ = false;
      handler.on_capture_end();
    }
    if (!pending_ || pending_due_ > now || n >= kMaxPerDrain) break;
    deliver(handler);
    ++n;
    advance();
  }
  return n;
}

size_t PcapFileReplay::drain(PacketHandler& handler) {
  uint64_t expirations = 0;
  while (::read(timer_.get(), &expirations, sizeof expirations) > 0) {
  }
  const size_t n = deliver_due(monotonic_now(), handler);
  arm_timer();
  return n;
}

void PcapFileReplay::arm_timer() {
  itimerspec spec{};
  if (pending_) {
    // Absolute time on the clock monotonic_now() reads; a time already
    // passed fires at once. Never zero, which would disarm.
    const int64_t ns = std::max<int64_t>(pending_due_.count(), 1);
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
  }
  timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

ReplayPosition PcapFileReplay::position() const {
  ReplayPosition p;
  p.pass = pass_;
  p.passes = options_.repeat;
  p.file_size = file_size_;
  if (file_) {
    if (FILE* f = pcap_file(file_.get())) p.offset = static_cast<int64_t>(std::ftell(f));
  }
  p.packets = stats_.packets;
  p.bytes = stats_.bytes;
  p.done = finished() && !damage_;  // a broken file is not done
  return p;
}

void PcapFileReplay::report(CounterSink& sink) const { stats_.report(sink); }

void PcapReplayStats::report(CounterSink& sink) const { TC_COUNTER_REPORT(TC_PCAP_REPLAY_COUNTERS, sink); }

}  // namespace tc

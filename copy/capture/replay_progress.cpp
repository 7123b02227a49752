#include "copy/capture/replay_progress.h"

#include <algorithm>
#include <cstdio>

namespace tc {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// "18 s", "4 min 05 s", "2 h 07 min".
std::string span_text(double s) {
  char out[32];
  const long t = static_cast<long>(s + 0.5);
  if (t < 60) std::snprintf(out, sizeof out, "%ld s", t);
  else if (t < 3600) std::snprintf(out, sizeof out, "%ld min %02ld s", t / 60, t % 60);
  else std::snprintf(out, sizeof out, "%ld h %02ld min", t / 3600, (t / 60) % 60);
  return out;
}

// "640 KiB", "11.2 MiB", "3.05 GiB".
std::string size_text(double bytes) {
  char out[32];
  if (bytes < kMiB) std::snprintf(out, sizeof out, "%.0f KiB", bytes / 1024.0);
  else if (bytes < 1024.0 * kMiB) std::snprintf(out, sizeof out, "%.1f MiB", bytes / kMiB);
  else std::snprintf(out, sizeof out, "%.2f GiB", bytes / (1024.0 * kMiB));
  return out;
}

}  // namespace

double ReplayProgress::fraction(const ReplayPosition& p) {
  if (p.done) return 1.0;
  if (p.file_size <= 0 || p.offset < 0 || p.passes == 0) return -1.0;
  const double in_pass = std::min(1.0, static_cast<double>(p.offset) / static_cast<double>(p.file_size));
  return std::min(1.0, (p.pass + in_pass) / p.passes);
}

std::string ReplayProgress::line(const ReplayPosition& p, TimePoint now) {
  const double interval = seconds(now - last_at_);
  const double packet_rate = interval > 0 ? static_cast<double>(p.packets - last_packets_) / interval : 0.0;
  const double byte_rate = interval > 0 ? static_cast<double>(p.bytes - last_bytes_) / interval : 0.0;
  last_at_ = now;
  last_packets_ = p.packets;
  last_bytes_ = p.bytes;

  char head[160];
  const double f = fraction(p);
  const uint32_t pass = std::min(p.pass + 1, std::max<uint32_t>(p.passes, 1));
  if (f >= 0 && p.file_size > 0) {
    const int64_t read = p.done ? p.file_size : std::min(p.file_size, std::max<int64_t>(p.offset, 0));
    std::snprintf(head, sizeof head, "offline replay: %.1f%% (pass %u/%u, %s of %s)", f * 100.0, pass, p.passes,
                  size_text(static_cast<double>(read)).c_str(), size_text(static_cast<double>(p.file_size)).c_str());
  } else {
    std::snprintf(head, sizeof head, "offline replay: pass %u/%u", pass, p.passes);
  }
  std::string out = head;
  char tail[160];
  const double elapsed = seconds(now - start_);
  if (p.done) {
    std::snprintf(tail, sizeof tail, ", %llu packets, done in %s", static_cast<unsigned long long>(p.packets),
                  span_text(elapsed).c_str());
    return out + tail;
  }
  std::snprintf(tail, sizeof tail, ", %llu packets, %.0f packets/s, %.1f MiB/s",
                static_cast<unsigned long long>(p.packets), packet_rate, byte_rate / kMiB);
  out += tail;
  if (f > 0.001 && elapsed >= 1.0) out += ", about " + span_text(elapsed * (1.0 - f) / f) + " left";
  return out;
}

}  // namespace tc

#include "copy/engine/unreplayable.h"

#include <cstdio>
#include <string_view>

namespace tc {

namespace {

bool starts_with(std::span<const uint8_t> payload, std::string_view prefix) {
  if (payload.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (payload[i] != static_cast<uint8_t>(prefix[i])) return false;
  return true;
}

// A TLS record header: content type (change_cipher_spec 20, alert 21,
// handshake 22, application_data 23), version 3.0 to 3.4, and a length no
// record exceeds (2^14 plus the 2048 bytes of expansion TLS 1.2 allows).
// A handshake record that opens a connection must be a ClientHello (1).
bool tls_record(std::span<const uint8_t> p) {
  if (p.size() < 5) return false;
  if (p[0] < 20 || p[0] > 23 || p[1] != 3 || p[2] > 4) return false;
  const unsigned length = (unsigned{p[3]} << 8) | p[4];
  if (length == 0 || length > (1u << 14) + 2048) return false;
  if (p[0] == 22 && p.size() > 5 && p[5] != 1) return false;
  return true;
}

// What to do about each kind, for the log line.
constexpr const char* kAdvice[kUnreplayableKinds] = {
    "the copy cannot hold the client's keys, so the target fails the handshake or the records; "
    "capture behind the TLS terminator",
    "HTTP/2 connections open before capture began cannot be joined; run with -O to skip them, "
    "and expect no per-request pacing or comparison inside the connection",
    "the copy cannot hold the client's keys; SSH cannot be replayed",
};

}  // namespace

std::optional<UnreplayableReason> unreplayable_kind(std::span<const uint8_t> payload) {
  if (tls_record(payload)) return UnreplayableReason::kTls;
  // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113, 3.4); its first line is
  // enough, and nothing else starts so.
  if (starts_with(payload, "PRI * HTTP/2.0\r\n")) return UnreplayableReason::kHttp2;
  // "SSH-protoversion-softwareversion" (RFC 4253, 4.2).
  if (starts_with(payload, "SSH-2.0-") || starts_with(payload, "SSH-1.99-")) return UnreplayableReason::kSsh;
  return std::nullopt;
}

std::vector<std::string> UnreplayableNotices::due(const EngineCounters& counters,
                                                  const std::array<UnreplayableSeen, kUnreplayableKinds>& last,
                                                  TimePoint now) {
  std::vector<std::string> lines;
  for (size_t k = 0; k < kUnreplayableKinds; ++k) {
    const uint64_t total = counters.sessions_unreplayable[k];
    if (total == logged_[k]) continue;
    if (said_[k] && now - when_[k] < every_) continue;
    const uint64_t fresh = total - logged_[k];
    const char* kind = to_string(static_cast<UnreplayableReason>(k));
    char head[160];
    std::snprintf(head, sizeof head, "%llu%s %s session(s) (latest from %s to port %u): ",
                  static_cast<unsigned long long>(fresh), said_[k] ? " more" : "", kind,
                  last[k].client.to_string().c_str(), unsigned{last[k].online_port});
    lines.push_back(std::string("unreplayable: ") + head + kAdvice[k] +
                    " (counted in sessions_unreplayable; still replicated)");
    logged_[k] = total;
    when_[k] = now;
    said_[k] = true;
  }
  return lines;
}

}  // namespace tc

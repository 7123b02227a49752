// A replayed connection as the target sees it: the (possibly rewritten)
// client endpoint and the target endpoint. tcpcopy keys its sessions by it
// and intercept routes reply headers by it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/ip_address.h"

namespace tc {

struct SessionKey {
  IpAddress client;
  IpAddress target;
  uint16_t client_port = 0;
  uint16_t target_port = 0;

  friend bool operator==(const SessionKey&, const SessionKey&) = default;
  std::string to_string() const;
};

struct SessionKeyHash {
  size_t operator()(const SessionKey& k) const noexcept {
    // 64-bit mix over the 36 significant bytes (FNV-1a seeded, then avalanche).
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](const uint8_t* p, size_t n) {
      for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    };
    mix(k.client.bytes16().data() + 8, 8);
    mix(k.target.bytes16().data() + 8, 8);
    const uint32_t ports = (uint32_t{k.client_port} << 16) | k.target_port;
    h ^= ports;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return static_cast<size_t>(h);
  }
};

inline std::string SessionKey::to_string() const {
  return Endpoint{client, client_port}.to_string() + "->" + Endpoint{target, target_port}.to_string();
}

}  // namespace tc

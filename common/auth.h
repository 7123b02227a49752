// Shared-secret authentication of the control channel: a challenge and
// response with HMAC-SHA256 (OpenSSL's libcrypto, not hand-written crypto).
//
//   tcpcopy -> intercept  kHello     instance id
//   intercept -> tcpcopy  kChallenge server nonce (32 random bytes)
//   tcpcopy -> intercept  kAuth      client nonce, HMAC(secret, "tcpcopy client" | server nonce |
//                                                         client nonce | instance id)
//   intercept -> tcpcopy  kHelloAck  flags = kAckProof, HMAC(secret, "tcpcopy intercept" | same)
//
// Fresh nonces on both sides make every proof good for one connection
// only; the different labels keep one side's proof from serving as the
// other's. Proofs are compared in constant time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tc {

inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kProofSize = 32;  // HMAC-SHA256
using Nonce = std::array<uint8_t, kNonceSize>;
using Proof = std::array<uint8_t, kProofSize>;

class SharedSecret {
 public:
  static constexpr size_t kMinBytes = 16;
  static constexpr size_t kMaxBytes = 4096;

  // Reads a secret file. It must be a regular file that other users can
  // neither read nor write, of kMinBytes..kMaxBytes; one trailing newline is
  // not part of the secret. nullopt with `error` saying what is wrong.
  static std::optional<SharedSecret> load(const std::string& path, std::string& error);

  explicit SharedSecret(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  SharedSecret(const SharedSecret& o) : bytes_(o.bytes_) {}
  SharedSecret& operator=(const SharedSecret& o);
  SharedSecret(SharedSecret&& o) noexcept : bytes_(std::move(o.bytes_)) {}
  SharedSecret& operator=(SharedSecret&& o) noexcept;
  ~SharedSecret();  // wipes the bytes

  // nullopt only if the library fails; the exchange must then fail too.
  std::optional<Proof> client_proof(const Nonce& server, const Nonce& client, uint32_t instance_id) const;
  std::optional<Proof> server_proof(const Nonce& server, const Nonce& client, uint32_t instance_id) const;

 private:
  std::optional<Proof> mac(const char* label, const Nonce& server, const Nonce& client, uint32_t instance_id) const;
  void wipe();
  std::vector<uint8_t> bytes_;
};

// Constant-time comparison.
bool proofs_equal(const Proof& a, const Proof& b);

// 32 bytes from the system's random source; false if it failed.
bool random_nonce(Nonce& out);

}  // namespace tc

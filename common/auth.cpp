#include "common/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/byte_reader.h"
#include "common/unique_fd.h"

namespace tc {

namespace {

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

std::optional<SharedSecret> SharedSecret::load(const std::string& path, std::string& error) {
  if (path.empty()) {
    error = "no file name";
    return std::nullopt;
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  // Checked on the open file, so it cannot change between check and read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return std::nullopt;
  }
  if (st.st_mode & (S_IROTH | S_IWOTH)) {
    error = "other users may read or write it (mode " + mode_text(st.st_mode) + "); chmod o-rwx " + path;
    return std::nullopt;
  }
  if (st.st_size > static_cast<off_t>(kMaxBytes + 2)) {
    error = "longer than " + std::to_string(kMaxBytes) + " bytes";
    return std::nullopt;
  }
  std::vector<uint8_t> bytes(kMaxBytes + 3);
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return std::nullopt;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  // "echo secret > file" adds a newline that is not meant as secret.
  size_t len = got;
  if (len > 0 && bytes[len - 1] == '\n') --len;
  if (len > 0 && bytes[len - 1] == '\r') --len;
  SharedSecret secret(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(len)));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (len > kMaxBytes) {
    error = "longer than " + std::to_string(kMaxBytes) + " bytes";
    return std::nullopt;
  }
  if (len < kMinBytes) {
    error = "shorter than " + std::to_string(kMinBytes) + " bytes (e.g. head -c 32 /dev/urandom | base64 > FILE)";
    return std::nullopt;
  }
  return secret;
}

SharedSecret& SharedSecret::operator=(const SharedSecret& o) {
  if (this != &o) {
    wipe();
    bytes_ = o.bytes_;
  }
  return *this;
}

SharedSecret& SharedSecret::operator=(SharedSecret&& o) noexcept {
  if (this != &o) {
    wipe();
    bytes_ = std::move(o.bytes_);
  }
  return *this;
}

SharedSecret::~SharedSecret() { wipe(); }

void SharedSecret::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

std::optional<Proof> SharedSecret::mac(const char* label, const Nonce& server, const Nonce& client, uint32_t instance_id) const {
  std::array<uint8_t, 32 + 2 * kNonceSize + 4> msg{};
  ByteWriter w(msg);
  const size_t label_len = std::strlen(label);
  w.bytes(std::span(reinterpret_cast<const uint8_t*>(label), label_len + 1));  // with its NUL
  w.bytes(server);
  w.bytes(client);
  w.be32(instance_id);
  Proof out{};
  unsigned int out_len = 0;
  if (w.overflowed() || bytes_.empty() ||
      HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()), msg.data(), w.size(), out.data(),
           &out_len) == nullptr ||
      out_len != out.size())
    return std::nullopt;
  return out;
}

std::optional<Proof> SharedSecret::client_proof(const Nonce& server, const Nonce& client, uint32_t instance_id) const {
  return mac("tcpcopy client", server, client, instance_id);
}

std::optional<Proof> SharedSecret::server_proof(const Nonce& server, const Nonce& client, uint32_t instance_id) const {
  return mac("tcpcopy intercept", server, client, instance_id);
}

bool proofs_equal(const Proof& a, const Proof& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

bool random_nonce(Nonce& out) { return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1; }

}  // namespace tc

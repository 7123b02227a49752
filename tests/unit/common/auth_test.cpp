#include "common/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/wire.h"

namespace tc {
namespace {

class SecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tcpcopy-secret-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove(path().c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/secret"; }
  void write(const std::string& text, mode_t mode) {
    std::remove(path().c_str());
    std::ofstream(path()) << text;
    ASSERT_EQ(::chmod(path().c_str(), mode), 0);
  }
  std::string dir_;
};

TEST_F(SecretFile, LoadsAPrivateFileWithoutItsTrailingNewline) {
  write("0123456789abcdef-secret\n", 0600);
  std::string err;
  auto s = SharedSecret::load(path(), err);
  ASSERT_TRUE(s) << err;
  write("0123456789abcdef-secret", 0640);
  auto t = SharedSecret::load(path(), err);
  ASSERT_TRUE(t) << err;
  Nonce a{}, b{};
  a.fill(1);
  b.fill(2);
  EXPECT_EQ(s->client_proof(a, b, 7), t->client_proof(a, b, 7)) << "the newline is not part of the secret";
}

TEST_F(SecretFile, RefusesFilesOthersMayReadOrWrite) {
  std::string err;
  write("0123456789abcdef-secret\n", 0644);
  EXPECT_FALSE(SharedSecret::load(path(), err));
  EXPECT_NE(err.find("other users may read"), std::string::npos) << err;
  EXPECT_NE(err.find("0644"), std::string::npos) << err;
  write("0123456789abcdef-secret\n", 0602);
  EXPECT_FALSE(SharedSecret::load(path(), err));
}

TEST_F(SecretFile, RefusesShortEmptyMissingAndNonRegular) {
  std::string err;
  write("short\n", 0600);
  EXPECT_FALSE(SharedSecret::load(path(), err));
  EXPECT_NE(err.find("shorter than 16"), std::string::npos) << err;
  write("", 0600);
  EXPECT_FALSE(SharedSecret::load(path(), err));
  EXPECT_FALSE(SharedSecret::load(dir_ + "/missing", err));
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
  EXPECT_FALSE(SharedSecret::load(dir_, err));
  EXPECT_FALSE(SharedSecret::load("", err));
  write(std::string(SharedSecret::kMaxBytes + 10, 'x'), 0600);
  EXPECT_FALSE(SharedSecret::load(path(), err));
  EXPECT_NE(err.find("longer than"), std::string::npos) << err;
}

TEST(SharedSecret, ProofsDependOnSecretNoncesIdAndDirection) {
  SharedSecret one(std::vector<uint8_t>(20, 'a'));
  SharedSecret two(std::vector<uint8_t>(20, 'b'));
  Nonce s{}, c{};
  ASSERT_TRUE(random_nonce(s));
  ASSERT_TRUE(random_nonce(c));
  EXPECT_NE(s, c);
  const Proof p = *one.client_proof(s, c, 1);
  EXPECT_TRUE(proofs_equal(p, *one.client_proof(s, c, 1)));
  EXPECT_FALSE(proofs_equal(p, *two.client_proof(s, c, 1)));
  EXPECT_FALSE(proofs_equal(p, *one.client_proof(c, s, 1)));
  EXPECT_FALSE(proofs_equal(p, *one.client_proof(s, c, 2)));
  EXPECT_FALSE(proofs_equal(p, *one.server_proof(s, c, 1)));
}

TEST(SharedSecret, IsPlainHmacSha256OverLabelNoncesAndId) {
  SharedSecret k(std::vector<uint8_t>{'k', 'e', 'y'});
  Nonce zero{};
  const Proof p = *k.client_proof(zero, zero, 0);
  // The same computed independently:
  //   (printf 'tcpcopy client\0'; head -c 68 /dev/zero) | openssl dgst -sha256 -mac HMAC -macopt key:key
  const char* expect_hex = "c496744f3ac3e148de62ed5813def34e87cd49fd08c057a763f64e2ef178ba0e";
  std::string hex;
  for (uint8_t b : p) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  EXPECT_EQ(hex, expect_hex);
}

}  // namespace
}  // namespace tc

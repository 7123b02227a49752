// One fuzz target per file. TC_FUZZ_TARGET(name) defines
// tc::fuzz::name(data, size); in a libFuzzer build (TC_FUZZ_LIBFUZZER) it
// also defines LLVMFuzzerTestOneInput calling it. The normal build links
// every target into the replay test, which runs each corpus and regression
// file through its target on every test run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#ifdef TC_FUZZ_LIBFUZZER
#define TC_FUZZ_ENTRY(name)                                                 \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    return tc::fuzz::name(data, size);                                      \
  }
#else
#define TC_FUZZ_ENTRY(name)
#endif

#define TC_FUZZ_TARGET(name)                          \
  namespace tc::fuzz {                                \
  int name(const uint8_t* data, size_t size);         \
  }                                                   \
  TC_FUZZ_ENTRY(name)                                 \
  int tc::fuzz::name(const uint8_t* data, size_t size)

// An invariant of the code under test; a violation is a finding.
#define TC_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace tc::fuzz {

// Reads typed values off the front of the input; past the end everything
// reads as zero, so every input is a valid program.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  bool flag() { return u8() & 1; }
  // Up to n bytes (fewer at the end).
  std::span<const uint8_t> bytes(size_t n) {
    const size_t take = n < remaining() ? n : remaining();
    std::span<const uint8_t> s(data_ + pos_, take);
    pos_ += take;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace tc::fuzz

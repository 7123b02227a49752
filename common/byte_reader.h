// Bounds-checked cursor over packet bytes. Every parser in the project reads
// through this type, so no parser casts a struct onto a buffer and all range
// checks live here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace tc {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return pos_ >= data_.size(); }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool be16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool be32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
          (uint32_t{data_[pos_ + 2]} << 8) | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  // Takes the next n bytes as a sub-span.
  std::optional<std::span<const uint8_t>> take(size_t n) {
    if (n > remaining()) return std::nullopt;
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Writes big-endian fields into a fixed buffer; a write past the end sets the
// overflow flag instead of writing, so callers check once at the end.
class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> out) : out_(out) {}

  size_t size() const { return pos_; }
  bool overflowed() const { return overflow_; }
  std::span<uint8_t> written() const { return out_.first(pos_); }

  void u8(uint8_t v) {
    if (!room(1)) return;
    out_[pos_++] = v;
  }
  void be16(uint16_t v) {
    if (!room(2)) return;
    out_[pos_++] = static_cast<uint8_t>(v >> 8);
    out_[pos_++] = static_cast<uint8_t>(v);
  }
  void be32(uint32_t v) {
    if (!room(4)) return;
    for (int shift = 24; shift >= 0; shift -= 8) out_[pos_++] = static_cast<uint8_t>(v >> shift);
  }
  void bytes(std::span<const uint8_t> v) {
    if (!room(v.size()) || v.empty()) return;
    std::memcpy(out_.data() + pos_, v.data(), v.size());  // payloads: wide copies, not a byte loop
    pos_ += v.size();
  }
  void zeros(size_t n) {
    if (!room(n) || n == 0) return;
    std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
  }
  // Overwrites a 16-bit field already written at `at`.
  void patch_be16(size_t at, uint16_t v) {
    if (at + 2 > pos_) {
      overflow_ = true;
      return;
    }
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
  }
  void patch_be32(size_t at, uint32_t v) {
    if (at + 4 > pos_) {
      overflow_ = true;
      return;
    }
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }

 private:
  bool room(size_t n) {
    if (overflow_ || n > out_.size() - pos_) {
      overflow_ = true;
      return false;
    }
    return true;
  }
  std::span<uint8_t> out_;
  size_t pos_ = 0;
  bool overflow_ = false;
};

}  // namespace tc

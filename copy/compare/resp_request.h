// Walks a Redis request as clients send it, an array of bulk strings
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), over a prefix that may end anywhere.
// Shared by the request label (the command name) and the exchange log (the
// command line). Bounds-checked on every byte; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tc::compare {

namespace resp_detail {

// Reads a decimal count of 1..9 digits at `pos` followed by "\r\n" and
// moves past both; false (pos unchanged) when absent or cut.
inline bool read_count(std::span<const uint8_t> b, size_t& pos, size_t& value) {
  size_t at = pos, v = 0, digits = 0;
  while (at < b.size() && b[at] >= '0' && b[at] <= '9' && digits < 9) {
    v = v * 10 + (b[at] - '0');
    ++at;
    ++digits;
  }
  if (digits == 0 || at + 2 > b.size() || b[at] != '\r' || b[at + 1] != '\n') return false;
  pos = at + 2;
  value = v;
  return true;
}

}  // namespace resp_detail

// Calls `argument(bytes)` for each bulk string of the array at the start of
// `request`, in order; the last one may be cut short by the prefix's end.
// Stops at the first element that is not a well-formed bulk string. Returns
// how many arguments it passed on (0 when `request` is no RESP array).
template <class F>
size_t for_each_resp_argument(std::span<const uint8_t> request, F&& argument) {
  using resp_detail::read_count;
  size_t pos = 1, count = 0;
  if (request.empty() || request[0] != '*' || !read_count(request, pos, count)) return 0;
  size_t passed = 0;
  for (size_t i = 0; i < count; ++i) {
    if (pos >= request.size() || request[pos] != '$') break;
    ++pos;
    size_t len = 0;
    if (!read_count(request, pos, len)) break;
    const size_t avail = request.size() - pos;
    const size_t take = len < avail ? len : avail;
    argument(request.subspan(pos, take));
    ++passed;
    if (take < len) break;  // cut by the prefix's end
    pos += len;
    if (pos + 2 > request.size() || request[pos] != '\r' || request[pos + 1] != '\n') break;
    pos += 2;
  }
  return passed;
}

}  // namespace tc::compare

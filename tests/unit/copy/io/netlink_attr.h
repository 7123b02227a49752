// Tests that read rtnetlink messages: the attribute of a type in a message.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>
#include <cstdint>

namespace tc::test {

// The last attribute of `type` after a family header of `header` bytes, or
// nullptr.
inline const nlattr* find_attr(const nlmsghdr* nlh, size_t header, uint16_t type) {
  struct Found {
    uint16_t type;
    const nlattr* attr = nullptr;
  } f{type};
  mnl_attr_parse(
      nlh, static_cast<unsigned>(header),
      [](const nlattr* a, void* data) {
        auto* found = static_cast<Found*>(data);
        if (mnl_attr_get_type(a) == found->type) found->attr = a;
        return static_cast<int>(MNL_CB_OK);
      },
      &f);
  return f.attr;
}

}  // namespace tc::test

#include "common/process/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace tc {

namespace {

// glibc has no wrapper for capget/capset; libcap would be one more
// dependency for two system calls.
int capget_raw(__user_cap_header_struct* h, __user_cap_data_struct* d) {
  return static_cast<int>(::syscall(SYS_capget, h, d));
}
int capset_raw(__user_cap_header_struct* h, const __user_cap_data_struct* d) {
  return static_cast<int>(::syscall(SYS_capset, h, d));
}

struct CapSets {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

CapSets read_sets() {
  CapSets s;
  if (capget_raw(&s.header, s.data) != 0) throw std::system_error(errno, std::generic_category(), "capget");
  return s;
}

bool has(const uint32_t (&words)[2], int cap) { return (words[cap / 32] >> (cap % 32)) & 1u; }

const char* cap_name(int cap) {
  switch (cap) {
    case CAP_NET_ADMIN: return "cap_net_admin";
    case CAP_NET_RAW: return "cap_net_raw";
    case CAP_NET_BIND_SERVICE: return "cap_net_bind_service";
    default: return "cap_other";
  }
}

}  // namespace

std::string drop_capabilities(const std::vector<int>& keep) {
  CapSets s = read_sets();
  uint32_t permitted[2] = {s.data[0].permitted, s.data[1].permitted};
  uint32_t kept[2] = {0, 0};
  std::string kept_names;
  for (int cap : keep) {
    if (cap < 0 || cap >= 64 || !has(permitted, cap)) continue;
    kept[cap / 32] |= 1u << (cap % 32);
    kept_names += (kept_names.empty() ? "" : ",") + std::string(cap_name(cap));
  }

  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // capset below takes away.
  bool bounding = true;
  for (int cap = 0; cap < 64; ++cap) {
    if ((kept[cap / 32] >> (cap % 32)) & 1u) continue;
    const int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0) break;  // past the last capability this kernel knows
    if (present == 0) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno != EPERM) throw std::system_error(errno, std::generic_category(), "prctl(PR_CAPBSET_DROP)");
      bounding = false;  // no CAP_SETPCAP: the sets below still shrink
      break;
    }
  }
  // Ambient capabilities exist since Linux 4.3; older kernels have none to clear.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw std::system_error(errno, std::generic_category(), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");

  for (int w = 0; w < 2; ++w) {
    s.data[w].effective = kept[w];
    s.data[w].permitted = kept[w];
    s.data[w].inheritable = 0;
  }
  s.header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (capset_raw(&s.header, s.data) != 0) throw std::system_error(errno, std::generic_category(), "capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_NO_NEW_PRIVS)");

  std::string line = "capabilities dropped; kept " + (kept_names.empty() ? std::string("none") : kept_names);
  if (!bounding) line += " (bounding set unchanged: no CAP_SETPCAP)";
  return line;
}

unsigned long long effective_capabilities() {
  const CapSets s = read_sets();
  return (static_cast<unsigned long long>(s.data[1].effective) << 32) | s.data[0].effective;
}

}  // namespace tc

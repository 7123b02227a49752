// Dropping privileges once the sockets are open. Both daemons start as root
// (raw sockets, NFQUEUE) but need little or nothing of that afterwards:
// sending on an open raw socket needs no capability, while every message
// to nfnetlink (NFQUEUE verdicts included) needs CAP_NET_ADMIN at the time
// it is sent.
#pragma once

#include <string>
#include <vector>

namespace tc {

// Keeps only the capabilities in `keep` (CAP_* numbers) that the process
// has: the effective and permitted sets become exactly those, the
// inheritable and ambient sets empty, the bounding set shrinks to them
// (when allowed: it takes CAP_SETPCAP), and no_new_privs is set, so no
// later execve can regain anything. Returns a line for the log. Throws
// std::system_error if the sets cannot be changed.
std::string drop_capabilities(const std::vector<int>& keep);

// The effective capability set, as the kernel reports it (tests, logs).
unsigned long long effective_capabilities();

}  // namespace tc

// intercept --check: is this host ready to take the target's replies?
// nfqueue mode: privileges, the NFQUEUE rule (read from iptables-save and
// nft), the queue and the control port still free, ip_forward, rp_filter,
// and a route for replies to the clients given with --check-client.
// assistant mode: privileges, the -i interfaces, the control port, and
// forwarding off.
#pragma once

#include <functional>
#include <string>

#include "common/doctor.h"
#include "intercept/options.h"

namespace tc::intercept {

struct InterceptCheckEnv {
  std::string rules_script;  // named in the fixes
  // Empty when the control port can be bound, else why not.
  std::function<std::string()> control_port_error;
};

doctor::Report check_intercept(const Options& options, doctor::Host& host, const InterceptCheckEnv& env);

// The real environment: intercept-rules next to this binary when installed
// (../libexec/tcpcopy) or in the source tree, binding the control port for a
// moment to see if it is free.
InterceptCheckEnv system_check_env(const Options& options);

}  // namespace tc::intercept

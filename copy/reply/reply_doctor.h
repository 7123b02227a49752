// tcpcopy --check for architecture 1 (--reply-interface): the online host
// itself receives the target's replies, so it must neither own the copies'
// client addresses (its stack would reset the replies) nor forward them (to
// real clients, perhaps), and the replies must arrive on an interface
// tcpcopy captures on.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/doctor.h"
#include "common/ip_address.h"
#include "copy/options.h"

namespace tc {

// `target_devices`: each target and the interface of this host's route to
// it, as check_copy found them (targets without a route are left out).
void check_reply_layout(const CopyOptions& options,
                        const std::vector<std::pair<IpAddress, std::string>>& target_devices, doctor::Host& host,
                        doctor::Report& report);

}  // namespace tc

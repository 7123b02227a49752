#!/usr/bin/env bash
# Self-test of the leak detector: with no intercept and no NFQUEUE rule, the
# target's replies to a client that talks to it directly are forwarded by the
# online ns to the client, and the client's counter must see them. If this
# fails, a 0 in the other tests would prove nothing.
source "$(dirname "$0")/lib.sh"
e2e_init leak_detector_selftest
require_tools nginx curl
topology_up
leak_detector_install
start_nginx target "$NS_TARGET" "$TARGET_ADDR"

[[ $(leak_count) -eq 0 ]] || fail "leak counter not 0 before any traffic"
body=$(in_client curl -sS --max-time 5 "http://$TARGET_ADDR/selftest") \
  || fail "client could not reach the target directly"
[[ $body == ok ]] || fail "unexpected answer from the target: '$body'"
n=$(leak_count)
log "client fetched /selftest from the target directly; leak counter = $n"
((n > 0)) || fail "leak detector counted nothing although the target's replies reached the client"
pass

#!/usr/bin/env bash
# HTTP with one connection per request ("Connection: close"): sequential
# curls and wrk reconnecting for every request. Each request reaches the
# target exactly once, each on its own target connection.
source "$(dirname "$0")/lib.sh"
e2e_init http_close
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

in_client timeout 60 bash -c "for i in \$(seq 1 40); do
  curl -sS --max-time 5 -H 'Connection: close' -o /dev/null http://$ONLINE_ADDR/r/close-curl/\$i || exit 1
done" || fail "sequential curl run failed"
WRK_DELAY_MS=2 run_wrk close 3 2 8 -H "Connection: close"  # paced; load.sh is the load
expect_alive tcpcopy
wait_replicated 30
stop_daemons

assert_http_replicated
for which in online target; do
  multi=$(awk -F'\t' '$8 != 1' "$(access_log "$which")" | wc -l)
  ((multi == 0)) || fail "$which: $multi requests were not alone on their connection"
done
log "one request per connection online and at the target"
assert_no_leak
pass

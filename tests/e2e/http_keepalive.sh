#!/usr/bin/env bash
# HTTP keep-alive: many requests per connection (curl with 30 URLs on one
# connection, wrk with a unique path per request) reach the target exactly
# once, on as many target connections as the client used.
source "$(dirname "$0")/lib.sh"
e2e_init http_keepalive
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/curl/[1-30]" >/dev/null || fail "curl keep-alive run failed"
WRK_DELAY_MS=2 run_wrk ka 3 2 4  # paced: a function test, load.sh is the load
expect_alive tcpcopy
wait_replicated 30
stop_daemons

assert_http_replicated
# curl's 30 requests used one connection; so must their copies.
for which in online target; do
  conns=$(awk -F'\t' '$2 ~ /^GET \/r\/curl\// { print $7 }' "$(access_log "$which")" | sort -u | wc -l)
  ((conns == 1)) || fail "$which: curl's 30 keep-alive requests arrived on $conns connections, expected 1"
done
max_reqs=$(awk -F'\t' '$8 > m { m = $8 } END { print m + 0 }' "$(access_log target)")
((max_reqs >= 30)) || fail "target: at most $max_reqs requests on one connection, keep-alive not replicated"
log "keep-alive: curl's 30 requests on 1 connection online and at the target; up to $max_reqs requests per target connection"
assert_no_leak
pass

#!/usr/bin/env bash
# A target slower than the online server: the target's nginx sends at most
# 2 MB/s per response, the online one at full speed. Clients download the
# 1 MiB file and close right after the last byte, long before the target is
# done sending its copy. The target must still send every response in full:
# the client's FIN may reach the target only after the response the client
# had received online (nginx aborts a response when the client closes).
source "$(dirname "$0")/lib.sh"
e2e_init http_slow_target
require_daemons
require_tools nginx curl
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR" "limit_rate 2m;"
start_intercept
start_tcpcopy

url=http://$ONLINE_ADDR
for i in 1 2 3; do
  in_client curl -sS --max-time 30 -o /dev/null "$url/big.bin" || fail "GET /big.bin failed"
done
in_client curl -sS --max-time 30 -o /dev/null -H 'Connection: close' "$url/big.bin" || fail "GET /big.bin (close) failed"
in_client curl -sS --max-time 60 "$url/big.bin" "$url/big.bin" >/dev/null || fail "keep-alive GETs of /big.bin failed"
log "client fetched /big.bin 6 times at full speed (4 connections closed at once, then 2 on one connection)"

expect_alive tcpcopy
wait_replicated 60
# Each copy takes about half a second at 2 MB/s: wait for the slowest.
sleep 2
stop_daemons

assert_http_replicated
assert_big_responses
assert_no_leak
pass

#!/usr/bin/env bash
# IPv6 end to end with the NFQUEUE intercept: capture, sessions, control
# channel over IPv6, ip6tables rule. HTTP keep-alive and Connection: close,
# and Redis INCR, replicated in full with nothing leaking to the client.
source "$(dirname "$0")/lib.sh"
e2e_init ipv6
require_daemons
require_tools nginx curl wrk redis-server redis-cli redis-benchmark
topology_up
topology_add_ipv6
leak_detector_install
start_nginx online "$NS_ONLINE" "[$ONLINE6]"
start_nginx target "$NS_TARGET" "[$TARGET6]"
start_redis online "$NS_ONLINE" "$ONLINE6"
start_redis target "$NS_TARGET" "$TARGET6"

in_target "$INTERCEPT_RULES" apply --iptables --family 6 --port 80,6379 --queue "$QUEUE_NUM" >"$E2E_TMP/rules.out" 2>&1 \
  || fail "intercept-rules apply failed: $(cat "$E2E_TMP/rules.out")"
bg intercept "$NS_TARGET" "$INTERCEPT_BIN" --mode=nfqueue --queue-num "$QUEUE_NUM" -b "$TARGET6" \
  --allow "$CONTROL_ALLOW" -l "$E2E_TMP/intercept.log" --stats-interval 1
wait_until 10 "intercept to bind NFQUEUE $QUEUE_NUM" queue_bound
wait_until 10 "intercept to listen on [$TARGET6]:$CONTROL_PORT" port_listening "$NS_TARGET" "[$TARGET6]" "$CONTROL_PORT"
bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-[$TARGET6]:80,6379-[$TARGET6]:6379" -s "[$TARGET6]" \
  -l "$E2E_TMP/tcpcopy.log" --stats-interval 1
v6_control_up() { in_online ss -Htn state established "dst [$TARGET6]:$CONTROL_PORT" | grep -q .; }
wait_until 10 "tcpcopy to connect to intercept over IPv6" v6_control_up
sleep 0.5
expect_alive tcpcopy

in_client curl -sS --max-time 20 "http://[$ONLINE6]/r/v6curl/[1-20]" >/dev/null || fail "curl keep-alive failed"
for c in $(seq 1 20); do
  in_client curl -sS --max-time 10 -H 'Connection: close' "http://[$ONLINE6]/r/v6close/$c" >/dev/null || fail "curl $c failed"
done
in_client timeout 30 wrk -t1 -c4 -d2s --timeout 5s -s "$(write_wrk_lua v6wrk)" "http://[$ONLINE6]/" >"$E2E_TMP/wrk.txt" 2>&1 \
  || fail "wrk failed: $(cat "$E2E_TMP/wrk.txt")"
in_client timeout 60 redis-benchmark -h "$ONLINE6" -p 6379 -q -t incr -n 3000 -P 16 -c 4 >/dev/null || fail "redis-benchmark failed"
expect_alive tcpcopy
wait_redis6_incr
wait_replicated 30
stop_daemons

assert_http6_replicated "$CLIENT6"
log "Redis INCR over IPv6: online $ONLINE_INCR, target $TARGET_INCR"
[[ $TARGET_INCR == "$ONLINE_INCR" ]] || fail "INCR counter differs"
assert_no_leak
pass

#!/usr/bin/env bash
# Architecture 1 with offline replay: a recording of real traffic replayed
# (--pcap-file) with the target's replies captured on the online host
# (--reply-interface), no intercept. The replay starts at once, as there is
# nobody to connect to first; tcpcopy exits by itself when done, and the
# target holds every request of the recording exactly once.
source "$(dirname "$0")/lib.sh"
e2e_init arch1_offline
[[ -x $TCPCOPY_BIN ]] || fail "tcpcopy binary not found at '$TCPCOPY_BIN'"
require_tools nginx curl redis-server redis-cli redis-benchmark tcpdump
export E2E_TARGET_CLIENT=10.77.9.${CLIENT_ADDR##*.}
topology_up
in_online sysctl -qw net.ipv4.ip_forward=0
ip -n "$NS_TARGET" route add 10.77.9.0/24 via "$ONLINE_TGT_SIDE"
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

recording=$E2E_TMP/online.pcap
start_recording "$recording" oc
in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/curl/[1-20]" "http://$ONLINE_ADDR/big.bin" >/dev/null \
  || fail "curl keep-alive run failed"
in_client curl -sS --max-time 20 -H 'Connection: close' "http://$ONLINE_ADDR/r/close/[1-10]" >/dev/null \
  || fail "curl Connection: close run failed"
redis_bench -t incr -n 2000 -P 16 -c 4
redis_bench -t lpush -n 500 -c 2
stop_recording
((0 == $(count_requests target))) || fail "the target got requests before the replay"

started=$SECONDS
bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" --reply-interface ot \
  -c 10.77.9.x --pcap-file "$recording" -a 2 -I 300 -l "$E2E_TMP/tcpcopy.log" --stats-interval 1
wait_exit tcpcopy 60 || fail "tcpcopy exited with status $? after the replay"
log "tcpcopy replayed the recording and exited by itself after $((SECONDS - started)) s"
grep -q "offline replay starts" "$E2E_TMP/tcpcopy.log" || fail "the replay did not start"
grep -q "offline replay complete" "$E2E_TMP/tcpcopy.log" || fail "tcpcopy did not report the end of the replay"
show_counters tcpcopy
[[ $(counter tcpcopy sessions_active) == 0 ]] || fail "sessions still active when tcpcopy exited"

wait_replicated 10
assert_redis_replicated
assert_http_replicated
assert_no_leak
pass

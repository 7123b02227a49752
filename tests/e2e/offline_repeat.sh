#!/usr/bin/env bash
# Offline replay of a Linux cooked (v2) recording, three times over
# (--repeat 3): tcpdump records on the online host's "any" device, then
# tcpcopy replays the file three times back to back. Each pass moves the
# client sequence numbers and timestamps forward, so a pass is accepted by
# the target even where it still holds the previous pass's connection (the
# Connection: close requests leave it in TIME_WAIT on the same ports). The
# target must receive every recorded HTTP request exactly three times and
# count three times the online Redis INCRs.
source "$(dirname "$0")/lib.sh"
e2e_init offline_repeat
require_daemons
require_tools nginx curl redis-server redis-cli redis-benchmark tcpdump
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

recording=$E2E_TMP/online-any.pcap
start_recording "$recording" any -y LINUX_SLL2
in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/keepalive/[1-10]" >/dev/null || fail "curl keep-alive run failed"
in_client timeout 60 bash -c "for i in \$(seq 1 15); do
  curl -sS --max-time 5 -H 'Connection: close' -o /dev/null http://$ONLINE_ADDR/r/close/\$i || exit 1
done" || fail "curl Connection: close run failed"
redis_bench -t incr -n 1000 -P 8 -c 2
redis_bench -t lpush -n 200 -c 2
stop_recording

start_intercept
start_tcpcopy --pcap-file "$recording" --repeat 3 -I 100
wait_exit tcpcopy 60 || fail "tcpcopy exited with status $? after the replay"
grep -q "capture: offline replay of $recording (Linux cooked v2), 3 pass(es)" "$E2E_TMP/tcpcopy.log" \
  || fail "tcpcopy's start-up line does not show the replay: $(grep capture: "$E2E_TMP/tcpcopy.log")"
show_counters tcpcopy
[[ $(counter tcpcopy replay_passes) == 3 ]] || fail "replay_passes is not 3"
lost=$(counter_line tcpcopy | grep -oE 'sessions_lost\{[a-z_]+\}=[1-9][0-9]*' || true)
[[ -z $lost ]] || fail "sessions lost across passes: $lost"

E2E_REPEAT=3 wait_replicated 10
assert_redis_replicated 3
stop intercept 15 || fail "intercept exited with status $? on SIGTERM"
show_counters intercept
E2E_REPEAT=3 assert_http_replicated
assert_no_leak
pass

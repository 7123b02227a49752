#!/usr/bin/env bash
# Offline replay: tcpdump records real traffic on the online host's client
# interface (Ethernet) while nothing is replicated; then tcpcopy replays the
# file (--pcap-file, twice as fast, idle gaps cut to 300 ms) against the
# target, with intercept as usual, and exits by itself when done. The
# target must receive every HTTP request of the recording exactly once and
# end with the same Redis values as the online server. Then a damaged copy
# of the file (cut mid-record) must end the replay with exit status 3 and
# say where the file broke.
source "$(dirname "$0")/lib.sh"
e2e_init offline_replay
require_daemons
require_tools nginx curl wrk redis-server redis-cli redis-benchmark tcpdump
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

recording=$E2E_TMP/online.pcap
start_recording "$recording" oc
in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/curl/[1-20]" >/dev/null || fail "curl keep-alive run failed"
in_client timeout 60 bash -c "for i in \$(seq 1 10); do
  curl -sS --max-time 5 -H 'Connection: close' -o /dev/null http://$ONLINE_ADDR/r/close/\$i || exit 1
done" || fail "curl Connection: close run failed"
sleep 1.5  # an idle gap for -I to cut
WRK_DELAY_MS=5 run_wrk offline 2 2 4
redis_bench -t incr -n 2000 -P 16 -c 4
redis_bench -t lpush -n 500 -c 2
stop_recording
((0 == $(count_requests target))) || fail "the target got requests before the replay"

start_intercept
started=$SECONDS
start_tcpcopy --pcap-file "$recording" -a 2 -I 300
wait_exit tcpcopy 60 || fail "tcpcopy exited with status $? after the replay"
log "tcpcopy replayed the recording and exited by itself after $((SECONDS - started)) s"
grep -q "capture: offline replay of $recording (Ethernet), 1 pass(es), 2x" "$E2E_TMP/tcpcopy.log" \
  || fail "tcpcopy's start-up line does not show the replay: $(grep capture: "$E2E_TMP/tcpcopy.log")"
grep -q "offline replay complete" "$E2E_TMP/tcpcopy.log" || fail "tcpcopy did not report the end of the replay"
# Progress on stderr, not a terminal here: plain lines, the last at the end.
grep -E "^tcpcopy: offline replay: 100\.0% \(pass 1/1, [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB\), [0-9]+ packets, done in " \
  "$E2E_TMP/tcpcopy.out" >/dev/null || fail "no final progress line on stderr: $(tail -n 3 "$E2E_TMP/tcpcopy.out")"
grep -q $'\r' "$E2E_TMP/tcpcopy.out" && fail "progress redrawn in place although stderr is not a terminal"
log "progress: $(grep '^tcpcopy: offline replay: ' "$E2E_TMP/tcpcopy.out" | tail -n 1)"
show_counters tcpcopy
[[ $(counter tcpcopy replay_passes) == 1 ]] || fail "replay_passes is not 1"
[[ $(counter tcpcopy sessions_active) == 0 ]] || fail "sessions still active when tcpcopy exited"

wait_replicated 10
assert_redis_replicated
assert_http_replicated

# The same recording, damaged: cut in the middle of a record near its end.
# The replay stops there, its last lines say where the file broke, and the
# exit status says the replay was not whole.
damaged=$E2E_TMP/damaged.pcap
head -c $(($(stat -c %s "$recording") - 7)) "$recording" >"$damaged"
start_tcpcopy --pcap-file "$damaged" -a 4 -I 300 -t 5 -l "$E2E_TMP/tcpcopy-damaged.log"
rc=0
wait_exit tcpcopy 60 || rc=$?
((rc == 3)) || fail "tcpcopy exited with status $rc after replaying a damaged file (expected 3)"
grep -E "offline replay: the file broke in pass 1 after record [0-9]+ \(byte offset [0-9]+\): .+; replayed [0-9]+ packet" \
  "$E2E_TMP/tcpcopy-damaged.log" >/dev/null || fail "tcpcopy did not say where the file broke: $(tail -n 5 "$E2E_TMP/tcpcopy-damaged.log")"
grep -q "offline replay complete" "$E2E_TMP/tcpcopy-damaged.log" && fail "a damaged replay was reported complete"
last=$(tail -n 1 "$E2E_TMP/tcpcopy-damaged.log")
[[ $last =~ "offline replay ended early: the file broke in pass 1 after record "[0-9]+" (byte offset "[0-9]+"); replayed "[0-9]+" packet(s), "[0-9]+" byte(s) before it; exit status 3; libpcap: ".+ ]] \
  || fail "the last log line does not say where the file broke: $last"
grep -q "^tcpcopy: offline replay ended early: the file broke" "$E2E_TMP/tcpcopy.out" \
  || fail "stderr does not say where the file broke: $(tail -n 3 "$E2E_TMP/tcpcopy.out")"
log "damaged file: exit status 3, last line: ${last#*] }"

stop intercept 15 || fail "intercept exited with status $? on SIGTERM"
show_counters intercept
assert_no_leak
pass

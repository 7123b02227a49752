#!/usr/bin/env bash
# Offline replay of a recording whose clients had not closed when it ended:
# three HTTP keep-alive connections carry one request each, pause 2 s, carry
# three more each, and are still open when the recording stops.
#   run 1 replays it (gaps cut to 300 ms): the three sessions are reset on
#         the target once answered, so the target holds no connection;
#   run 2 replays the same file in a new process: every request reaches the
#         target again and no session is lost;
#   run 3 replays it at its own pace and is killed (SIGKILL) in the pause,
#         leaving its three connections open on the target;
#   run 4 replays it again: its SYNs meet those connections, clear them,
#         and every request of the file reaches the target.
source "$(dirname "$0")/lib.sh"
e2e_init offline_leftover
require_daemons
require_tools nginx tcpdump ss
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"

cat >"$E2E_TMP/client.sh" <<'CLIENT'
set -u
addr=$1 dir=$2
http_get() {   # FD PATH: one request, read exactly one answer
  printf 'GET %s HTTP/1.1\r\nHost: e2e\r\n\r\n' "$2" >&"$1"
  local line len=0 status body
  IFS= read -r -t 10 status <&"$1" || { echo "no answer to $2" >&2; exit 1; }
  while IFS= read -r -t 10 line <&"$1"; do
    line=${line%$'\r'}
    [[ -z $line ]] && break
    [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]] && len=${BASH_REMATCH[1]}
  done
  ((len == 0)) || IFS= read -r -t 10 -N "$len" body <&"$1"
  [[ $status == "HTTP/1.1 200"* ]] || { echo "bad answer to $2: $status" >&2; exit 1; }
}
exec 3<>"/dev/tcp/$addr/80" 4<>"/dev/tcp/$addr/80" 5<>"/dev/tcp/$addr/80" || exit 1
for fd in 3 4 5; do http_get $fd "/r/open/$fd/1"; done
sleep 2
for i in 2 3 4; do for fd in 3 4 5; do http_get $fd "/r/open/$fd/$i"; done; done
touch "$dir/requests.done"
for ((i = 0; i < 300; i++)); do [[ -e $dir/close ]] && break; sleep 0.1; done
exec 3>&- 4>&- 5>&-
CLIENT

recording=$E2E_TMP/open.pcap
start_recording "$recording" oc
bg client "$NS_CLIENT" bash "$E2E_TMP/client.sh" "$ONLINE_ADDR" "$E2E_TMP"
wait_until 20 "the client's requests" test -e "$E2E_TMP/requests.done"
stop_recording  # the three connections are still open
touch "$E2E_TMP/close"
wait_exit client 10 || fail "client failed: $(cat "$E2E_TMP/client.out")"
per_run=$(count_requests online "^GET /r/open/")
((per_run == 12)) || fail "online got $per_run requests, expected 12"
((0 == $(count_requests target))) || fail "the target got requests before the replay"

start_intercept
target_conns() { in_target ss -Htn state established "( sport = :80 )" | wc -l; }

# replay N [TCPCOPY ARGS...]: runs tcpcopy on the recording; its log is
# $E2E_TMP/tcpcopy.log while it runs, tcpcopy-runN.log after.
replay_bg() {
  rm -f "$E2E_TMP/tcpcopy.log"
  bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR" -l "$E2E_TMP/tcpcopy.log" \
    --log-level info --stats-interval 1 --pcap-file "$recording" "$@"
}
check_run() {   # N EXPECTED_TARGET_REQUESTS
  local n=$1 want=$2 rc=0
  wait_exit tcpcopy 30 || rc=$?
  ((rc == 0)) || fail "run $n: tcpcopy exited with status $rc: $(tail -n 5 "$E2E_TMP/tcpcopy.log")"
  show_counters tcpcopy
  local lost
  lost=$(counter_line tcpcopy | grep -oE 'sessions_lost\{[a-z_]+\}=[1-9][0-9]*' || true)
  [[ -z $lost ]] || fail "run $n: sessions lost: $lost"
  [[ $(counter tcpcopy sessions_capture_ended) == 3 ]] \
    || fail "run $n: sessions_capture_ended=$(counter tcpcopy sessions_capture_ended), expected 3"
  local got deadline=$((SECONDS + 5))
  while (($(count_requests target "^GET /r/open/") < want)) && ((SECONDS < deadline)); do sleep 0.2; done
  got=$(count_requests target "^GET /r/open/")
  ((got == want)) || fail "run $n: the target holds $got requests, expected $want"
  local conns
  conns=$(target_conns)
  ((conns == 0)) || fail "run $n: the target still holds $conns connection(s) of the replay"
  cp "$E2E_TMP/tcpcopy.log" "$E2E_TMP/tcpcopy-run$n.log"
  log "run $n: exit 0, $got requests at the target, no session lost, no connection left on the target"
}

replay_bg -I 300
check_run 1 12
replay_bg -I 300
check_run 2 24

replay_bg   # at the recording's pace: the 2 s pause is kept
target_at_least() { (($(count_requests target "^GET /r/open/") >= $1)); }
wait_until 15 "run 3's first requests" target_at_least 27
kill -KILL "${E2E_PID[tcpcopy]}"
wait "${E2E_PID[tcpcopy]}" 2>/dev/null || true
run3=$(($(count_requests target "^GET /r/open/") - 24))
left=$(target_conns)
((left == 3)) || fail "run 3 killed in the pause left $left connection(s) on the target, expected 3"
cp "$E2E_TMP/tcpcopy.log" "$E2E_TMP/tcpcopy-run3.log"
log "run 3: killed after $run3 request(s), $left connections left open on the target"

replay_bg -I 300
check_run 4 $((24 + run3 + 12))
log "run 4: stale_connections=$(counter tcpcopy stale_connections) stale_resets=$(counter tcpcopy stale_resets) ports_moved=$(counter tcpcopy ports_moved)"

stop intercept 15 || fail "intercept exited with status $? on SIGTERM"
show_counters intercept
assert_no_leak
pass

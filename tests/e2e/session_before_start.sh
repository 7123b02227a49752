#!/usr/bin/env bash
# Sessions opened before tcpcopy started: an HTTP keep-alive connection and a
# Redis connection are opened and used once, then tcpcopy starts, then more
# requests go over the same two connections. tcpcopy never saw their SYN, so
# it must open the target's side itself; the later requests must reach the
# target exactly once, the earlier ones not at all.
source "$(dirname "$0")/lib.sh"
e2e_init session_before_start
require_daemons
require_tools nginx redis-server redis-cli
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept

# The long-lived client: phase 1, wait for $E2E_TMP/go, phase 2, close.
cat >"$E2E_TMP/client.sh" <<'CLIENT'
set -u
addr=$1 dir=$2
http_get() {   # one request, read exactly one answer
  printf 'GET %s HTTP/1.1\r\nHost: e2e\r\n\r\n' "$1" >&3
  local line len=0 status body
  IFS= read -r -t 10 status <&3 || { echo "no answer to $1" >&2; exit 1; }
  while IFS= read -r -t 10 line <&3; do
    line=${line%$'\r'}
    [[ -z $line ]] && break
    [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]] && len=${BASH_REMATCH[1]}
  done
  ((len == 0)) || IFS= read -r -t 10 -N "$len" body <&3
  [[ $status == "HTTP/1.1 200"* ]] || { echo "bad answer to $1: $status" >&2; exit 1; }
}
redis_incr() {
  printf 'INCR %s\r\n' "$1" >&4
  local line
  IFS= read -r -t 10 line <&4 || { echo "no redis answer" >&2; exit 1; }
  [[ $line == :* ]] || { echo "bad redis answer: $line" >&2; exit 1; }
}
exec 3<>"/dev/tcp/$addr/80" || exit 1
exec 4<>"/dev/tcp/$addr/6379" || exit 1
http_get /r/before/1
http_get /r/before/2
for i in 1 2 3; do redis_incr before; done
touch "$dir/phase1.done"
for ((i = 0; i < 300; i++)); do [[ -e $dir/go ]] && break; sleep 0.1; done
[[ -e $dir/go ]] || { echo "never told to go on" >&2; exit 1; }
for i in 1 2 3 4 5; do http_get "/r/after/$i"; sleep 0.05; done
for i in $(seq 1 10); do redis_incr after; sleep 0.02; done
touch "$dir/phase2.done"
sleep 1
exec 3>&- 4>&-
CLIENT
bg client "$NS_CLIENT" bash "$E2E_TMP/client.sh" "$ONLINE_ADDR" "$E2E_TMP"
wait_until 15 "the client's first requests" test -e "$E2E_TMP/phase1.done"
log "client connections open, 2 HTTP requests and 3 INCRs sent before tcpcopy starts"

start_tcpcopy
touch "$E2E_TMP/go"
wait_until 30 "the client's later requests" test -e "$E2E_TMP/phase2.done"
client_rc=0
wait_exit client 15 || client_rc=$?
((client_rc == 0)) || fail "client failed (status $client_rc): $(cat "$E2E_TMP/client.out")"
log "client sent 5 HTTP requests and 10 INCRs on the same connections after tcpcopy started, then closed"

target_get() { in_target timeout 5 redis-cli -h "$TARGET_ADDR" "$@"; }   # over the target's loopback
wait_replicated 30 "^GET /r/after/"
deadline=$((SECONDS + 15))
while [[ $(target_get GET after) != 10 ]] && ((SECONDS < deadline)); do sleep 0.2; done
stop_daemons

assert_http_replicated "^GET /r/after/"
before_at_target=$(count_requests target "^GET /r/before/")
((before_at_target == 0)) || fail "target received $before_at_target requests sent before tcpcopy started"
conns=$(awk -F'\t' '$2 ~ /^GET \/r\/after\// { print $7 }' "$(access_log target)" | sort -u | wc -l)
((conns == 1)) || fail "the 5 later HTTP requests arrived at the target on $conns connections, expected 1"
log "HTTP: the 5 later requests reached the target once each on 1 connection, the 2 earlier ones did not"

online_before=$(in_client timeout 5 redis-cli -h "$ONLINE_ADDR" GET before)
online_after=$(in_client timeout 5 redis-cli -h "$ONLINE_ADDR" GET after)
target_before=$(target_get GET before)
target_after=$(target_get GET after)
log "redis: online before=$online_before after=$online_after; target before=${target_before:-<none>} after=${target_after:-<none>}"
[[ $online_before == 3 && $online_after == 10 ]] || fail "online redis counters wrong (client did not run as planned)"
[[ $target_after == 10 ]] || fail "target's 'after' counter is ${target_after:-<none>}, expected 10"
[[ -z $target_before ]] || fail "target has a 'before' counter ($target_before) although those INCRs preceded tcpcopy"
assert_no_leak
pass

#!/usr/bin/env bash
# A target whose answers differ in length from production's. For /x the
# online nginx answers 3 bytes and the target 20 KB; for /y the other way
# round. The client makes 5 connections of 8 keep-alive requests for each
# path, then closes. Every request must reach the target, and the target
# must be allowed to send every answer in full: a request (or the client's
# FIN) released while the target is still sending a longer answer than
# online's would pipeline onto, or cut, that answer.
source "$(dirname "$0")/lib.sh"
e2e_init http_differing_target
require_daemons
require_tools nginx curl
topology_up
leak_detector_install

readonly SMALL_BODY="ok\n"  # 3 bytes
readonly LARGE_SIZE=20480
head -c "$LARGE_SIZE" /dev/urandom >"$E2E_TMP/large.bin"
large="alias $E2E_TMP/large.bin; default_type application/octet-stream;"
small="return 200 \"$SMALL_BODY\";"
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR" "location = /x { $small } location = /y { $large }"
start_nginx target "$NS_TARGET" "$TARGET_ADDR" "location = /x { $large } location = /y { $small }"
start_intercept
start_tcpcopy

readonly CONNS=5 PER_CONN=8
url=http://$ONLINE_ADDR
for path in x y; do
  for c in $(seq 1 "$CONNS"); do
    # One curl command line with several URLs keeps its connection alive.
    in_client curl -sS --max-time 10 -o /dev/null "$url/$path?c=$c&r=[1-$PER_CONN]" \
      || fail "keep-alive GETs of /$path failed (connection $c)"
  done
done
log "client: $CONNS connections of $PER_CONN keep-alive requests for /x and for /y"

expect_alive tcpcopy
wait_replicated 15
# A FIN after answers shorter than online's waits for the hold timeout (2 s).
wait_until 10 "tcpcopy to complete the $((CONNS * 2)) sessions" counter_at_least tcpcopy sessions_completed $((CONNS * 2))
stop_daemons

# every_answer_full PATH WHICH SIZE: WHICH logged all the requests for PATH,
# status 200, SIZE body bytes each, on CONNS connections.
every_answer_full() {
  local path=$1 which=$2 size=$3 f n bad conns
  f=$(access_log "$which")
  n=$(awk -F'\t' -v p="^GET /$path[?]" '$2 ~ p' "$f" | wc -l)
  bad=$(awk -F'\t' -v p="^GET /$path[?]" -v s="$size" '$2 ~ p && ($3 != 200 || $4 != s)' "$f" | wc -l)
  conns=$(awk -F'\t' -v p="^GET /$path[?]" '$2 ~ p { print $7 }' "$f" | sort -u | wc -l)
  log "$which /$path: $n requests, $bad not answered 200 with $size body bytes, on $conns connections"
  ((n == CONNS * PER_CONN)) || fail "$which logged $n of $((CONNS * PER_CONN)) requests for /$path"
  ((bad == 0)) || fail "$which: $bad answers for /$path cut or failed: $(awk -F'\t' -v p="^GET /$path[?]" -v s="$size" '$2 ~ p && ($3 != 200 || $4 != s)' "$f" | head -n 3 | tr '\t\n' ' |')"
  ((conns == CONNS)) || fail "$which: the requests for /$path came on $conns connections, expected $CONNS"
}

every_answer_full x online 3
every_answer_full x target "$LARGE_SIZE"
every_answer_full y online "$LARGE_SIZE"
every_answer_full y target 3
assert_http_replicated

log "tcpcopy: requests_replicated=$(counter tcpcopy requests_replicated) sessions_completed=$(counter tcpcopy sessions_completed) hold_timeouts=$(counter tcpcopy hold_timeouts)"
((CONNS * PER_CONN * 2 == $(counter tcpcopy requests_replicated))) \
  || fail "tcpcopy counted $(counter tcpcopy requests_replicated) requests replicated, expected $((CONNS * PER_CONN * 2))"
lost=$(counter_line tcpcopy | grep -oE '(sessions_lost|requests_undelivered)\{[a-z_]+\}=[1-9][0-9]*' | tr '\n' ' ' || true)
[[ -z $lost ]] || fail "tcpcopy counted losses: $lost"
((CONNS * 2 == $(counter tcpcopy sessions_completed))) \
  || fail "tcpcopy completed $(counter tcpcopy sessions_completed) sessions, expected $((CONNS * 2))"
assert_no_leak
pass

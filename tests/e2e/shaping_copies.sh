#!/usr/bin/env bash
# -n 3: every session is replayed three times on different client ports.
# The target must see each HTTP request exactly three times, and a Redis
# INCR counter three times the online one.
source "$(dirname "$0")/lib.sh"
e2e_init shaping_copies
require_daemons
require_tools nginx curl redis-server redis-cli redis-benchmark
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy -n 3

for c in $(seq 1 20); do
  in_client curl -sS --max-time 10 "http://$ONLINE_ADDR/r/copies/$c/[1-5]" >/dev/null || fail "curl run $c failed"
done
in_client timeout 60 redis-benchmark -h "$ONLINE_ADDR" -p 6379 -q -t incr -n 3000 -P 16 -c 4 >/dev/null \
  || fail "redis-benchmark failed"
expect_alive tcpcopy

online_incr=$(in_client redis-cli -h "$ONLINE_ADDR" GET counter:__rand_int__)
want_incr=$((online_incr * 3))
deadline=$((SECONDS + 30))
while :; do
  tg=$(count_requests target '^GET /r/copies/')
  target_incr=$(in_target redis-cli -h "$TARGET_ADDR" GET counter:__rand_int__)
  ((tg >= 300)) && [[ $target_incr == "$want_incr" ]] && break
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 1
stop_daemons

on=$(count_requests online '^GET /r/copies/')
((on == 100)) || fail "online nginx logged $on requests, expected 100"
# Every online request line exactly three times at the target.
awk -F'\t' '$2 ~ /^GET \/r\/copies\// { print $2 }' "$(access_log online)" | sort | awk '{ print $0; print $0; print $0 }' >"$E2E_TMP/want"
awk -F'\t' '$2 ~ /^GET \/r\/copies\// { print $2 }' "$(access_log target)" | sort >"$E2E_TMP/got"
missing=$(comm -23 "$E2E_TMP/want" "$E2E_TMP/got" | wc -l)
extra=$(comm -13 "$E2E_TMP/want" "$E2E_TMP/got" | wc -l)
log "HTTP: online $on requests, target $(wc -l <"$E2E_TMP/got") (want $((on * 3))), missing $missing, extra $extra"
((missing == 0 && extra == 0)) || fail "target did not see every request exactly three times"
incomplete=$(awk -F'\t' '$6 != "OK"' "$(access_log target)" | wc -l)
((incomplete == 0)) || fail "$incomplete target responses not completed"
# The three copies of a connection use three client ports.
ports=$(awk -F'\t' '$2 ~ /^GET \/r\/copies\/7\// { print $9 }' "$(access_log target)" | sort -u | wc -l)
((ports == 3)) || fail "connection 7's copies arrived from $ports client ports, expected 3"
log "Redis INCR: online $online_incr, target $target_incr (want $want_incr)"
[[ $target_incr == "$want_incr" ]] || fail "target INCR counter $target_incr, expected 3 x $online_incr"
log "ports moved on clashes: $(counter tcpcopy ports_moved)"
assert_no_leak
pass

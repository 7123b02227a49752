#!/usr/bin/env bash
# --workers 2 with -n 2 and the comparison, against a target that answers
# one path with 404: every online request reaches the target exactly twice
# (once per copy), Redis counts twice the online INCRs, both workers carry
# connections (each copy's client port hashes to the worker of the
# client's own: FlowShard::worker_of), and
# the counters, the metrics and the comparison are the two workers' sums.
source "$(dirname "$0")/lib.sh"
e2e_init workers
require_daemons
require_tools nginx curl redis-server redis-cli redis-benchmark python3
topology_up
leak_detector_install

readonly CONNS=40  # curl runs: one connection each, three requests on it
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR" '
		location /w/gone/ { return 200 "here\n"; }'
start_nginx target "$NS_TARGET" "$TARGET_ADDR" '
		location /w/gone/ { return 404; }'
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
readonly METRICS=$ONLINE_ADDR:9311
all=$E2E_TMP/exchanges.jsonl
start_tcpcopy --workers 2 -n 2 --compare-all "$all" --metrics "$METRICS"
grep -q 'worker 1 of 2: capture: .*fanout group' "$E2E_TMP/tcpcopy.log" || fail "worker 1 did not join a fanout group"
grep -q 'worker 2 of 2: capture: .*fanout group' "$E2E_TMP/tcpcopy.log" || fail "worker 2 did not join a fanout group"
threads=$(ps -L -o comm= -p "${E2E_PID[tcpcopy]}" | sort | tr '\n' ' ')
[[ $threads == *"tcpcopy/1 tcpcopy/2"* ]] || fail "tcpcopy's threads are '$threads', expected the workers tcpcopy/1 and tcpcopy/2"
# Both workers' control connections (-C 2 each) reach intercept.
wait_until 10 "four control connections" \
  bash -c "(( \$(ip netns exec $NS_ONLINE ss -Htn state established 'dst $TARGET_ADDR:$CONTROL_PORT' | wc -l) == 4 ))"

for c in $(seq 1 "$CONNS"); do
  in_client curl -sS --max-time 10 -o /dev/null "http://$ONLINE_ADDR/w/page/$c/1" -o /dev/null \
    "http://$ONLINE_ADDR/w/page/$c/2" -o /dev/null "http://$ONLINE_ADDR/w/gone/$c" || fail "curl run $c failed"
done
in_client timeout 60 redis-benchmark -h "$ONLINE_ADDR" -p 6379 -q -t incr -n 2000 -P 8 -c 4 >/dev/null \
  || fail "redis-benchmark failed"
expect_alive tcpcopy

online_incr=$(in_client redis-cli -h "$ONLINE_ADDR" GET counter:__rand_int__)
want_incr=$((online_incr * 2))
deadline=$((SECONDS + 30))
while :; do
  tg=$(count_requests target '^GET /w/')
  target_incr=$(in_target redis-cli -h "$TARGET_ADDR" GET counter:__rand_int__)
  ((tg >= CONNS * 3 * 2)) && [[ $target_incr == "$want_incr" ]] && break
  ((SECONDS < deadline)) || break
  sleep 0.2
done
# Every connection online, Redis's included (this one is the last).
redis_conns=$(in_client redis-cli -h "$ONLINE_ADDR" INFO stats | tr -d '\r' | awk -F: '$1 == "total_connections_received" { print $2 }')
sleep 2  # the last sessions close, and the workers publish their figures
ip netns exec "$NS_ONLINE" curl -sS --max-time 5 -o "$E2E_TMP/metrics.txt" "http://$METRICS/metrics" \
  || fail "cannot scrape tcpcopy's metrics"
stop_daemons

on=$(count_requests online '^GET /w/')
((on == CONNS * 3)) || fail "online nginx logged $on requests, expected $((CONNS * 3))"
awk -F'\t' '$2 ~ /^GET \/w\// { print $2; print $2 }' "$(access_log online)" | sort >"$E2E_TMP/want"
awk -F'\t' '$2 ~ /^GET \/w\// { print $2 }' "$(access_log target)" | sort >"$E2E_TMP/got"
missing=$(comm -23 "$E2E_TMP/want" "$E2E_TMP/got" | wc -l)
extra=$(comm -13 "$E2E_TMP/want" "$E2E_TMP/got" | wc -l)
log "HTTP: online $on requests, target $(wc -l <"$E2E_TMP/got") (want $((on * 2))), missing $missing, extra $extra"
((missing == 0 && extra == 0)) || fail "target did not see every request exactly twice"
incomplete=$(awk -F'\t' '$6 != "OK"' "$(access_log target)" | wc -l)
((incomplete == 0)) || fail "$incomplete target responses not completed"
log "Redis INCR: online $online_incr, target $target_incr (want $want_incr)"
[[ $target_incr == "$want_incr" ]] || fail "target INCR counter $target_incr, expected 2 x $online_incr"

# Each copy's port hashes to its worker: the target sees twice the online
# connections of each worker, and both workers have some.
worker_of='function worker(p) { return int(p * 40503 / 256) % 2 }'
read -r on_w0 on_w1 < <(awk -F'\t' "$worker_of"' $2 ~ /^GET \/w\// && !seen[$9]++ { n[worker($9)]++ } END { print n[0] + 0, n[1] + 0 }' "$(access_log online)")
read -r tg_w0 tg_w1 < <(awk -F'\t' "$worker_of"' $2 ~ /^GET \/w\// && !seen[$9]++ { n[worker($9)]++ } END { print n[0] + 0, n[1] + 0 }' "$(access_log target)")
log "HTTP connections by worker: online $on_w0 and $on_w1; target $tg_w0 and $tg_w1"
((on_w0 > 0 && on_w1 > 0)) || fail "one worker had every connection"
((tg_w0 == 2 * on_w0 && tg_w1 == 2 * on_w1)) || fail "copies did not stay with their worker"

# The counters are the sum of both workers: one session per copy of every
# online connection (HTTP and Redis), in the final line and in the metrics.
sessions=$(counter tcpcopy sessions_created)
want_sessions=$(((CONNS + redis_conns) * 2))
log "sessions_created $sessions (want $want_sessions: $CONNS HTTP and $redis_conns Redis connections, two copies each)"
((sessions == want_sessions)) || fail "sessions_created $sessions, expected $want_sessions"
scraped=$(awk '$1 == "tcpcopy_sessions_created_total" { print $2 }' "$E2E_TMP/metrics.txt")
((scraped == want_sessions)) || fail "metrics say tcpcopy_sessions_created_total $scraped, expected $want_sessions"
grep -q '^tcpcopy_hold_wait_seconds_count ' "$E2E_TMP/metrics.txt" || fail "the summed hold-wait histogram is missing"
lost=$(counter_line tcpcopy | grep -oE '(sessions_lost|requests_undelivered)\{[a-z_]+\}=[1-9][0-9]*' || true)
[[ -z $lost ]] || fail "losses: $lost"

# The comparison: one exchange per online request (copy 0 is compared),
# from both workers, into one file; the 404s differ.
python3 - "$all" "$CONNS" <<'PY' || fail "comparison output is wrong"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
conns = int(sys.argv[2])
http = [r for r in rows if r["protocol"] == "http" and r["request"].startswith("GET /w/")]
gone = [r for r in http if "/w/gone/" in r["request"]]
page = [r for r in http if "/w/page/" in r["request"]]
print(f"exchanges: {len(rows)}, HTTP {len(http)}: {len(page)} page, {len(gone)} gone")
assert len(page) == 2 * conns, f"{len(page)} page exchanges, want {2 * conns}"
assert len(gone) == conns, f"{len(gone)} gone exchanges, want {conns}"
# A loaded machine may make an answer late enough to be judged slower.
assert all(r["verdict"] in ("match", "slower") for r in page), [r for r in page if r["verdict"] not in ("match", "slower")][:3]
assert all(r["verdict"] == "status_differs" for r in gone), [r for r in gone if r["verdict"] != "status_differs"][:3]
workers = {(int(r["client"].rsplit(":", 1)[1]) * 40503 >> 8) % 2 for r in http}
assert workers == {0, 1}, f"exchanges from workers {workers} only"
PY
grep -q '^tcpcopy_compare_exchanges_total' "$E2E_TMP/metrics.txt" || fail "the comparison's metrics are missing"
assert_no_leak
pass

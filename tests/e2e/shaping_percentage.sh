#!/usr/bin/env bash
# -r 50: about half of the sessions are replayed, each one whole. 200
# connections of 3 requests each: at the target every connection has all
# of its 3 requests or none, and between 30% and 70% of them are there.
source "$(dirname "$0")/lib.sh"
e2e_init shaping_percentage
require_daemons
require_tools nginx curl
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy -r 50

for c in $(seq 1 200); do
  in_client curl -sS --max-time 10 "http://$ONLINE_ADDR/r/pct/$c/[1-3]" >/dev/null || fail "curl run $c failed"
done
expect_alive tcpcopy
sleep 2
stop_daemons

on=$(count_requests online '^GET /r/pct/')
((on == 600)) || fail "online nginx logged $on requests, expected 600"
# Requests per connection number at the target.
awk -F'\t' '$2 ~ /^GET \/r\/pct\// { split($2, p, "/"); print p[4] }' "$(access_log target)" | sort | uniq -c >"$E2E_TMP/per-session"
partial=$(awk '$1 != 3' "$E2E_TMP/per-session" | wc -l)
whole=$(awk '$1 == 3' "$E2E_TMP/per-session" | wc -l)
log "sessions replayed whole: $whole of 200; partial: $partial; skipped counter: $(counter tcpcopy 'packets_skipped{sampled_out}')"
((partial == 0)) || fail "$partial sessions replayed in part: $(awk '$1 != 3' "$E2E_TMP/per-session" | head -n 3 | tr '\n' '|')"
((whole >= 60 && whole <= 140)) || fail "$whole of 200 sessions replayed, expected about half"
incomplete=$(awk -F'\t' '$6 != "OK"' "$(access_log target)" | wc -l)
((incomplete == 0)) || fail "$incomplete target responses not completed"
assert_no_leak
pass

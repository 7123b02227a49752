#!/usr/bin/env bash
# tcpcopy restarted under live keep-alive traffic, as a package upgrade or
# 'systemctl restart' does: wrk keeps 20 connections busy for 9 s while
# tcpcopy is killed (SIGKILL) and started again at once, then stopped
# (SIGTERM) and started again. The connections that were live before each
# start are joined once the control link is up (their sessions wait for it,
# sessions_link_waited, none lost as no_intercept), and at least 99% of the
# requests online answered from 1 s after each start (to 0.5 s before the
# next stop, whose own loss is logged) reach the target.
source "$(dirname "$0")/lib.sh"
e2e_init tcpcopy_restart
require_daemons
require_tools nginx wrk
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

lua=$(WRK_DELAY_MS=5 write_wrk_lua live)
bg wrk "$NS_CLIENT" timeout 30 wrk -t2 -c20 -d9s --timeout 5s -s "$lua" "http://$ONLINE_ADDR/"
sleep 2

# restart HOW: SIGKILL or SIGTERM, then a new tcpcopy at once. Prints the
# time of the new start.
restart() {
  local how=$1 pid=${E2E_PID[tcpcopy]}
  kill "-$how" "$pid"
  wait "$pid" 2>/dev/null || true
  cp "$E2E_TMP/tcpcopy.log" "$E2E_TMP/tcpcopy-before-$how.log"
  rm -f "$E2E_TMP/tcpcopy.log"
  date +%s.%N >"$E2E_TMP/start-$how"
  start_tcpcopy
}

log "killing tcpcopy (SIGKILL) under load, starting it again"
restart KILL
sleep 2.5
log "stopping tcpcopy (SIGTERM) under load, starting it again"
restart TERM
wait_exit wrk 30 || fail "wrk failed: $(cat "$E2E_TMP/wrk.out")"
log "wrk: $(grep -E 'requests in|Socket errors|Non-2xx' "$E2E_TMP/wrk.out" | tr -s ' ' | tr '\n' ';')"
sleep 2  # the last copies
stop_daemons
cp "$E2E_TMP/tcpcopy.log" "$E2E_TMP/tcpcopy-after-TERM.log"
cp "$E2E_TMP/tcpcopy-before-TERM.log" "$E2E_TMP/tcpcopy-after-KILL.log"

# share FROM TO: of the requests online logged between FROM and TO (s),
# how many reached the target (ON, TG) and the per mille (PM).
share() {
  local from=$1 to=$2
  awk -F'\t' -v a="$from" -v b="$to" '$2 ~ /^GET \/r\/live\// && $10 >= a && $10 < b { print $2 }' \
    "$(access_log online)" | sort >"$E2E_TMP/window.online"
  awk -F'\t' '$2 ~ /^GET \/r\/live\// { print $2 }' "$(access_log target)" | sort >"$E2E_TMP/window.target"
  ON=$(wc -l <"$E2E_TMP/window.online")
  TG=$(comm -12 "$E2E_TMP/window.online" "$E2E_TMP/window.target" | wc -l)
  ((ON > 100)) || fail "only $ON requests online in the window $from..$to"
  PM=$((TG * 1000 / ON))
}
kill_start=$(cat "$E2E_TMP/start-KILL")
term_start=$(cat "$E2E_TMP/start-TERM")
share "$(echo "$kill_start + 1" | bc)" "$(echo "$term_start - 0.5" | bc)"
pm_kill=$PM
log "after SIGKILL and start: $TG of $ON requests online from 1 s after the start to 0.5 s before the next stop reached the target ($PM per mille)"
share "$(echo "$term_start - 0.5" | bc)" "$term_start"
log "the last 0.5 s before SIGTERM: $TG of $ON requests reached the target (the stop loses what was in flight)"
share "$(echo "$term_start + 1" | bc)" 9999999999
pm_term=$PM
log "after SIGTERM and start: $TG of $ON requests online from 1 s after the start reached the target ($PM per mille)"
for f in after-KILL after-TERM; do
  line=$(grep -E 'counters: ' "$E2E_TMP/tcpcopy-$f.log" | tail -n 1)
  no_intercept=$(grep -oE 'sessions_lost\{no_intercept\}=[0-9]+' <<<"$line" | cut -d= -f2)
  waited=$(grep -oE 'sessions_link_waited=[0-9]+' <<<"$line" | cut -d= -f2)
  log "tcpcopy $f: sessions_link_waited=${waited:-0} sessions_lost{no_intercept}=${no_intercept:-0} $(grep -oE '(stale_connections|stale_resets|ports_moved|sessions_joined)=[0-9]+' <<<"$line" | tr '\n' ' ')"
  ((${no_intercept:-0} == 0)) || fail "tcpcopy $f lost ${no_intercept} session(s) for want of the intercept link"
done
((pm_kill >= 990)) || fail "after SIGKILL and start only ${pm_kill} per mille of the requests reached the target"
((pm_term >= 990)) || fail "after SIGTERM and start only ${pm_term} per mille of the requests reached the target"
assert_no_leak
pass

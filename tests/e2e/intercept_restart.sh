#!/usr/bin/env bash
# Faults on either side of the control channel.
#  - intercept is killed (SIGKILL) mid-run: tcpcopy keeps running, counts
#    the sessions it cannot register, reconnects when intercept is back and
#    then replicates new sessions in full.
#  - tcpcopy is killed (SIGKILL) with a session open: intercept drops that
#    tcpcopy's connections and routes; a new tcpcopy replicates in full.
source "$(dirname "$0")/lib.sh"
e2e_init intercept_restart
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

clean_run first
wait_replicated 20 "^GET /r/first/"

log "killing intercept"
kill -KILL "${E2E_PID[intercept]}"
wait "${E2E_PID[intercept]}" 2>/dev/null || true
# While it is away: clients are served online, nothing reaches the target
# (the queue has no reader: fail closed), tcpcopy stays.
in_client curl -sS --max-time 10 "http://$ONLINE_ADDR/r/outage/[1-10]" >/dev/null || fail "online server failed during the outage"
WRK_DELAY_MS=5 run_wrk outage 2 1 4 -H "Connection: close"
sleep 1.5
expect_alive tcpcopy
no_intercept=$(counter tcpcopy 'sessions_lost{no_intercept}')
((no_intercept > 0)) || fail "tcpcopy counted no session lost for want of an intercept during the outage"
log "outage: tcpcopy alive, $no_intercept sessions counted as sessions_lost{no_intercept}"

log "restarting intercept"
start_intercept
wait_until 20 "tcpcopy to reconnect both control connections" counter_at_least tcpcopy link_connects 4
log "tcpcopy reconnected (link_connects=$(counter tcpcopy link_connects))"
clean_run second
assert_clean_run second

# A long-lived session is open (so intercept holds its route) when
# tcpcopy is killed.
bg keepalive "$NS_CLIENT" bash -c "exec 3<>/dev/tcp/$ONLINE_ADDR/80
  printf 'GET /r/held/1 HTTP/1.1\r\nHost: e2e\r\n\r\n' >&3; sleep 30"
wait_until 10 "intercept to hold a route" counter_at_least intercept routes_active 1
log "killing tcpcopy with $(counter intercept routes_active) route(s) registered at intercept"
kill -KILL "${E2E_PID[tcpcopy]}"
wait "${E2E_PID[tcpcopy]}" 2>/dev/null || true
intercept_forgot_tcpcopy() {
  counter_is intercept control_connections 0 && counter_is intercept routes_active 0 \
    && counter_is intercept clients_active 0
}
wait_until 10 "intercept to drop the dead tcpcopy's connections and routes" intercept_forgot_tcpcopy
dropped=$(counter intercept 'routes_dropped{client_gone}')
((dropped >= 1)) || fail "intercept dropped no route of the killed tcpcopy"
log "intercept dropped $dropped route(s) of the killed tcpcopy, no connection left"
expect_alive intercept

start_tcpcopy
clean_run third
stop_daemons
assert_clean_run third
before_outage=$(count_requests target "^GET /r/outage/")
((before_outage == 0)) || fail "$before_outage requests of the outage reached the target"
assert_sender_guard
assert_no_leak
pass

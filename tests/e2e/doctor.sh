#!/usr/bin/env bash
# The deployment doctor on the namespace topology: intercept --check flags a
# missing NFQUEUE rule, a missing route to the clients, a queue and control
# port already taken, and mentions ip_forward; tcpcopy --check flags an
# intercept address where nothing answers (an unused address of the
# target's subnet) and passes once intercept runs; with -o it finds the
# target's MAC in the neighbour table (the earlier checks reached it) and
# flags a send interface that does not exist.
source "$(dirname "$0")/lib.sh"
e2e_init doctor
require_daemons
topology_up

# check NAME NS WANT_STATUS CMD...: run a check, keep its output in
# $E2E_TMP/NAME.check, fail unless it exits WANT_STATUS.
check() {
  local name=$1 ns=$2 want=$3 rc=0
  shift 3
  in_ns "$ns" timeout 30 "$@" >"$E2E_TMP/$name.check" 2>&1 || rc=$?
  if ((rc != want)); then
    cat "$E2E_TMP/$name.check" >&2
    fail "$name: exited $rc, expected $want"
  fi
}
# expect_line NAME REGEX: the check's output has a matching line.
expect_line() {
  grep -qE "$2" "$E2E_TMP/$1.check" || { cat "$E2E_TMP/$1.check" >&2; fail "$1: no line matching '$2'"; }
}

icheck=("$INTERCEPT_BIN" --check --queue-num "$QUEUE_NUM" --check-port 80,6379 --check-client "$CLIENT_ADDR")

# 1. No rule yet.
check no-rule "$NS_TARGET" 1 "${icheck[@]}"
expect_line no-rule '^\[FAIL\] NFQUEUE rule, port 80: no NFQUEUE rule on the OUTPUT path'
expect_line no-rule "^       fix: .*intercept-rules apply --port 80,6379 --queue $QUEUE_NUM\$"
expect_line no-rule "^\[ ok \] route to client $CLIENT_ADDR: replies leave through t0 via $ONLINE_TGT_SIDE"
log "intercept --check without the rule: exit 1, the fix names intercept-rules"

# 2. With the rule: ready.
apply_intercept_rule
check ready "$NS_TARGET" 0 "${icheck[@]}"
expect_line ready '^\[ ok \] NFQUEUE rule, port 80: replies from port 80 go to queue'
expect_line ready '^\[ ok \] NFQUEUE rule, port 6379: '
expect_line ready '^intercept --check: ready'
log "intercept --check with the rule: exit 0, ready"

# 3. ip_forward on: on the target (NFQUEUE) a note, not a failure.
in_target sysctl -qw net.ipv4.ip_forward=1
check forward "$NS_TARGET" 0 "${icheck[@]}"
expect_line forward '^\[info\] ip_forward: 1: .*assistant host'
in_target sysctl -qw net.ipv4.ip_forward=0
log "intercept --check with ip_forward=1: flagged (a note on the target)"

# 4. No route back to the clients.
ip -n "$NS_TARGET" route del default
check no-route "$NS_TARGET" 1 "${icheck[@]}"
expect_line no-route "^\[FAIL\] route to client $CLIENT_ADDR: no route to $CLIENT_ADDR"
ip -n "$NS_TARGET" route add default via "$ONLINE_TGT_SIDE"
log "intercept --check without a route to the client: exit 1"

# 5. tcpcopy toward an address of the target's subnet where nothing is.
ghost=10.77.2.99
check unreachable "$NS_ONLINE" 1 "$TCPCOPY_BIN" --check -x "80-$TARGET_ADDR:80" -s "$ghost"
expect_line unreachable "^\[FAIL\] intercept $ghost:$CONTROL_PORT: (no answer within|unreachable)"
expect_line unreachable "^\[ ok \] route to target $TARGET_ADDR: packets leave through ot"
# ... and toward the target, where no intercept runs yet.
check refused "$NS_ONLINE" 1 "$TCPCOPY_BIN" --check -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR"
expect_line refused "^\[FAIL\] intercept $TARGET_ADDR:$CONTROL_PORT: connection refused"
log "tcpcopy --check: exit 1 for an intercept that does not answer ($ghost) or is not running"

# 6. intercept running: tcpcopy's check passes; a second intercept would not.
bg intercept "$NS_TARGET" "$INTERCEPT_BIN" --mode=nfqueue --queue-num "$QUEUE_NUM" --allow "$CONTROL_ALLOW" -l "$E2E_TMP/intercept.log"
wait_until 10 "intercept to bind NFQUEUE $QUEUE_NUM" queue_bound
wait_until 10 "intercept to listen on port $CONTROL_PORT" port_listening "$NS_TARGET" "*" "$CONTROL_PORT"
check up "$NS_ONLINE" 0 "$TCPCOPY_BIN" --check -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR"
expect_line up "^\[ ok \] intercept $TARGET_ADDR:$CONTROL_PORT: answered the hello in [0-9]+ ms"
expect_line up '^tcpcopy --check: ready'
target_mac=$(ip -n "$NS_TARGET" -br link show dev t0 | awk '{ print $3 }')
check link "$NS_ONLINE" 0 "$TCPCOPY_BIN" --check -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR" -o ot
expect_line link '^\[ ok \] send interface ot: up, MTU 1500'
expect_line link "^\[ ok \] next hop of $TARGET_ADDR on ot: $target_mac, from /proc/net/arp"
check no-link "$NS_ONLINE" 1 "$TCPCOPY_BIN" --check -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR" -o nosuch0
expect_line no-link '^\[FAIL\] send interface nosuch0: no interface nosuch0 on this host'
check busy "$NS_TARGET" 1 "${icheck[@]}"
expect_line busy "^\[FAIL\] queue $QUEUE_NUM: already bound by another process"
expect_line busy "^\[FAIL\] control port $CONTROL_PORT: "
expect_alive intercept
stop intercept 15 || fail "intercept exited with an error on SIGTERM"
log "with intercept running: tcpcopy --check ready (with -o: the target's MAC found, a missing interface flagged); intercept --check sees queue and port taken"
pass

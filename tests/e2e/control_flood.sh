#!/usr/bin/env bash
# Handshake slots cannot be starved. 200 silent peers from one address of
# the online host keep trying to fill intercept's handshake slots for 8 s,
# each one closed opened again at once; a real tcpcopy started meanwhile
# still connects within a second and replicates, because a new connection
# always gets a slot: a source at its limit of pending connections (32)
# gives up its oldest, and when all 64 are busy the source holding the most
# gives one up. The flood is told why (kTurnedAway frames), intercept counts every
# eviction, and tcpcopy's connections are never among them.
source "$(dirname "$0")/lib.sh"
e2e_init control_flood
require_daemons
require_tools nginx curl
PEERS_BIN=${PEERS_BIN:-$REPO_ROOT/build/tests/e2e/control_peers}
[[ -x $PEERS_BIN ]] || fail "control_peers not found at '$PEERS_BIN' (set PEERS_BIN or build first)"
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
# The flood's own address on the online host's link to the target: the
# answers stay on that link, the client never sees them.
readonly FLOOD_SRC=10.77.2.9
ip -n "$NS_ONLINE" addr add "$FLOOD_SRC/24" dev ot
start_intercept

bg peers "$NS_ONLINE" "$PEERS_BIN" --dst "$TARGET_ADDR" --port "$CONTROL_PORT" --src "$FLOOD_SRC" \
  --count 200 --seconds 8 --max-connects 200000
evictions() {
  echo $(($(counter intercept 'control_closed{evicted_same_source}') + $(counter intercept 'control_closed{evicted_busiest_source}')))
}
flooding() { grep -q "too many connections in the handshake" "$E2E_TMP/intercept.log"; }
wait_until 5 "the flood to fill intercept's handshake slots" flooding
log "flood running: intercept evicts silent peers"

# tcpcopy during the flood: both of its connections up within a second.
t0=$(date +%s%N)
bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR" \
  -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1
links_up() { (($(grep -c ": up$" "$E2E_TMP/tcpcopy.log" 2>/dev/null) >= 2)); }
for ((i = 0; i < 100; i++)); do
  links_up && break
  sleep 0.02
done
t1=$(date +%s%N)
elapsed_ms=$(((t1 - t0) / 1000000))
links_up || fail "tcpcopy did not bring both control connections up within $elapsed_ms ms during the flood: $(tail -n 5 "$E2E_TMP/tcpcopy.log")"
log "tcpcopy connected during the flood in $elapsed_ms ms"
((elapsed_ms <= 1000)) || fail "tcpcopy needed $elapsed_ms ms to connect, expected at most 1000"
expect_alive peers
sleep 0.5

in_client timeout 30 bash -c "for i in \$(seq 1 30); do
  curl -sS --max-time 5 -o /dev/null http://$ONLINE_ADDR/r/flood/\$i || exit 1
done" || fail "curl run failed"
wait_exit peers 15 || fail "control_peers failed: $(cat "$E2E_TMP/peers.out")"
log "flood: $(cat "$E2E_TMP/peers.out")"
wait_replicated 15
sleep 1.2  # one more counter line of intercept's
stop_daemons

assert_http_replicated
evicted=$(evictions)
((evicted >= 100)) || fail "intercept evicted $evicted silent peers, expected at least 100"
turned=$(sed -n 's/.*turned_away=\([0-9]*\).*/\1/p' "$E2E_TMP/peers.out")
((turned >= 100)) || fail "the flood was told why only $turned times, expected at least 100"
grep -q "too many connections in the handshake" "$E2E_TMP/intercept.log" \
  || fail "intercept's log does not say why it closes pending connections"
[[ $(counter tcpcopy link_connects) == 2 ]] || fail "tcpcopy's link_connects is $(counter tcpcopy link_connects), expected 2"
grep -q "turned this connection away" "$E2E_TMP/tcpcopy.log" && fail "a tcpcopy connection was evicted by the flood"
log "intercept evicted $evicted silent peers, told them why $turned times; tcpcopy was never touched"
assert_no_leak
pass

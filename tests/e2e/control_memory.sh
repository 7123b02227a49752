#!/usr/bin/env bash
# intercept's memory for control connections comes back. 1,000 peers from
# the online host complete a handshake (no secret; --allow covers the test
# network) and each registers a few sessions, arriving steadily (at most 8
# waiting for their HelloAck, well within the 32 intercept admits per
# source in the handshake); they stay idle, then all close together. intercept's RSS is
# read before, while they are connected and 3 s after they closed: it must
# be back within 8 MiB of where it started, the idle peers' buffers must
# be freed while they stay connected (control_buffer_bytes at most 64 KiB
# within 5 s), and malloc_trim must have run (control_memory_trims).
source "$(dirname "$0")/lib.sh"
e2e_init control_memory
require_daemons
PEERS_BIN=${PEERS_BIN:-$REPO_ROOT/build/tests/e2e/control_peers}
[[ -x $PEERS_BIN ]] || fail "control_peers not found at '$PEERS_BIN' (set PEERS_BIN or build first)"
topology_up
readonly PEERS_SRC=10.77.2.9
ip -n "$NS_ONLINE" addr add "$PEERS_SRC/24" dev ot
start_intercept
sleep 1
rss_start=$(proc_status intercept VmRSS)

bg peers "$NS_ONLINE" "$PEERS_BIN" --dst "$TARGET_ADDR" --port "$CONTROL_PORT" --src "$PEERS_SRC" \
  --count 1000 --hello --register 4 --in-flight 8 --seconds 12
# The newest value of a counter in intercept's log lines (0 when absent:
# lines leave zeros out).
metric_now() {
  grep "counters:" "$E2E_TMP/intercept.log" | tail -n 1 | awk -v k="$1" '
    { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) }
    END { print (v == "" ? 0 : v) }'
}
connected() { (($(metric_now control_connections) >= 1000)); }
wait_until 8 "1,000 peers connected to intercept" connected
rss_peak=$(proc_status intercept VmRSS)
buffers_held=$(metric_now control_buffer_bytes)
# Idle, their buffers go back: a sweep about once a second.
freed() { (($(metric_now control_buffer_bytes) <= 64 * 1024)); }
wait_until 5 "the idle peers' buffers to be freed" freed
buffers=$(metric_now control_buffer_bytes)
wait_exit peers 15 || fail "control_peers failed: $(cat "$E2E_TMP/peers.out")"
log "peers: $(cat "$E2E_TMP/peers.out")"
sleep 3
rss_end=$(proc_status intercept VmRSS)
expect_alive intercept
stop intercept 15

acked=$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' "$E2E_TMP/peers.out")
((acked == 1000)) || fail "$acked of 1000 peers completed the handshake"
log "intercept RSS: ${rss_start} kB at start, ${rss_peak} kB with 1000 idle peers (buffers ${buffers_held} bytes, ${buffers} once idle), ${rss_end} kB 3 s after they closed"
((rss_end <= rss_start + 8192)) || fail "intercept's RSS stayed at ${rss_end} kB after the peers closed (start ${rss_start} kB)"
trims=$(counter intercept control_memory_trims)
((trims >= 1)) || fail "control_memory_trims is $trims: memory was never handed back"
[[ $(counter intercept 'control_closed{peer_closed}') -ge 1000 ]] \
  || fail "intercept saw $(counter intercept 'control_closed{peer_closed}') peers close, expected 1000"
pass

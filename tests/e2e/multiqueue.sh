#!/usr/bin/env bash
# Multi-queue intercept: the rule spreads the target's replies over NFQUEUE
# queues 0..3 (--queue-balance), intercept --queue-balance 0:3 reads each
# with a thread of its own. The kernel picks the queue by a hash of the
# address pair, so the client namespace has 48 addresses: curl from each,
# wrk (keep-alive and one connection per request) and Redis from the first.
# Every request is replicated exactly once, every queue carried replies,
# nothing leaks to the client.
source "$(dirname "$0")/lib.sh"
e2e_init multiqueue
require_daemons
require_tools nginx wrk redis-server redis-cli redis-benchmark
topology_up
for i in $(seq 100 147); do ip -n "$NS_CLIENT" addr add "10.77.1.$i/24" dev c0; done
export E2E_TARGET_CLIENT='10\.77\.1\.([2]|1[0-4][0-9])'
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

in_target "$INTERCEPT_RULES" apply --iptables --port 80,6379 --queue-balance 0:3 >"$E2E_TMP/rules.out" 2>&1 \
  || fail "intercept-rules apply --queue-balance failed: $(cat "$E2E_TMP/rules.out")"
bg intercept "$NS_TARGET" "$INTERCEPT_BIN" --mode=nfqueue --queue-balance 0:3 --allow "$CONTROL_ALLOW" \
  -l "$E2E_TMP/intercept.log" --log-level info --stats-interval 1
# queues_bound: all four queues have a reader.
queues_bound() {
  in_target cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '$1 <= 3 { n++ } END { exit n != 4 }'
}
wait_until 10 "intercept to bind queues 0-3" queues_bound
wait_until 10 "intercept to listen on port $CONTROL_PORT" port_listening "$NS_TARGET" "*" "$CONTROL_PORT"
expect_alive intercept
wait_until 5 "the start-up line" grep -q "nfqueue mode, replies from 4 queues 0-3, a thread each" "$E2E_TMP/intercept.log"
log "intercept reads NFQUEUE 0-3, a thread each"
start_tcpcopy

curls=()
for i in $(seq 100 147); do
  in_client curl -sS --max-time 20 --interface "10.77.1.$i" "http://$ONLINE_ADDR/r/mq/$i/[1-20]" >/dev/null &
  curls+=("$!")
done
wait "${curls[@]}" || true
for i in $(seq 100 147); do
  n=$(count_requests online "^GET /r/mq/$i/")
  ((n == 20)) || fail "curl from 10.77.1.$i: $n of 20 requests served online"
done
log "curl: 20 keep-alive requests from each of 48 client addresses"
WRK_DELAY_MS=1 run_wrk keepalive 3 2 40
WRK_DELAY_MS=5 run_wrk close 3 2 40 -H "Connection: close"
redis_bench -t incr -n 3000 -P 16 -c 8
redis_bench -t lpush -n 500 -c 4
expect_alive tcpcopy
wait_replicated 30
assert_redis_replicated
# Packets each queue has seen (the kernel's id sequence), before the
# readers go.
per_queue=$(in_target cat /proc/net/netfilter/nfnetlink_queue | awk '$1 <= 3 { printf "%s:%s ", $1, $8 }')
stop_daemons

assert_http_replicated
log "packets per queue (queue:count): $per_queue"
for q in 0 1 2 3; do
  n=$(tr ' ' '\n' <<<"$per_queue" | awk -F: -v q="$q" '$1 == q { print $2 }')
  ((${n:-0} > 0)) || fail "queue $q carried no reply: the flows were not spread ($per_queue)"
done
handed=$(counter intercept queue_handoffs)
shed=$(counter intercept queue_handoffs_shed)
forwarded=$(counter intercept replies_forwarded)
((handed > 0 && shed == 0)) || fail "queue threads handed over $handed headers, shed $shed"
((forwarded > 0)) || fail "no reply header forwarded to tcpcopy"
log "queue threads handed $handed headers to the main thread (0 shed), $forwarded forwarded to tcpcopy"
assert_no_leak
pass

#!/usr/bin/env bash
# intercept in assistant mode (architecture 3): tcpcopy rewrites the client
# address (-c 10.77.9.x), the target routes those addresses to a fourth
# host on a second link, and there intercept (ip_forward=0) captures the
# replies with libpcap and sends their headers to tcpcopy. No NFQUEUE rule
# on the target. HTTP (curl keep-alive, wrk) and Redis (INCR, LPUSH) are
# replicated exactly once; no reply reaches the client or comes back
# through the online host. intercept also warns when the assistant
# forwards.
source "$(dirname "$0")/lib.sh"
e2e_init assistant
require_daemons
require_tools nginx curl wrk redis-server redis-cli redis-benchmark
readonly SEEN_NET=10.77.9.0/24  # the client addresses the target sees
export E2E_TARGET_CLIENT=10.77.9.${CLIENT_ADDR##*.}
topology_up
assistant_up "$SEEN_NET"
leak_detector_install
# Replies to the rewritten addresses must end at the assistant, never
# travel back through the online host.
in_online nft -f - <<NFT || fail "cannot install the online counter"
table ip e2e_seen {
	counter returned { }
	chain prerouting {
		type filter hook prerouting priority raw - 10; policy accept;
		ip daddr $SEEN_NET counter name "returned"
	}
}
NFT
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

# With forwarding on, the doctor fails and intercept warns at start (and
# keeps running).
in_assist sysctl -qw net.ipv4.ip_forward=1
rc=0
in_assist "$INTERCEPT_BIN" --check --mode=assistant -i a0 >"$E2E_TMP/check.out" 2>&1 || rc=$?
((rc == 1)) && grep -q "^\[FAIL\] ip_forward: 1: this assistant host" "$E2E_TMP/check.out" \
  || fail "intercept --check did not fail on ip_forward=1 (status $rc): $(cat "$E2E_TMP/check.out")"
bg intercept-forwarding "$NS_ASSIST" "$INTERCEPT_BIN" --mode=assistant -i a0 -p 36599 --allow "$CONTROL_ALLOW" -l "$E2E_TMP/forwarding.log"
wait_until 10 "the ip_forward warning" grep -q "^intercept: \[warn\] ip_forward: 1: this assistant host" \
  "$E2E_TMP/intercept-forwarding.out"
grep -q "\[warn\] ip_forward: 1: this assistant host" "$E2E_TMP/forwarding.log" \
  || fail "the ip_forward warning is not in the log"
stop intercept-forwarding 10 || fail "intercept with ip_forward=1 did not exit cleanly"
in_assist sysctl -qw net.ipv4.ip_forward=0
in_assist "$INTERCEPT_BIN" --check --mode=assistant -i a0 >"$E2E_TMP/check.out" 2>&1 \
  || fail "intercept --check failed on the assistant host: $(cat "$E2E_TMP/check.out")"
log "assistant: --check fails with ip_forward=1 and passes with 0; intercept warns at start with ip_forward=1"

start_intercept_assistant
# The control port listens before the start-up line reaches the log file.
startup_line="assistant mode, replies from pcap on a0 (Ethernet), filter 'tcp and (src port 80 or src port 6379)'"
for _ in $(seq 50); do grep -qF "$startup_line" "$E2E_TMP/intercept.log" && break; sleep 0.1; done
grep -qF "$startup_line" "$E2E_TMP/intercept.log" \
  || fail "intercept's start-up line does not show the capture: $(head -n 3 "$E2E_TMP/intercept.log")"
if grep -q "ip_forward" "$E2E_TMP/intercept.log"; then fail "intercept warned about forwarding with ip_forward=0"; fi
# With its capture open, assistant mode needs no capability at all.
wait_until 5 "intercept to drop its capabilities" grep -q "capabilities dropped; kept none" "$E2E_TMP/intercept.log"
cap=$(proc_status intercept CapEff)
[[ $cap == 0000000000000000 ]] || fail "intercept in assistant mode kept capabilities: CapEff=$cap"
start_tcpcopy -c 10.77.9.x

in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/curl/[1-20]" >/dev/null || fail "curl keep-alive run failed"
WRK_DELAY_MS=2 run_wrk assist 3 2 4
redis_bench -t incr -n 2000 -P 16 -c 4
redis_bench -t lpush -n 500 -c 2
expect_alive tcpcopy
wait_replicated 30
assert_redis_replicated
stop_daemons

assert_http_replicated
replies=$(counter intercept replies_captured)
forwarded=$(counter intercept replies_forwarded)
((replies > 0 && forwarded > 0)) || fail "intercept captured $replies replies and forwarded $forwarded headers"
log "assistant: $replies replies captured on a0, $forwarded headers sent to tcpcopy"
returned=$(in_online nft list counter ip e2e_seen returned | awk '$1 == "packets" { print $2 }')
((returned == 0)) || fail "$returned packets to the rewritten client addresses came back through the online host"
assert_no_leak
pass

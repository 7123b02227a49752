#!/usr/bin/env bash
# IPv6 in assistant mode (architecture 3): clients reach the online server
# over IPv6, tcpcopy rewrites them to fd77:9::2 (-c), the target routes
# fd77:9::/64 to the assistant host, where intercept captures the replies
# with libpcap (IPv6 filter derived from the ports) and returns their headers
# over an IPv6 control channel. HTTP (curl, wrk with one connection per
# request) and Redis INCR are replicated exactly once; nothing reaches the
# client or comes back through the online host.
source "$(dirname "$0")/lib.sh"
e2e_init assistant_ipv6
require_daemons
require_tools nginx curl wrk redis-server redis-cli redis-benchmark
readonly SEEN6=fd77:9::2       # the client address the target sees
readonly SEEN6_NET=fd77:9::/64
readonly ASSIST6=fd77:3::3
readonly TARGET6_ASSIST_SIDE=fd77:3::2
topology_up
topology_add_ipv6
assistant_up
# The IPv6 side of the assistant link; the target routes the rewritten
# client addresses there and forwards the control channel.
ip -n "$NS_TARGET" addr add "$TARGET6_ASSIST_SIDE/64" dev t1 nodad
ip -n "$NS_ASSIST" addr add "$ASSIST6/64" dev a0 nodad
ip -n "$NS_TARGET" -6 route add "$SEEN6_NET" via "$ASSIST6"
in_target sysctl -qw net.ipv6.conf.all.forwarding=1
in_assist sysctl -qw net.ipv6.conf.all.forwarding=0
ip -n "$NS_ONLINE" -6 route add fd77:3::/64 via "$TARGET6"
ip -n "$NS_ASSIST" -6 route add fd77:2::/64 via "$TARGET6_ASSIST_SIDE"
leak_detector_install
in_online nft -f - <<NFT || fail "cannot install the online counter"
table ip6 e2e_seen6 {
	counter returned { }
	chain prerouting {
		type filter hook prerouting priority raw - 10; policy accept;
		ip6 daddr $SEEN6_NET counter name "returned"
	}
}
NFT
start_nginx online "$NS_ONLINE" "[$ONLINE6]"
start_nginx target "$NS_TARGET" "[$TARGET6]"
start_redis online "$NS_ONLINE" "$ONLINE6"
start_redis target "$NS_TARGET" "$TARGET6"

bg intercept "$NS_ASSIST" "$INTERCEPT_BIN" --mode=assistant -i a0 --target-ports 80,6379 -b "$ASSIST6" \
  --allow "$CONTROL_ALLOW" -l "$E2E_TMP/intercept.log" --stats-interval 1
wait_until 10 "intercept to listen on [$ASSIST6]:$CONTROL_PORT" port_listening "$NS_ASSIST" "[$ASSIST6]" "$CONTROL_PORT"
expect_alive intercept
bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-[$TARGET6]:80,6379-[$TARGET6]:6379" -s "[$ASSIST6]" -c "$SEEN6" \
  -l "$E2E_TMP/tcpcopy.log" --stats-interval 1
v6_control_up() { in_online ss -Htn state established "dst [$ASSIST6]:$CONTROL_PORT" | grep -q .; }
wait_until 10 "tcpcopy to connect to the assistant over IPv6" v6_control_up
sleep 0.5
expect_alive tcpcopy
log "intercept (assistant mode) on [$ASSIST6]:$CONTROL_PORT; the target routes $SEEN6_NET there"

in_client curl -sS --max-time 20 "http://[$ONLINE6]/r/a6curl/[1-20]" >/dev/null || fail "curl keep-alive failed"
in_client timeout 30 wrk -t1 -c4 -d2s --timeout 5s -H "Connection: close" -s "$(WRK_DELAY_MS=2 write_wrk_lua a6wrk)" \
  "http://[$ONLINE6]/" >"$E2E_TMP/wrk.txt" 2>&1 || fail "wrk failed: $(cat "$E2E_TMP/wrk.txt")"
in_client timeout 60 redis-benchmark -h "$ONLINE6" -p 6379 -q -t incr -n 3000 -P 16 -c 4 >/dev/null \
  || fail "redis-benchmark failed"
expect_alive tcpcopy
wait_redis6_incr
wait_replicated 30
stop_daemons

assert_http6_replicated "$SEEN6"
log "Redis INCR over IPv6: online $ONLINE_INCR, target $TARGET_INCR"
((ONLINE_INCR > 0)) || fail "online INCR counter is zero: the benchmark did not run"
[[ $TARGET_INCR == "$ONLINE_INCR" ]] || fail "INCR counter differs"
replies=$(counter intercept replies_captured)
((replies > 0)) || fail "intercept captured no replies"
log "assistant: $replies IPv6 replies captured on a0, $(counter intercept replies_forwarded) headers forwarded"
returned=$(in_online nft list counter ip6 e2e_seen6 returned | awk '$1 == "packets" { print $2 }')
((returned == 0)) || fail "$returned packets to $SEEN6_NET came back through the online host"
assert_no_leak
pass

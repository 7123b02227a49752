#!/usr/bin/env bash
# tcpcopy's link-layer backends on the online host: requests captured with
# libpcap on the client-side interface (-i oc) and sent from a packet
# socket's transmit ring on the target-side interface (-o ot), to the
# target's MAC taken from the online host's neighbour table. Every frame
# the ring took is counted as sent, no frame waited for a free slot, and
# none was dropped by a failed send. The copies skip the online host's routing
# and netfilter (its OUTPUT counter for them stays 0). HTTP and Redis are
# replicated exactly once; nothing leaks to the client.
source "$(dirname "$0")/lib.sh"
e2e_init pcap_live
require_daemons
require_tools nginx curl wrk redis-server redis-cli redis-benchmark
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept

# The sender finds the target's MAC in /proc/net/arp: one connection
# attempt (to a closed port, answered by a reset) makes the kernel learn it.
in_online timeout 5 bash -c "exec 3<>/dev/tcp/$TARGET_ADDR/9" 2>/dev/null || true
in_online grep -q "^$TARGET_ADDR " /proc/net/arp || fail "the online host has no neighbour entry for $TARGET_ADDR"
target_mac=$(ip -n "$NS_TARGET" -br link show dev t0 | awk '{ print $3 }')
# Raw sends would pass the online host's OUTPUT hook; link-layer frames do not.
in_online nft -f - <<NFT || fail "cannot install the OUTPUT counter"
table ip e2e_output {
	counter copies { }
	chain output {
		type filter hook output priority raw - 10; policy accept;
		ip saddr $CLIENT_ADDR ip daddr $TARGET_ADDR counter name "copies"
	}
}
NFT
start_tcpcopy -i oc -o ot -B 8
grep -q "capture: pcap on oc (Ethernet), filter 'tcp and (dst port 80 or dst port 6379)'; send: transmit ring on ot" \
  "$E2E_TMP/tcpcopy.log" || fail "tcpcopy's start-up line does not show the pcap backends: $(grep capture: "$E2E_TMP/tcpcopy.log")"
grep -q "$TARGET_ADDR via $target_mac" "$E2E_TMP/tcpcopy.log" \
  || fail "tcpcopy did not take $target_mac from the neighbour table: $(grep capture: "$E2E_TMP/tcpcopy.log")"

in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/curl/[1-20]" >/dev/null || fail "curl keep-alive run failed"
in_client timeout 60 bash -c "for i in \$(seq 1 10); do
  curl -sS --max-time 5 -H 'Connection: close' -o /dev/null http://$ONLINE_ADDR/r/close/\$i || exit 1
done" || fail "curl Connection: close run failed"
WRK_DELAY_MS=2 run_wrk pcap 3 2 4
redis_bench -t incr -n 2000 -P 16 -c 4
redis_bench -t lpush -n 500 -c 2
expect_alive tcpcopy
wait_replicated 30
assert_redis_replicated
stop_daemons

assert_http_replicated
sent=$(counter tcpcopy send_packets)
captured=$(counter tcpcopy capture_packets)
through_output=$(in_online nft list counter ip e2e_output copies | awk '$1 == "packets" { print $2 }')
log "tcpcopy: $captured packets captured with libpcap, $sent frames sent from the ring; $through_output passed the online OUTPUT hook"
((captured > 0 && sent > 0)) || fail "nothing captured with pcap or sent from the ring"
((through_output == 0)) || fail "$through_output copies went through the online host's OUTPUT hook (not sent as frames)"
link_errors=$(counter_line tcpcopy | grep -oE 'capture_link_errors\{[a-z_]+\}=[1-9][0-9]*' || true)
[[ -z $link_errors ]] || fail "link-layer errors on a plain Ethernet capture: $link_errors"
ring_drops=$(counter_line tcpcopy | grep -oE 'send_(ring_full|dropped\{[A-Za-z]+\})=[1-9][0-9]*' || true)
[[ -z $ring_drops ]] || fail "the transmit ring dropped copies: $ring_drops"
assert_no_leak
pass

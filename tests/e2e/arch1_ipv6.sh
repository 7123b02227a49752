#!/usr/bin/env bash
# Architecture 1 over IPv6: as arch1.sh, the copies carry fd77:9::2 (-c),
# which the target routes back through the online ns, where tcpcopy
# captures the replies (--reply-interface ot) and the kernel, with IPv6
# forwarding off, drops them. HTTP keep-alive and one connection per
# request, Redis pipelined; replicated exactly once, nothing reaches the
# client, and the online stack sends no RST or ICMPv6 to the target.
source "$(dirname "$0")/lib.sh"
e2e_init arch1_ipv6
[[ -x $TCPCOPY_BIN ]] || fail "tcpcopy binary not found at '$TCPCOPY_BIN'"
require_tools nginx curl redis-server redis-cli redis-benchmark setpriv
readonly SEEN6=fd77:9::2
readonly TCPCOPY_GID=4242

topology_up
topology_add_ipv6
in_online sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv4.ip_forward=0
ip -n "$NS_TARGET" -6 route add fd77:9::/64 via "$ONLINE6_TGT_SIDE"
# Unlike IPv4, IPv6 looks the route up before it checks forwarding: with no
# route at all for the -c range (this ns has no default route) every reply
# would draw an ICMPv6 "no route" toward the target. A real host's default
# route does; here a blackhole route drops them silently.
ip -n "$NS_ONLINE" -6 route add blackhole fd77:9::/64
leak_detector_install
in_online nft -f - <<NFT || fail "cannot install the answer counters"
table ip6 e2e_arch1 {
	counter answers { }
	counter tcpcopy_rst { }
	chain stack_out {
		type filter hook output priority raw - 10; policy accept;
		ip6 daddr $TARGET6_NET tcp flags & rst == rst counter name "answers"
		ip6 daddr $TARGET6_NET tcp flags & rst == rst meta skgid $TCPCOPY_GID counter name "tcpcopy_rst"
		ip6 daddr $TARGET6_NET meta l4proto ipv6-icmp icmpv6 type != { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } counter name "answers"
	}
	chain stack_forward {
		type filter hook forward priority raw - 10; policy accept;
		ip6 daddr $TARGET6_NET tcp flags & rst == rst counter name "answers"
		ip6 daddr $TARGET6_NET meta l4proto ipv6-icmp counter name "answers"
	}
}
NFT
nft_packets() { in_online nft list counter ip6 e2e_arch1 "$1" | awk '$1 == "packets" { print $2; exit }'; }

start_nginx online "$NS_ONLINE" "[$ONLINE6]"
start_nginx target "$NS_TARGET" "[$TARGET6]"
start_redis online "$NS_ONLINE" "$ONLINE6"
start_redis target "$NS_TARGET" "$TARGET6"

# shellcheck disable=SC2086 # ARCH1_ARGS is a list of options
bg tcpcopy "$NS_ONLINE" setpriv --regid "$TCPCOPY_GID" --clear-groups "$TCPCOPY_BIN" \
  -x "80-[$TARGET6]:80,6379-[$TARGET6]:6379" --reply-interface ot -c "$SEEN6" \
  -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1 ${ARCH1_ARGS:-}
wait_until 10 "tcpcopy to capture replies" grep -q "replies: pcap on" "$E2E_TMP/tcpcopy.log"
sleep 0.5
expect_alive tcpcopy

in_client curl -sS --max-time 60 "http://[$ONLINE6]/big.bin" "http://[$ONLINE6]/big.bin" "http://[$ONLINE6]/r/v6ka/[1-20]" >/dev/null \
  || fail "curl keep-alive failed"
in_client curl -sS --max-time 60 -H 'Connection: close' "http://[$ONLINE6]/r/v6close/[1-20]" >/dev/null || fail "curl close failed"
in_client timeout 60 redis-benchmark -h "$ONLINE6" -p 6379 -q -t incr -n 5000 -P 16 -c 4 >/dev/null || fail "redis-benchmark failed"
expect_alive tcpcopy
wait_redis6_incr
wait_replicated 30
stop tcpcopy 15 || fail "tcpcopy exited with status $? on SIGTERM"
show_counters tcpcopy

assert_http6_replicated "$SEEN6"
assert_big_responses
log "Redis INCR over IPv6: online $ONLINE_INCR, target $TARGET_INCR"
[[ $TARGET_INCR == "$ONLINE_INCR" ]] || fail "INCR counter differs"
assert_no_leak
answers=$(nft_packets answers) own=$(nft_packets tcpcopy_rst)
[[ -n $answers && -n $own ]] || fail "cannot read the answer counters"
log "RST/ICMPv6 toward the target from the online ns: $answers, of them tcpcopy's own RSTs: $own"
((answers == own)) || fail "the online host's stack answered the target's replies: $((answers - own)) RST/ICMPv6 packet(s)"
log "tcpcopy captured $(counter tcpcopy reply_capture_replies) replies, kernel drops $(counter tcpcopy reply_capture_kernel_drops)"
pass

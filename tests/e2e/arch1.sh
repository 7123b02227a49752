#!/usr/bin/env bash
# Architecture 1: tcpcopy alone, no intercept anywhere. The copies carry
# client addresses 10.77.9.x (-c), which are not local to the online ns; the
# target routes them back through the online ns, where tcpcopy captures the
# replies on its link to the target (--reply-interface ot) and the kernel,
# with forwarding off, drops them.
#
#   client 10.77.1.2 -- online 10.77.1.1 | 10.77.2.1 -- target 10.77.2.2
#                       ip_forward=0                   10.77.9.0/24 via 10.77.2.1
#                       tcpcopy --reply-interface ot   (no intercept)
#
# The client talks to the online server directly, so no forwarding is
# needed; with it off, nothing of the target's can reach the client, and
# the leak detector checks that. The online stack must not answer the
# replies either: an nft counter in its output and forward hooks counts every
# RST and ICMP toward the target that tcpcopy did not send itself (tcpcopy
# runs with its own group id, which its raw packets carry).
# Workloads: HTTP keep-alive with 1 MiB answers and a 200 KB upload, one
# connection per request, Redis pipelined.
# ARCH1_ARGS adds tcpcopy options, e.g. "-i oc -o ot" for the link-layer
# backends (whose frames skip the OUTPUT hook). ARCH1_COPIES=N runs -n N:
# every request must then reach the target N times.
source "$(dirname "$0")/lib.sh"
e2e_init arch1
[[ -x $TCPCOPY_BIN ]] || fail "tcpcopy binary not found at '$TCPCOPY_BIN'"
require_tools nginx curl redis-server redis-cli redis-benchmark setpriv
readonly SEEN_NET=10.77.9.0/24
readonly TCPCOPY_GID=4242
export E2E_TARGET_CLIENT=10.77.9.${CLIENT_ADDR##*.}
copies=${ARCH1_COPIES:-1}
export E2E_REPEAT=$copies

topology_up
# Replies to the copies' clients go to the online host, which keeps them.
in_online sysctl -qw net.ipv4.ip_forward=0
ip -n "$NS_TARGET" route add "$SEEN_NET" via "$ONLINE_TGT_SIDE"
leak_detector_install
in_online nft -f - <<NFT || fail "cannot install the answer counters"
table inet e2e_arch1 {
	counter answers { }
	counter tcpcopy_rst { }
	chain stack_out {
		type filter hook output priority raw - 10; policy accept;
		ip daddr $TARGET_NET tcp flags & rst == rst counter name "answers"
		ip daddr $TARGET_NET tcp flags & rst == rst meta skgid $TCPCOPY_GID counter name "tcpcopy_rst"
		ip daddr $TARGET_NET meta l4proto icmp counter name "answers"
	}
	chain stack_forward {
		type filter hook forward priority raw - 10; policy accept;
		ip daddr $TARGET_NET tcp flags & rst == rst counter name "answers"
		ip daddr $TARGET_NET meta l4proto icmp counter name "answers"
	}
}
NFT
nft_packets() { in_online nft list counter inet e2e_arch1 "$1" | awk '$1 == "packets" { print $2; exit }'; }

start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

# The doctor, on this very host: ready (status 0), each check of this layout
# passed; with forwarding on, a problem naming the sysctl.
arch1_opts=(-x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" --reply-interface ot -c 10.77.9.x)
in_online "$TCPCOPY_BIN" --check "${arch1_opts[@]}" >"$E2E_TMP/check.txt" 2>&1 \
  || fail "tcpcopy --check found problems: $(cat "$E2E_TMP/check.txt")"
for c in "client addresses" "forwarding net.ipv4.ip_forward" "reply interface ot" "replies of $TARGET_ADDR"; do
  grep -qF "[ ok ] $c" "$E2E_TMP/check.txt" || fail "tcpcopy --check did not pass '$c': $(cat "$E2E_TMP/check.txt")"
done
in_online sysctl -qw net.ipv4.ip_forward=1
in_online "$TCPCOPY_BIN" --check "${arch1_opts[@]}" >"$E2E_TMP/check-forward.txt" 2>&1 \
  && fail "tcpcopy --check passed with forwarding on"
grep -qF "[FAIL] forwarding net.ipv4.ip_forward" "$E2E_TMP/check-forward.txt" \
  || fail "tcpcopy --check did not flag forwarding: $(cat "$E2E_TMP/check-forward.txt")"
in_online sysctl -qw net.ipv4.ip_forward=0
log "tcpcopy --check: ready with this layout, and flags net.ipv4.ip_forward=1"

# -o finds the target's MAC in /proc/net/arp: one connection attempt (to a
# closed port) makes the kernel learn it.
in_online timeout 5 bash -c "exec 3<>/dev/tcp/$TARGET_ADDR/9" 2>/dev/null || true
# shellcheck disable=SC2086 # ARCH1_ARGS is a list of options
bg tcpcopy "$NS_ONLINE" setpriv --regid "$TCPCOPY_GID" --clear-groups "$TCPCOPY_BIN" \
  "${arch1_opts[@]}" -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1 -n "$copies" ${ARCH1_ARGS:-}
wait_until 10 "tcpcopy to capture replies" grep -q "replies: pcap on" "$E2E_TMP/tcpcopy.log"
sleep 0.5
expect_alive tcpcopy
log "tcpcopy running without intercept: $(grep -o 'replies: .*' "$E2E_TMP/tcpcopy.log")"

url=http://$ONLINE_ADDR
# Keep-alive: three 1 MiB answers on one connection, twice, and uploads.
for i in 1 2; do
  in_client curl -sS --max-time 60 "$url/big.bin" "$url/big.bin" "$url/big.bin" >/dev/null || fail "keep-alive GETs failed"
done
head -c 205133 /dev/urandom >"$E2E_TMP/upload.bin"
for i in 1 2 3; do
  code=$(in_client curl -sS --max-time 60 -o /dev/null -w '%{http_code}' -T "$E2E_TMP/upload.bin" "$url/put/up-$i.bin") \
    || fail "PUT $i failed"
  [[ $code == 201 ]] || fail "PUT $i answered $code"
done
# One connection per request.
for i in $(seq 1 40); do urls+=("$url/close-$i"); done
in_client curl -sS --max-time 60 -H 'Connection: close' "${urls[@]}" >/dev/null || fail "close GETs failed"
log "client: 6 GETs of $BIG_FILE_SIZE bytes (2 keep-alive connections), 3 PUTs of 205133 bytes, 40 requests on their own connections"
# Redis, pipelined.
redis_bench -t incr -n 20000 -P 16 -c 8
redis_bench -t lpush -n 5000 -P 16 -c 4
expect_alive tcpcopy

wait_replicated 60
assert_redis_replicated "$copies"
stop tcpcopy 15 || fail "tcpcopy exited with status $? on SIGTERM"
show_counters tcpcopy

assert_http_replicated
assert_big_responses
for i in 1 2 3; do
  cmp -s "$E2E_TMP/upload.bin" "$E2E_TMP/nginx-target/dav/put/up-$i.bin" || fail "target stored up-$i.bin differently"
done
log "target stored the 3 uploads byte for byte"
assert_no_leak

answers=$(nft_packets answers) own=$(nft_packets tcpcopy_rst)
[[ -n $answers && -n $own ]] || fail "cannot read the answer counters"
log "RST/ICMP toward the target from the online ns: $answers, of them tcpcopy's own RSTs: $own"
((answers == own)) || fail "the online host's stack answered the target's replies: $((answers - own)) RST/ICMP packet(s)"
replies=$(counter tcpcopy reply_capture_replies)
((replies > 1000)) || fail "tcpcopy captured only $replies replies"
((${ARCH1_SKIP_DROPS:-0} == 1 || $(counter tcpcopy reply_capture_kernel_drops) == 0)) || fail "the reply capture dropped replies"
log "tcpcopy captured $replies replies, kernel drops $(counter tcpcopy reply_capture_kernel_drops)"
pass

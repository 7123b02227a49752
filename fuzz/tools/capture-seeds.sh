#!/usr/bin/env bash
# Regenerates the fuzz seeds in fuzz/corpus/ from real traffic: a short
# replication run in the namespace topology of tests/e2e (HTTP and Redis
# through tcpcopy and intercept), captured with tcpdump on the online
# server's two links, then cut into seeds by fuzz_seeds_from_pcap.
# Root only (namespaces); nothing touches the host's own network namespace.
#
#   sudo fuzz/tools/capture-seeds.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
cmake --build "$build" --target fuzz_seeds_from_pcap tcpcopy intercept >/dev/null
export TCPCOPY_BIN=$build/copy/tcpcopy INTERCEPT_BIN=$build/intercept/intercept
source "$repo/tests/e2e/lib.sh"
e2e_init capture_seeds
require_daemons
require_tools nginx redis-server redis-cli curl tcpdump
topology_up
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
bg tcpdump-client "$NS_ONLINE" tcpdump -i oc -nn -U -s 0 -w "$E2E_TMP/client.pcap" tcp
bg tcpdump-target "$NS_ONLINE" tcpdump -i ot -nn -U -s 0 -w "$E2E_TMP/target.pcap" tcp
sleep 1
start_intercept
start_tcpcopy

in_client curl -sS --max-time 10 "http://$ONLINE_ADDR/r/seed/[1-5]" >/dev/null
in_client curl -sS --max-time 10 -H 'Connection: close' "http://$ONLINE_ADDR/r/close" >/dev/null
in_client curl -sS --max-time 10 -T "$E2E_TMP/static/index.html" "http://$ONLINE_ADDR/put/seed.txt" >/dev/null
in_client curl -sS --max-time 10 -r 0-20000 "http://$ONLINE_ADDR/big.bin" >/dev/null
for i in 1 2 3; do in_client redis-cli -h "$ONLINE_ADDR" INCR seed >/dev/null; done
in_client redis-cli -h "$ONLINE_ADDR" SET key "$(head -c 300 /dev/zero | tr '\0' v)" >/dev/null
sleep 2
stop_daemons
sleep 1
kill -INT "${E2E_PID[tcpdump-client]}" "${E2E_PID[tcpdump-target]}"
sleep 1

"$build/fuzz/fuzz_seeds_from_pcap" "$E2E_TMP/client.pcap" "$E2E_TMP/target.pcap" "$repo/fuzz/corpus"

# Command lines of the namespace tests, arguments separated by NUL.
text=$repo/fuzz/corpus/text
mkdir -p "$text"
printf '%s\0' -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" -s "$TARGET_ADDR" -l /tmp/t.log --log-level info \
  --stats-interval 1 >"$text/real-tcpcopy"
printf '%s\0' --mode=nfqueue --queue-num 0 -l /tmp/i.log --allow "$ONLINE_TGT_SIDE/32,10.77.0.0/16" \
  --secret-file /etc/tcpcopy.key >"$text/real-intercept"
printf '%s' "[2001:db8::1]:80-[2001:db8::2]:8080,443-10.0.0.3:443" >"$text/transfers-v6"
printf '%s' "10.77.2.2:36524, [2001:db8::2]:4000,10.0.0.3" >"$text/endpoints"
log "seeds: $(find "$repo/fuzz/corpus" -type f | wc -l) files in fuzz/corpus"
pass

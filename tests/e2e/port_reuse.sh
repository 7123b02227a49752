#!/usr/bin/env bash
# One client port, connection after connection, while the target is still
# serving the copies of the earlier ones: the target's nginx sends at most
# 2 MB/s, the online one at full speed, so each 1 MiB copy takes about half
# a second at the target while the client is done in milliseconds. Every
# copy must queue for the port (ports_waited) and reach the target from that
# same port, one after the other, none moved to another port: the target's
# access log shows every download complete, from the client's own port.
source "$(dirname "$0")/lib.sh"
e2e_init port_reuse
require_daemons
require_tools nginx curl
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR" "limit_rate 2m;"
start_intercept
start_tcpcopy

readonly PORT=41234 CONNECTIONS=5
url=http://$ONLINE_ADDR
# Whichever side closes first, the client's port must be free for the next
# connection at once: no TIME_WAIT in the client's namespace (curl binds
# without SO_REUSEADDR). The online server keeps its TIME_WAIT and takes
# each new SYN over it, as a server does.
in_client sysctl -qw net.ipv4.tcp_max_tw_buckets=0 || fail "cannot turn TIME_WAIT off in the client namespace"
for ((i = 1; i <= CONNECTIONS; i++)); do
  in_client curl -sS --max-time 30 --local-port "$PORT" -H 'Connection: close' -o /dev/null "$url/big.bin" \
    || fail "GET /big.bin from port $PORT (connection $i) failed"
done
log "client fetched /big.bin $CONNECTIONS times from port $PORT, one connection after the other"

expect_alive tcpcopy
wait_replicated 60
# wait_replicated counts request lines, logged when a response ends: the
# last copy is complete once it is there.
stop_daemons

assert_http_replicated
assert_big_responses
from_port=$(awk -F'\t' -v p="$PORT" '$2 ~ /^GET \/big\.bin / && $9 == p' "$(access_log target)" | wc -l)
((from_port == CONNECTIONS)) \
  || fail "the target saw $from_port of $CONNECTIONS downloads from port $PORT (ports: $(cut -f9 "$(access_log target)" | sort -u | tr '\n' ' '))"
connections=$(cut -f7 "$(access_log target)" | sort -u | wc -l)
((connections == CONNECTIONS)) || fail "the target saw $connections connections, want $CONNECTIONS"
waited=$(counter tcpcopy ports_waited)
moved=$(counter tcpcopy ports_moved)
log "target: $from_port downloads from port $PORT on $connections connections; ports_waited=$waited ports_moved=$moved"
((waited >= 1)) || fail "no copy waited for the port: the test did not reuse it while a copy ran"
((moved == 0)) || fail "$moved copies moved to another port"
assert_no_leak
assert_sender_guard
pass

#!/usr/bin/env bash
# Pipelined HTTP: 20 connections, each writing 10 requests at once (one
# write, the last asking to close) before reading any answer. Every request
# reaches the target exactly once, the 10 of a connection on one connection.
source "$(dirname "$0")/lib.sh"
e2e_init http_pipelined
require_daemons
require_tools nginx
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

in_client timeout 60 bash -c '
  for c in $(seq 1 20); do
    req=""
    for i in $(seq 1 10); do
      req+="GET /r/pipe/$c/$i HTTP/1.1\r\nHost: e2e\r\n"
      [[ $i -eq 10 ]] && req+="Connection: close\r\n"
      req+="\r\n"
    done
    exec 3<>"/dev/tcp/$1/80" || exit 1
    printf "%b" "$req" >&3
    n=$(timeout 10 cat <&3 | grep -c "^HTTP/1.1 200") || true
    exec 3<&-
    [[ $n -eq 10 ]] || { echo "connection $c: $n of 10 answers" >&2; exit 1; }
  done' pipeline "$ONLINE_ADDR" || fail "pipelined client failed"
expect_alive tcpcopy
wait_replicated 30
stop_daemons

assert_http_replicated
for which in online target; do
  # batch number = 4th path element; count distinct connections per batch
  bad=$(awk -F'\t' '$2 ~ /^GET \/r\/pipe\// { split($2, p, "/"); if (!seen[p[4], $7]++) n[p[4]]++ }
    END { for (k in n) if (n[k] != 1) b++; print b + 0 }' "$(access_log "$which")")
  ((bad == 0)) || fail "$which: $bad pipelined batches were spread over several connections"
done
log "pipelining: 20 batches of 10, each batch on one connection online and at the target"
assert_no_leak
pass

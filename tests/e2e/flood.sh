#!/usr/bin/env bash
# A flood at the online port: 100,000 half-open SYNs, then 20,000
# mid-stream segments, from spoofed clients. tcpcopy must stay alive and
# within its caps (sessions, buffer, memory), make room by evicting idle
# sessions rather than refusing newcomers for good, send only to the
# target, and afterwards replicate a clean run in full.
source "$(dirname "$0")/lib.sh"
e2e_init flood
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
readonly MAX_SESSIONS=5000 MEMORY_MB=32
start_tcpcopy --max-sessions "$MAX_SESSIONS" -m "$MEMORY_MB"
rss_start=$(proc_status tcpcopy VmRSS)

clean_run before
flood syn 100000 --rate 20000 --seconds 60
flood data 20000 --rate 10000 --seconds 60 --src-net 10.79.0.0
expect_alive tcpcopy
expect_alive intercept
# The packets queued on the capture socket are worked off; then the
# sessions settle (target answers, replies, acks).
wait_counter_steady tcpcopy packets_captured 120
active=$(counter tcpcopy sessions_active)
created=$(counter tcpcopy sessions_created)
joined=$(counter tcpcopy sessions_joined)
evicted=$(counter tcpcopy 'sessions_evicted{idle}')
refused=$(counter tcpcopy 'sessions_lost{session_cap}')
segments=$(counter tcpcopy buffered_segments)
log "after the flood: $created sessions created ($joined mid-stream), $active active (cap $MAX_SESSIONS), $evicted evicted idle, $refused refused"
((active <= MAX_SESSIONS)) || fail "$active sessions active, above the cap of $MAX_SESSIONS"
((created > 20000)) || fail "only $created sessions created: the flood did not reach tcpcopy"
((joined > 1000)) || fail "only $joined sessions joined mid-stream: the data flood did not reach tcpcopy"
((evicted > 0)) || fail "a full table evicted nothing"
# Segments are 512 bytes each: the buffer cap bounds them.
((segments * 512 <= MEMORY_MB * 1024 * 1024)) || fail "$segments buffered segments exceed -m $MEMORY_MB"

clean_run after
expect_alive tcpcopy
rss_end=$(proc_status tcpcopy VmRSS)
hwm=$(proc_status tcpcopy VmHWM)
log "tcpcopy memory: RSS $((rss_start / 1024)) MiB at start, $((rss_end / 1024)) MiB now, peak $((hwm / 1024)) MiB"
# The caps: -m of payload plus the session table, capture and send
# buffers and the program itself; far below what 120,000 unbounded
# sessions would take.
readonly RSS_LIMIT_MB=$((MEMORY_MB + 96))
((hwm / 1024 <= RSS_LIMIT_MB)) || fail "tcpcopy peaked at $((hwm / 1024)) MiB, above $RSS_LIMIT_MB MiB"
stop_daemons

assert_clean_run before
assert_clean_run after
assert_sender_guard
assert_no_leak
pass

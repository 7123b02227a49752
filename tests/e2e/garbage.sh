#!/usr/bin/env bash
# Garbage at both doors. At the online port: malformed and impossible TCP
# (bad data offsets and option lengths, truncated headers, odd flag
# combinations, wild sequence numbers, random bytes). At intercept's control
# port: HTTP instead of frames, a wrong version, an oversized first frame, a
# peer sending one byte a second, and more idle connections from one source
# than intercept keeps in the handshake. Everything is counted by reason; both daemons stay
# up, tcpcopy's link stays up, and a clean run is replicated in full.
source "$(dirname "$0")/lib.sh"
e2e_init garbage
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

flood garbage 24000 --rate 8000 --seconds 30

# A stranger on the control port (the online namespace may connect: no
# --allow here). Each case in its own connection.
control_garbage() {
  local addr=$TARGET_ADDR port=$CONTROL_PORT
  # HTTP, a frame of version 9, a first frame announcing 4 KiB.
  exec 3<>"/dev/tcp/$addr/$port"; printf 'GET / HTTP/1.0\r\n\r\n' >&3
  exec 4<>"/dev/tcp/$addr/$port"; printf 'TC\x09\x01\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00' >&4
  exec 5<>"/dev/tcp/$addr/$port"; printf 'TC\x02\x01\x00\x00\x10\x00' >&5
  # One byte a second of a valid hello: the handshake deadline (5 s) ends it.
  exec 6<>"/dev/tcp/$addr/$port"
  local b
  for b in 'T' 'C' '\x02' '\x01' '\x00' '\x00' '\x00' '\x08' '\x00'; do
    printf "$b" >&6 2>/dev/null || break
    sleep 1
  done
  exec 3>&- 4>&- 5>&- 6>&-
}
export -f control_garbage
export TARGET_ADDR CONTROL_PORT
in_online timeout 20 bash -c control_garbage || true
# 100 connections that say nothing: intercept keeps 32 of one source in the
# handshake, each newer one closing the oldest.
in_online timeout 20 bash -c '
  fds=()
  for i in $(seq 100); do exec {fd}<>"/dev/tcp/$TARGET_ADDR/$CONTROL_PORT" && fds+=("$fd"); done
  sleep 7' || true
sleep 2
expect_alive tcpcopy
expect_alive intercept

for reason in bad_magic bad_version frame_too_long hello_timeout; do
  n=$(counter intercept "control_closed{$reason}")
  ((n >= 1)) || fail "intercept: control_closed{$reason} is $n, expected the garbage connection closed for it"
done
evicted=$(counter intercept 'control_closed{evicted_same_source}')
((evicted >= 60)) || fail "intercept evicted $evicted of 100 silent connections, expected at least 60 beyond its 32 per source"
[[ $(counter tcpcopy link_connects) == 2 ]] || fail "tcpcopy's control connections went down during the garbage"
total=0
for key in 'packets_malformed{bad_data_offset}' 'packets_malformed{bad_tcp_options}' 'packets_malformed{truncated}' \
  'packets_skipped{bad_flags}'; do
  n=$(counter tcpcopy "$key")
  ((n > 0)) || fail "tcpcopy: $key is 0 after the garbage flood"
  total=$((total + n))
done
log "garbage counted: $total packets by tcpcopy as malformed or bad flags; intercept closed every bad control connection by reason, evicted $evicted silent ones"

clean_run clean
expect_alive tcpcopy
stop_daemons
assert_clean_run clean
assert_sender_guard
assert_no_leak
pass

#!/usr/bin/env bash
# Who may talk to intercept. Without --allow and --secret-file it serves
# loopback only. Then intercept runs with --allow (only the online
# server's address) and --secret-file:
#  - secret files others may read are refused by both daemons (status 2,
#    nothing opened);
#  - a connection from an unlisted address is closed before it is read;
#  - a peer speaking control protocol version 1 gets a frame of version 2
#    back and intercept logs which versions met;
#  - a tcpcopy with the wrong secret never gets a link, stays up and says why;
#  - with the right secret a clean run is replicated in full;
#  - both daemons run without the capabilities they no longer need.
source "$(dirname "$0")/lib.sh"
e2e_init control_access
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"

umask 077
head -c 32 /dev/urandom | base64 >"$E2E_TMP/good.key"
head -c 32 /dev/urandom | base64 >"$E2E_TMP/other.key"
cp "$E2E_TMP/good.key" "$E2E_TMP/open.key"
chmod 644 "$E2E_TMP/open.key"

# Refused secret files: status 2, the option named, nothing opened.
rc=0
in_target "$INTERCEPT_BIN" --secret-file "$E2E_TMP/open.key" -l "$E2E_TMP/refused-i.log" -P "$E2E_TMP/refused-i.pid" \
  >"$E2E_TMP/refused-i.out" 2>&1 || rc=$?
((rc == 2)) || fail "intercept with a world-readable secret file exited with $rc, expected 2"
grep -q -- "--secret-file" "$E2E_TMP/refused-i.out" || fail "intercept's error does not name --secret-file: $(cat "$E2E_TMP/refused-i.out")"
rc=0
in_online "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80" -s "$TARGET_ADDR" --secret-file "$E2E_TMP/open.key" \
  -l "$E2E_TMP/refused-t.log" -P "$E2E_TMP/refused-t.pid" >"$E2E_TMP/refused-t.out" 2>&1 || rc=$?
((rc == 2)) || fail "tcpcopy with a world-readable secret file exited with $rc, expected 2"
grep -q "other users may read" "$E2E_TMP/refused-t.out" || fail "tcpcopy's error does not say why: $(cat "$E2E_TMP/refused-t.out")"
for f in refused-i.log refused-i.pid refused-t.log refused-t.pid; do
  [[ ! -e $E2E_TMP/$f ]] || fail "$f was created although the command line was refused"
done
queue_bound && fail "the queue was bound although intercept refused its command line"
log "world-readable secret file: both daemons exit 2, naming it, and open nothing"

# Closed by default: without --allow and --secret-file, intercept listens
# on loopback only and says so; the online host cannot connect.
bg intercept "$NS_TARGET" "$INTERCEPT_BIN" --mode=nfqueue --queue-num "$QUEUE_NUM" \
  -l "$E2E_TMP/default.log" --log-level info
wait_until 10 "intercept to listen on loopback" port_listening "$NS_TARGET" 127.0.0.1 "$CONTROL_PORT"
port_listening "$NS_TARGET" "$TARGET_ADDR" "$CONTROL_PORT" && fail "intercept without --allow or --secret-file listens on $TARGET_ADDR"
if in_online timeout 3 bash -c "exec 3<>/dev/tcp/$TARGET_ADDR/$CONTROL_PORT" 2>/dev/null; then
  fail "the online host connected to an intercept started without --allow or --secret-file"
fi
grep -q "listening on loopback only" "$E2E_TMP/default.log" || fail "intercept does not say it serves loopback only"
stop intercept 15 || fail "intercept started without --allow did not stop cleanly"
log "no --allow, no --secret-file: intercept listens on loopback only, the online host is refused"

start_intercept --allow "$ONLINE_TGT_SIDE/32" --secret-file "$E2E_TMP/good.key"

# Unlisted addresses: the target's own address and loopback (from the
# client namespace the answer would cross the leak detector).
for from in "$TARGET_ADDR" 127.0.0.1; do
  in_target timeout 5 bash -c "exec 3<>/dev/tcp/$from/$CONTROL_PORT
    printf 'TC\x01\x01\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00' >&3; cat <&3 >/dev/null" || true
done
wait_until 5 "intercept to refuse the unlisted addresses" counter_at_least intercept 'control_refused{not_allowed}' 2
[[ $(counter intercept control_accepted) == 0 ]] || fail "intercept accepted a connection from an unlisted address"
log "unlisted addresses $TARGET_ADDR and 127.0.0.1 refused (control_refused{not_allowed}=$(counter intercept 'control_refused{not_allowed}'))"

# A version 1 tcpcopy's hello from the listed address. Warnings about
# peers still in the handshake come at most once a second: let the last
# refusal's pass.
sleep 1.1
answer=$(in_online timeout 5 bash -c "exec 3<>/dev/tcp/$TARGET_ADDR/$CONTROL_PORT
  printf 'TC\x01\x01\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00' >&3; od -An -tx1 -N4 <&3" | tr -d ' \n') || true
[[ $answer == 54430202 ]] || fail "a version 1 peer got '$answer' back, expected a version 2 HelloAck (54430202...)"
wait_until 5 "intercept to count the version mismatch" counter_at_least intercept 'control_closed{bad_version}' 1
grep -q "control protocol version 1 from .*, this intercept speaks version 2: upgrade both sides to the same release" \
  "$E2E_TMP/intercept.log" || fail "intercept did not log the version mismatch: $(grep control "$E2E_TMP/intercept.log" | tail -n 3)"
log "version 1 peer: answered in version 2 and logged ($(grep -o 'control protocol version 1 from [^,]*' "$E2E_TMP/intercept.log" | head -n 1))"

# The wrong secret.
bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" -s "$TARGET_ADDR" \
  -l "$E2E_TMP/tcpcopy-wrong.log" --stats-interval 1 --secret-file "$E2E_TMP/other.key"
wait_until 15 "intercept to refuse the wrong secret twice" counter_at_least intercept 'control_closed{auth_failed}' 2
in_client curl -sS --max-time 10 "http://$ONLINE_ADDR/r/wrong/[1-5]" >/dev/null || fail "online server failed"
sleep 1.5
expect_alive tcpcopy
grep -q "is --secret-file the same on both sides" "$E2E_TMP/tcpcopy-wrong.log" \
  || fail "tcpcopy did not say why the intercept closed: $(grep -v counters "$E2E_TMP/tcpcopy-wrong.log" | tail -n 3)"
[[ $(counter intercept control_hellos) == 0 ]] || fail "intercept let a tcpcopy with the wrong secret through"
[[ $(counter intercept registrations) == 0 ]] || fail "intercept took registrations from a tcpcopy with the wrong secret"
log "wrong secret: intercept closed $(counter intercept 'control_closed{auth_failed}') connections (auth_failed), tcpcopy up and saying why"
stop tcpcopy || fail "tcpcopy with the wrong secret did not exit cleanly"

# The right secret.
start_tcpcopy --secret-file "$E2E_TMP/good.key"
wait_until 5 "intercept to authenticate tcpcopy" counter_at_least intercept control_authenticated 2
cap_t=$(proc_status tcpcopy CapEff)
cap_i=$(proc_status intercept CapEff)
log "capabilities: tcpcopy CapEff=$cap_t, intercept CapEff=$cap_i"
[[ $cap_t == 0000000000000000 ]] || fail "tcpcopy kept capabilities: CapEff=$cap_t"
[[ $cap_i == 0000000000001000 ]] || fail "intercept should keep CAP_NET_ADMIN only: CapEff=$cap_i"
clean_run right
stop_daemons
assert_clean_run right
wrong_at_target=$(count_requests target "^GET /r/wrong/")
((wrong_at_target == 0)) || fail "$wrong_at_target requests reached the target while tcpcopy had no link"
assert_sender_guard
assert_no_leak
pass

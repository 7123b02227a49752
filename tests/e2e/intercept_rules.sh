#!/usr/bin/env bash
# iptables/intercept-rules and the rule files, without the daemons:
# argument errors, idempotent apply/remove (iptables and nftables), removal
# touching nothing else, and the rule in action in the topology: replies of
# the target are dropped while nobody is bound to the queue (fail closed),
# loopback traffic of the target is never caught, and after removal the
# target answers the client again.
source "$(dirname "$0")/lib.sh"
e2e_init intercept_rules
require_tools nginx curl
topology_up
leak_detector_install
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
R=("$INTERCEPT_RULES")

# ---- bad arguments: exit 2, message names the value
expect_usage_error() {
  local want=$1; shift
  local out rc=0
  out=$(in_target "${R[@]}" "$@" 2>&1) || rc=$?
  ((rc == 2)) || fail "intercept-rules $* exited $rc, expected 2 (output: $out)"
  grep -qF -- "$want" <<<"$out" || fail "intercept-rules $*: message does not name '$want': $out"
}
expect_usage_error "apply needs --port" apply
expect_usage_error "'0'" apply --port 0
expect_usage_error "'70000'" apply --port 70000
expect_usage_error "'http'" apply --port http
expect_usage_error "'-1'" apply --port 80 --queue -1
expect_usage_error "'5:5'" apply --port 80 --queue-balance 5:5
expect_usage_error "exclusive" apply --port 80 --queue 1 --queue-balance 1:2
expect_usage_error "exclusive" apply --nft --iptables --port 80
expect_usage_error "'frob'" frob
expect_usage_error "'--bogus'" apply --port 80 --bogus
log "argument errors: exit 2 with the offending value named"

# ---- iptables: idempotent, removal leaves the admin's rules alone
in_target iptables -w -A OUTPUT -p udp --dport 9 -j ACCEPT   # an admin rule that must survive
in_target iptables -w -N ADMIN_CHAIN
in_target iptables -w -A ADMIN_CHAIN -p icmp -j ACCEPT
admin_before=$(in_target iptables -w -S | grep -v TCPCOPY_INTERCEPT)

in_target "${R[@]}" apply --iptables --port 80,6379 --queue "$QUEUE_NUM" >/dev/null
in_target "${R[@]}" apply --iptables --port 80,6379 --queue "$QUEUE_NUM" >/dev/null
jumps=$(in_target iptables -w -S OUTPUT | grep -c -- '-j TCPCOPY_INTERCEPT' || true)
rules=$(in_target iptables -w -S TCPCOPY_INTERCEPT | grep -c -- '-j NFQUEUE' || true)
((jumps == 1)) || fail "after applying twice OUTPUT has $jumps jumps to TCPCOPY_INTERCEPT, expected 1"
((rules == 2)) || fail "after applying twice TCPCOPY_INTERCEPT has $rules NFQUEUE rules, expected 2 (one per port)"
first=$(in_target iptables -w -S OUTPUT | sed -n 2p)
[[ $first == "-A OUTPUT -j TCPCOPY_INTERCEPT" ]] || fail "jump is not first in OUTPUT: $first"
in_target iptables -w -S TCPCOPY_INTERCEPT | grep -- '--sport 80 ' | grep -q -- '! -o lo' || fail "rule does not exclude loopback"
if in_target iptables -w -S TCPCOPY_INTERCEPT | grep -q -- '--queue-bypass'; then fail "rule uses --queue-bypass"; fi
log "iptables: apply twice -> 1 jump (first in OUTPUT), 2 rules, '! -o lo', no --queue-bypass"

# ---- the rule in action, nobody bound to the queue: fail closed
if in_client curl -sS --max-time 3 -o /dev/null "http://$TARGET_ADDR/closed" 2>/dev/null; then
  fail "client got an answer from the target although its replies are queued with no reader"
fi
[[ $(leak_count) -eq 0 ]] || fail "replies leaked to the client while queued with no reader ($(leak_count) packets)"
queued=$(in_target iptables -w -L TCPCOPY_INTERCEPT -v -n -x | awk '/NFQUEUE/ && $0 ~ /spt:80 / { print $1 }')
((queued > 0)) || fail "the NFQUEUE rule matched no packet (counter '$queued')"
log "fail closed: $queued replies queued and dropped with no reader, 0 reached the client"
# Loopback is never caught: the target reaching itself still works.
body=$(in_target curl -sS --max-time 3 "http://$TARGET_ADDR/loopback") || fail "target cannot reach itself over loopback with the rule applied"
[[ $body == ok ]] || fail "unexpected loopback answer '$body'"
log "loopback: the target's own requests to $TARGET_ADDR are not caught"

in_target "${R[@]}" remove --iptables >/dev/null
in_target "${R[@]}" remove --iptables >/dev/null || fail "remove when absent did not succeed"
in_target "${R[@]}" remove >/dev/null || fail "remove (both backends) when absent did not succeed"
if in_target iptables -w -S | grep -q TCPCOPY_INTERCEPT; then fail "TCPCOPY_INTERCEPT still present after remove"; fi
admin_after=$(in_target iptables -w -S)
[[ $admin_before == "$admin_after" ]] || fail "remove changed the admin's rules:
before: $admin_before
after:  $admin_after"
log "iptables: remove twice succeeds, admin rules untouched"

# After removal the target answers the client directly again, and the leak
# detector sees it (the detector works in this topology too).
in_client curl -sS --max-time 5 -o /dev/null "http://$TARGET_ADDR/open" || fail "client cannot reach the target after remove"
(($(leak_count) > 0)) || fail "leak detector did not count the target's replies after remove"
log "after remove: target answers the client directly ($(leak_count) packets counted)"

# ---- queue balance renders for both backends
in_target "${R[@]}" apply --iptables --port 80 --queue-balance 2:5 >/dev/null
in_target iptables -w -S TCPCOPY_INTERCEPT | grep -q -- '--queue-balance 2:5' || fail "--queue-balance 2:5 not in the iptables rule"
in_target "${R[@]}" remove >/dev/null
"${R[@]}" apply --nft --port 80,6379 --queue-balance 2:5 --print | grep -q 'tcp sport 6379 queue num 2-5' \
  || fail "nft rendering of --queue-balance 2:5 is wrong"
log "queue balance: iptables --queue-balance 2:5, nft 'queue num 2-5'"

# ---- nftables backend
nft_queue_supported() {
  in_target nft -f - >/dev/null 2>&1 <<NFT
table ip e2e_probe {
	chain c { type filter hook output priority 0; policy accept; tcp sport 1 queue num 7; }
}
NFT
  local rc=$?
  in_target nft delete table ip e2e_probe >/dev/null 2>&1 || true
  return $rc
}
in_target nft add table ip admin_table
in_target nft add chain ip admin_table c
nft_before=$(in_target nft list ruleset | grep -v '^#')
if nft_queue_supported; then
  in_target "${R[@]}" apply --nft --port 80,6379 --queue "$QUEUE_NUM" >/dev/null
  in_target "${R[@]}" apply --nft --port 80,6379 --queue "$QUEUE_NUM" >/dev/null
  tables=$(in_target nft list tables | grep -c 'tcpcopy_intercept' || true)
  rules=$(in_target nft list table ip tcpcopy_intercept | grep -c 'queue' || true)
  ((tables == 1 && rules == 2)) || fail "nft: after applying twice $tables tables, $rules queue rules (expected 1, 2)"
  if in_client curl -sS --max-time 3 -o /dev/null "http://$TARGET_ADDR/closed-nft" 2>/dev/null; then
    fail "nft: client got an answer although replies are queued with no reader"
  fi
  in_target "${R[@]}" remove --nft >/dev/null
  in_target "${R[@]}" remove --nft >/dev/null || fail "nft: remove when absent did not succeed"
  log "nftables: apply twice -> 1 table, 2 rules; fail closed; remove twice ok"
else
  # This kernel lacks the nft queue expression: loading must fail as one
  # transaction, leaving nothing behind, with an error that says why.
  out=$(in_target "${R[@]}" apply --nft --port 80 2>&1) && fail "nft apply succeeded on a kernel without nft queue"
  grep -q 'no nftables queue expression' <<<"$out" || fail "nft apply error does not explain the cause: $out"
  if in_target nft list tables | grep -q tcpcopy_intercept; then fail "failed nft apply left a table behind"; fi
  log "nftables: kernel has no queue expression; apply fails atomically with a clear message (full nft path not run here)"
fi
nft_after=$(in_target nft list ruleset | grep -v '^#')
[[ $nft_before == "$nft_after" ]] || fail "nft remove changed other tables:
before: $nft_before
after:  $nft_after"
pass

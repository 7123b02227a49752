#!/usr/bin/env bash
# The target is unable to serve. First nothing listens on its port (its
# kernel answers each SYN with RST), then it is silent (its packets are
# dropped). Every copied session must be counted and cleaned up, with at
# most the bounded SYN retransmissions, never a storm; tcpcopy stays up and
# replicates a clean run in full once the target serves again.
source "$(dirname "$0")/lib.sh"
e2e_init target_refuses
require_daemons
require_tools nginx curl wrk
topology_up
leak_detector_install
sender_guard_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
# SYNs reaching the target's port 80, counted before anything drops them.
in_target nft -f - <<NFT || fail "cannot install the SYN counter"
table ip e2e_target {
	counter syns { }
	chain input {
		type filter hook input priority raw - 10; policy accept;
		tcp dport 80 tcp flags & (syn | ack) == syn counter name "syns"
	}
}
NFT
target_syns() { in_target nft list counter ip e2e_target syns | awk '$1 == "packets" { print $2; exit }'; }
start_intercept
start_tcpcopy --syn-retries 5

# 1. Refused: no server on the target's port 80.
in_client curl -sS --max-time 20 -H 'Connection: close' "http://$ONLINE_ADDR/r/refused/[1-40]" >/dev/null \
  || fail "online server failed"
wait_until 15 "tcpcopy to count 40 refused sessions" counter_at_least tcpcopy 'sessions_lost{target_refused}' 40
wait_until 15 "the refused sessions to be cleaned up" counter_is tcpcopy sessions_active 0
refused=$(counter tcpcopy 'sessions_lost{target_refused}')
created=$(counter tcpcopy sessions_created)
syns=$(target_syns)
retransmits=$(counter tcpcopy retransmits)
log "refused: $created sessions, $refused refused by RST, $syns SYNs at the target, $retransmits retransmits; none left"
((syns <= created + 2)) || fail "the target got $syns SYNs for $created sessions refused at once: a retransmission storm"

# 2. Silent: the target drops everything for port 80.
in_target nft add table ip e2e_silent
in_target nft add chain ip e2e_silent input '{ type filter hook input priority 0; policy accept; }'
in_target nft add rule ip e2e_silent input tcp dport 80 drop
syns_before=$(target_syns)
created_before=$(counter tcpcopy sessions_created)
in_client curl -sS --max-time 20 -H 'Connection: close' "http://$ONLINE_ADDR/r/silent/[1-10]" >/dev/null \
  || fail "online server failed"
# --syn-retries 5, backing off from 200 ms: 0.2 + 0.4 + ... + 6.4 s, ~13 s.
wait_until 30 "tcpcopy to give up on the silent target" counter_at_least tcpcopy 'sessions_lost{no_syn_ack}' 10
wait_until 10 "the silent sessions to be cleaned up" counter_is tcpcopy sessions_active 0
silent=$(($(counter tcpcopy sessions_created) - created_before))
syns=$(($(target_syns) - syns_before))
log "silent: $silent sessions, $(counter tcpcopy 'sessions_lost{no_syn_ack}') given up after their retransmissions, $syns SYNs sent to the target"
((syns <= silent * 6)) || fail "$syns SYNs for $silent sessions: more than the first SYN and 5 retransmissions each"
in_target nft delete table ip e2e_silent
expect_alive tcpcopy

# 3. The target serves again.
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
clean_run back
stop_daemons
assert_clean_run back
assert_sender_guard
assert_no_leak
pass

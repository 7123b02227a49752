#!/usr/bin/env bash
# A second protocol, Redis: redis-benchmark INCR pipelined (-P 16) and not,
# and LPUSH pipelined. INCR is not idempotent, so equal counters online and
# at the target prove every command arrived exactly once.
source "$(dirname "$0")/lib.sh"
e2e_init redis
require_daemons
require_tools redis-server redis-cli redis-benchmark
topology_up
leak_detector_install
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

bench() {
  local out
  out=$(in_client timeout 120 redis-benchmark -h "$ONLINE_ADDR" -p 6379 -q "$@" 2>&1) || fail "redis-benchmark $* failed: $out"
  log "redis-benchmark $*: $(tr '\r' '\n' <<<"$out" | grep -v '^ *$' | tail -n 1)"
}
bench -t incr -n 20000 -P 16 -c 8
bench -t incr -n 2000 -c 4
bench -t lpush -n 5000 -P 16 -c 4
expect_alive tcpcopy

target_get() { in_target timeout 5 redis-cli -h "$TARGET_ADDR" "$@"; }   # over the target's loopback
online_get() { in_client timeout 5 redis-cli -h "$ONLINE_ADDR" "$@"; }

# Settle: until the target's values stop moving toward the online ones.
want_incr=$(online_get GET counter:__rand_int__)
want_list=$(online_get LLEN mylist)
deadline=$((SECONDS + 30))
while :; do
  got_incr=$(target_get GET counter:__rand_int__)
  got_list=$(target_get LLEN mylist)
  [[ $got_incr == "$want_incr" && $got_list == "$want_list" ]] && break
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 1
stop_daemons

# Read again after the daemons stopped: nothing may arrive late.
online_incr=$(online_get GET counter:__rand_int__)
online_list=$(online_get LLEN mylist)
target_incr=$(target_get GET counter:__rand_int__)
target_list=$(target_get LLEN mylist)
log "INCR counter: online $online_incr, target $target_incr; LPUSH list length: online $online_list, target $target_list"
[[ $online_incr -ge 22000 && $online_list -ge 5000 ]] || fail "online values too small: benchmark did not run fully"
[[ $target_incr == "$online_incr" ]] || fail "INCR counter differs: online $online_incr, target ${target_incr:-<none>}"
[[ $target_list == "$online_list" ]] || fail "LPUSH list length differs: online $online_list, target ${target_list:-<none>}"
assert_no_leak
pass

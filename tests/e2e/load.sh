#!/usr/bin/env bash
# Load: wrk -t2 -c50 for 5 s with keep-alive, then 5 s with
# "Connection: close" (a new connection per request), thousands of requests
# per second, each with a unique path. After a settle wait the target must
# have every request exactly once and every response complete.
# The close phase is paced (each connection waits CLOSE_DELAY_MS, default 5,
# between requests): at wrk's top rate the client reuses its ports faster
# than a target sharing this machine's two cores finishes the copies, which
# bench/run.sh measures; this test asserts exactness.
source "$(dirname "$0")/lib.sh"
e2e_init load
require_daemons
require_tools nginx wrk
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

min_rate=${E2E_MIN_RATE:-1000}  # requests/s below which this is no load test
for phase in keepalive close; do
  if [[ $phase == close ]]; then
    WRK_DELAY_MS=${CLOSE_DELAY_MS:-5} run_wrk "$phase" 5 2 50 -H "Connection: close"
  else
    run_wrk "$phase" 5 2 50
  fi
  n=$(count_requests online "^GET /r/$phase/")
  log "$phase: online served $n requests in 5 s ($((n / 5))/s)"
  ((n >= min_rate * 5)) || fail "$phase: only $n requests in 5 s online, below $min_rate/s"
  expect_alive tcpcopy
  wait_replicated 60 "^GET /r/$phase/"
done
stop_daemons

assert_http_replicated
assert_no_leak
pass

#!/usr/bin/env bash
# Load: wrk -t2 -c50 for 5 s with keep-alive, then 5 s with
# "Connection: close" (a new connection per request), thousands of requests
# per second, each with a unique path. After a settle wait the target must
# have every request exactly once and every response complete.
# The close phase is paced (each connection waits CLOSE_DELAY_MS, default 5,
# between requests): at wrk's top rate the client reuses its ports faster
# than a target sharing this machine's two cores finishes the copies, which
# bench/run.sh measures; this test asserts exactness.
# "load.sh arch1" runs the same load in architecture 1: no intercept, the
# target routes the copies' client addresses (-c 10.77.9.x) back to the
# online namespace, where tcpcopy captures the replies (--reply-interface)
# and the kernel, with forwarding off, drops them.
source "$(dirname "$0")/lib.sh"
layout=${1:-nfqueue}
case $layout in
  nfqueue | arch1) ;;
  *) echo "usage: load.sh [nfqueue|arch1]" >&2; exit 2 ;;
esac
e2e_init "load-$layout"
require_daemons
require_tools nginx wrk
topology_up
if [[ $layout == arch1 ]]; then
  in_online sysctl -qw net.ipv4.ip_forward=0
  ip -n "$NS_TARGET" route add 10.77.9.0/24 via "$ONLINE_TGT_SIDE"
  export E2E_TARGET_CLIENT=10.77.9.${CLIENT_ADDR##*.}
fi
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
if [[ $layout == arch1 ]]; then
  bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80" --reply-interface ot -c 10.77.9.x \
    -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1
  wait_until 10 "tcpcopy to capture replies" grep -q "replies: pcap on" "$E2E_TMP/tcpcopy.log"
  sleep 0.5
  expect_alive tcpcopy
else
  start_intercept
  start_tcpcopy
fi

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
if [[ $layout == arch1 ]]; then
  stop tcpcopy 15 || fail "tcpcopy exited with status $? on SIGTERM"
  show_counters tcpcopy
  ((${E2E_SKIP_DROPS:-0} == 1 || $(counter tcpcopy reply_capture_kernel_drops) == 0)) \
    || fail "the reply capture dropped replies: $(counter tcpcopy reply_capture_kernel_drops)"
else
  stop_daemons
fi

assert_http_replicated
assert_no_leak
pass

#!/usr/bin/env bash
# Benchmark: real nginx and Redis in the namespace topology of the e2e tests
# (client -> online -> target), driven by wrk (keep-alive, and one
# connection per request) and by redis-benchmark (pipelined on 50
# connections; and serial: one connection, each command after the answer to
# the one before). tcpcopy captures with its packet ring and sends from a
# transmit ring on each target's route (its defaults); in a workload named with "-link" (keepalive-link and
# close-link run by default too) it captures with libpcap on the
# client-side interface and sends frames from its transmit ring on the
# target-side one (-i, -o). In a workload named with "-arch1"
# (keepalive-arch1 and close-arch1 run by default) tcpcopy runs alone,
# architecture 1:
# the copies carry 10.77.9.x (-c), the target routes them back to the
# online ns (forwarding off for that row), where tcpcopy captures the
# replies (--reply-interface ot); no intercept. In a workload named with
# "-compare" (keepalive-compare runs by default) tcpcopy also compares
# every exchange with the online answer (--compare-log): its CPU beside
# the plain row's is the comparison's cost. Each workload runs twice:
# without replication, then with intercept and tcpcopy. Prints a markdown table:
#   online rate without / with replication and their ratio,
#   the share of online requests that reached the target,
#   how long after the load the target had them all (how far the copies
#   trailed production),
#   CPU seconds per 10,000 replicated requests of tcpcopy and intercept
#   (user + system, from the start of the load until the target settled),
#   and of the online server per 10,000 online requests (during the load:
#   how fast the machine is in this run, to compare runs of other days),
#   peak RSS of each daemon,
#   tcpcopy's CPU per packet it handled (captured, and sent to the
#   target), beside the floor of sending: the
#   CPU per packet of bench/tools/bulk_send (built as build/bench/bulk_send,
#   BULK_SEND_BIN chooses another) sending as many prebuilt packets as
#   tcpcopy sent, of the mean size it captured, from a transmit ring
#   (TPACKET_V2) on the same veth, right after the workload; and their
#   ratio (how far tcpcopy is from the cheapest possible send; the least
#   of three sends).
#
# Usage (root): bench/run.sh [--seconds N] [--connections N]
#   [--redis-requests N] [--serial-requests N]
#   [--only keepalive|close|redis|redis-serial[-link|-arch1][-compare]]...
#   [--tcpcopy-args "..."] [--intercept-args "..."] [--inline-rx]
#   [--queues N]   (N > 1: the rule spreads replies over N NFQUEUE queues,
#                   intercept --queue-balance reads them, a thread each)
#   [--target-cpu PCT]  (the target's nginx gets at most PCT% of one CPU, a
#                   cgroup quota: a test server slower than production)
#   [--capacity] [--capacity-cpu PCT] [--capacity-start R] [--capacity-steps N]
#   [--capacity-seconds S] [--capacity-lag S]
# --capacity (or --only capacity, for these rows alone) adds the capacity
# rows, off by default (about 30 s to a few minutes more): the highest rate
# of keep-alive requests that tcpcopy, held by a cgroup quota (periods of
# 10 ms or more) to PCT% of one CPU per worker (default 5), replicates in full
# and keeps up with, with --workers 1 and --workers 2 (n/a when this
# tcpcopy has no --workers), and their ratio. The load is
# bench/tools/paced_http (PACED_HTTP_BIN): a fixed total rate on the
# --connections keep-alive connections, S s a step (default 3), from R
# req/s (default 4000) times 1.25 a step, at most N steps (default 16),
# until the target's access log misses an online request or has them all
# only more than --capacity-lag s (default 2) after the load, twice in a
# row at the same rate (after a first second at R, not judged); or until
# the online side takes no higher rate, twice ("+" after the rate found).
# The target's veth receives on a kernel thread of its own, as a second
# host would on its own CPUs (--inline-rx: within the sender's system call,
# which bills the target's TCP work to tcpcopy).
# TCPCOPY_BIN / INTERCEPT_BIN choose the binaries (default ./build).
# REF_TCPCOPY_BIN and REF_INTERCEPT_BIN (both, or neither): the established
# C tools (tcpcopy 1.3, intercept 1.0; docs/benchmarks.md builds them) run
# each plain workload (keepalive, close, redis, redis-serial) once more,
# after ours, in a row of their own: tcpcopy -x ... -s TARGET (raw sockets),
# intercept on NFQUEUE queue 0 with the same rule. Their rows have no
# per-packet columns (n/a: no counters to read).
# Everything runs inside namespaces this script creates and deletes.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/e2e/lib.sh
source "$BENCH_DIR/../tests/e2e/lib.sh"

seconds=10 conns=50 redis_requests=400000 serial_requests=50000 tcpcopy_args="" intercept_args="" inline_rx=0 target_cpu=""
capacity=0 capacity_cpu=5 capacity_start=4000 capacity_steps=16 capacity_seconds=3 capacity_lag=2
workloads=()
usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --redis-requests) redis_requests=$2; shift 2 ;;
    --serial-requests) serial_requests=$2; shift 2 ;;
    --only) workloads+=("$2"); shift 2 ;;
    --tcpcopy-args) tcpcopy_args=$2; shift 2 ;;
    --intercept-args) intercept_args=$2; shift 2 ;;
    --inline-rx) inline_rx=1; shift ;;
    --queues) export E2E_QUEUES=$2; shift 2 ;;
    --target-cpu) target_cpu=$2; shift 2 ;;
    --capacity) capacity=1; shift ;;
    --capacity-cpu) capacity_cpu=$2; shift 2 ;;
    --capacity-start) capacity_start=$2; shift 2 ;;
    --capacity-steps) capacity_steps=$2; shift 2 ;;
    --capacity-seconds) capacity_seconds=$2; shift 2 ;;
    --capacity-lag) capacity_lag=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$seconds" "$conns" "$redis_requests" "$serial_requests" "${E2E_QUEUES:-1}" \
  "$capacity_cpu" "$capacity_start" "$capacity_steps" "$capacity_seconds" "$capacity_lag"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$n' is not a positive number" >&2; exit 2; }
done
((seconds <= 120)) || { echo "bench: --seconds $seconds: at most 120" >&2; exit 2; }
((capacity_cpu <= 100)) || { echo "bench: --capacity-cpu $capacity_cpu: at most 100 (percent of one CPU)" >&2; exit 2; }
((capacity_steps <= 30 && capacity_seconds <= 30 && capacity_start <= 500000)) ||
  { echo "bench: --capacity-steps and --capacity-seconds: at most 30; --capacity-start: at most 500000" >&2; exit 2; }
if [[ -n $target_cpu ]] && ! [[ $target_cpu =~ ^[1-9][0-9]*$ && $target_cpu -le 100 ]]; then
  echo "bench: --target-cpu '$target_cpu': expected 1-100 (percent of one CPU)" >&2
  exit 2
fi
((${#workloads[@]})) || workloads=(keepalive keepalive-compare close redis redis-serial keepalive-link close-link keepalive-arch1 close-arch1)
# "capacity" is no workload of the table: it asks for the capacity rows.
only=()
for w0 in "${workloads[@]}"; do
  if [[ $w0 == capacity ]]; then capacity=1; else only+=("$w0"); fi
done
workloads=("${only[@]}")
for w0 in "${workloads[@]}"; do
  w=${w0%-compare}
  w=${w%-arch1}
  [[ ${w%-link} == keepalive || ${w%-link} == close || ${w%-link} == redis || ${w%-link} == redis-serial ]] ||
    { echo "bench: unknown workload '$w0'" >&2; exit 2; }
done

((inline_rx)) || export E2E_RX_THREAD=1

# limit_cpu NAME PCT [TAG [PERIOD_US]]: the background process NAME and its
# children get at most PCT% of one CPU (PCT may pass 100 for several
# threads; a cgroup of their own, v1 or v2, named after TAG, default NAME,
# removed at exit), in periods of PERIOD_US (default 100,000 µs).
limit_cpu() {
  local name=$1 pct=$2 tag=${3:-$1} period=${4:-100000} dir pid v1=0
  if [[ -d /sys/fs/cgroup/cpu && -f /sys/fs/cgroup/cpu/cgroup.procs ]]; then
    v1=1 dir=/sys/fs/cgroup/cpu/tcpcopy-bench-$$-$tag
  elif [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    dir=/sys/fs/cgroup/tcpcopy-bench-$$-$tag
  else
    fail "--target-cpu and --capacity need the cgroup cpu controller (v1 or v2)"
  fi
  mkdir "$dir" || fail "cannot create cgroup $dir"
  # Removed at exit even when what follows fails.
  E2E_AT_EXIT+=("rmdir '$dir' 2>/dev/null || echo 'cleanup: could not remove cgroup $dir' >&2")
  if ((v1)); then
    echo "$period" >"$dir/cpu.cfs_period_us" || fail "cannot set cpu.cfs_period_us in $dir"
    echo $((pct * period / 100)) >"$dir/cpu.cfs_quota_us" || fail "cannot set cpu.cfs_quota_us in $dir"
  else
    echo "$((pct * period / 100)) $period" >"$dir/cpu.max" || fail "cannot set cpu.max in $dir"
  fi
  limit_dir=$dir
  for pid in "${E2E_PID[$name]}" $(pgrep -P "${E2E_PID[$name]}"); do
    echo "$pid" >"$dir/cgroup.procs" || fail "cannot move $name ($pid) into $dir"
  done
  log "$name limited to $pct% of one CPU in periods of $period µs ($dir)"
}
e2e_init bench
require_daemons
require_tools nginx wrk redis-server redis-benchmark redis-cli
BULK_SEND_BIN=${BULK_SEND_BIN:-$REPO_ROOT/build/bench/bulk_send}
[[ -x $BULK_SEND_BIN ]] || fail "bulk_send not found at '$BULK_SEND_BIN' (set BULK_SEND_BIN or build first)"
PACED_HTTP_BIN=${PACED_HTTP_BIN:-$REPO_ROOT/build/bench/paced_http}
# The established C tools, side by side (docs/benchmarks.md builds them):
# both set, each plain workload runs once more with them.
ref_label=""
if [[ -n ${REF_TCPCOPY_BIN:-} || -n ${REF_INTERCEPT_BIN:-} ]]; then
  [[ -x ${REF_TCPCOPY_BIN:-} && -x ${REF_INTERCEPT_BIN:-} ]] ||
    fail "REF_TCPCOPY_BIN and REF_INTERCEPT_BIN: both, executable (got '${REF_TCPCOPY_BIN:-}', '${REF_INTERCEPT_BIN:-}')"
  ((${E2E_QUEUES:-1} == 1)) || fail "the reference intercept reads one queue: no --queues with REF_*_BIN"
  # (-v prints "NAME version:X.Y.Z" and exits with status 255)
  ref_label="$({ "$REF_TCPCOPY_BIN" -v 2>&1 || true; } | sed -n '1s/ version: */ /p') + $({ "$REF_INTERCEPT_BIN" -v 2>&1 || true; } | sed -n '1s/ version: */ /p')"
fi
((!capacity)) || [[ -x $PACED_HTTP_BIN ]] || fail "paced_http not found at '$PACED_HTTP_BIN' (set PACED_HTTP_BIN or build first)"
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
[[ -z $target_cpu ]] || limit_cpu "nginx-target" "$target_cpu"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"

clk_tck=$(getconf CLK_TCK)
# cpu_ticks NAME: user + system ticks of a background process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${E2E_PID[$1]}/stat"; }

# sleeps NAME: how many times the threads of a background process went to
# sleep waiting for work (voluntary context switches): each is a wake-up.
sleeps() {
  cat "/proc/${E2E_PID[$1]}"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" { n += $2 } END { print n + 0 }'
}

# bulk_floor COUNT SIZE: CPU microseconds bulk_send spent sending COUNT
# prebuilt packets of SIZE bytes (IP) from a transmit ring on the online
# host's veth toward the target, where tcpcopy's copies go: the least of
# three sends (a floor; the machine's other load only adds to it); 0 when
# COUNT is.
bulk_floor() {
  local count=$1 size=$2 out us best="" i
  ((count > 0)) || { echo 0; return; }
  ((size < 40)) && size=40
  ((size > 1500)) && size=1500
  for ((i = 0; i < 3; i++)); do
    out=$(in_online timeout 120 "$BULK_SEND_BIN" --dev ot --count "$count" --size "$size" --seconds 100 2>&1) ||
      fail "bulk_send failed: $out"
    log "bulk_send: $out" >&2
    us=$(sed -n 's/.*cpu_us=\([0-9]*\).*/\1/p' <<<"$out")
    [[ -n $best ]] && ((best <= us)) || best=$us
  done
  echo "$best"
}

# server_ticks WORKLOAD: user + system ticks of the online server handling
# it, nginx workers included: the machine's speed, measured in the same run.
server_ticks() {
  local main=${E2E_PID[nginx-online]}
  [[ $1 == redis* ]] && main=${E2E_PID[redis-online]}
  local pid sum=0 t
  for pid in "$main" $(pgrep -P "$main"); do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && sum=$((sum + t))
  done
  echo "$sum"
}

# wrk_rate PREFIX: requests per second wrk reported.
wrk_rate() { awk '/^Requests\/sec:/ { printf "%d", $2 }' "$E2E_TMP/wrk-$1.txt"; }

# run_incr N PIPELINE CONNECTIONS: redis-benchmark INCRs on empty servers;
# prints the online rate.
run_incr() {
  redis_online FLUSHALL >/dev/null
  redis_target FLUSHALL >/dev/null
  local out
  out=$(in_client timeout 300 redis-benchmark -h "$ONLINE_ADDR" -p 6379 -q -t incr -n "$1" -P "$2" -c "$3" 2>&1) ||
    fail "redis-benchmark failed: $out"
  tr '\r' '\n' <<<"$out" | awk '/^INCR:/ { printf "%d", $2 }'
}

# load WORKLOAD PREFIX: run one workload; prints the online rate.
load() {
  local workload=${1%-compare} prefix=$2
  workload=${workload%-arch1}
  workload=${workload%-link}
  case $workload in
    keepalive) run_wrk "$prefix" "$seconds" 2 "$conns" >&2; wrk_rate "$prefix" ;;
    close) run_wrk "$prefix" "$seconds" 2 "$conns" -H "Connection: close" >&2; wrk_rate "$prefix" ;;
    redis) run_incr "$redis_requests" 16 "$conns" ;;
    redis-serial) run_incr "$serial_requests" 1 1 ;;
  esac
}

# online_count / target_count WORKLOAD PREFIX: requests each server handled.
online_count() {
  if [[ $1 == redis* ]]; then redis_online GET counter:__rand_int__; else count_requests online "^GET /r/$2/"; fi
}
target_count() {
  local n
  if [[ $1 == redis* ]]; then
    n=$(redis_target GET counter:__rand_int__)
    echo "${n:-0}"
  else
    count_requests target "^GET /r/$2/"
  fi
}

# settle WORKLOAD PREFIX WANT: until the target has WANT requests or has
# not moved for 5 s (at most 120 s).
settle() {
  local last=-1 now still=0 deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    now=$(target_count "$1" "$2")
    ((now >= $3)) && return 0
    if ((now == last)); then ((++still >= 25)) && return 0; else still=0; fi
    last=$now
    sleep 0.2
  done
}

# start_reference: the reference intercept (NFQUEUE queue 0, control port
# 36524, the rule of iptables/ as for ours) and tcpcopy (raw sockets),
# their defaults otherwise, under the names of ours.
start_reference() {
  apply_intercept_rule
  bg intercept "$NS_TARGET" "$REF_INTERCEPT_BIN" -l "$E2E_TMP/ref-intercept.log"
  wait_until 10 "the reference intercept to bind NFQUEUE $QUEUE_NUM" queue_bound
  wait_until 10 "the reference intercept to listen on port $CONTROL_PORT" port_listening "$NS_TARGET" "*" "$CONTROL_PORT"
  expect_alive intercept
  bg tcpcopy "$NS_ONLINE" "$REF_TCPCOPY_BIN" -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" -s "$TARGET_ADDR" \
    -l "$E2E_TMP/ref-tcpcopy.log"
  wait_until 10 "the reference tcpcopy to connect to intercept" control_connected
  sleep 0.5
  expect_alive tcpcopy
  log "$ref_label running"
}

# tcpcopy at the link layer: libpcap on the client side, frames to the
# target's MAC on the target side.
link_args=(-i oc -o ot --dst-mac "$(ip -n "$NS_TARGET" -br link show dev t0 | awk '{ print $3 }')")
# Architecture 1: the target sends the copies' replies back to the online ns.
ip -n "$NS_TARGET" route add 10.77.9.0/24 via "$ONLINE_TGT_SIDE"
arch1_args=(--reply-interface ot -c 10.77.9.x)

# The reference daemons (REF_TCPCOPY_BIN and REF_INTERCEPT_BIN) run each
# plain workload once more, after our own row of it.
runs=()
for workload in "${workloads[@]}"; do
  runs+=("$workload")
  [[ -n $ref_label && $workload =~ ^(keepalive|close|redis|redis-serial)$ ]] && runs+=("$workload@ref")
done

rows=()
for run in "${runs[@]}"; do
  workload=${run%@ref} ref=0 tag=$run name=$run
  [[ $run == *@ref ]] && ref=1 tag=$workload-ref name="$workload, $ref_label"
  log "$name: without replication"
  base_rate=$(load "$workload" "base-$tag")

  log "$name: with replication"
  arch1=0 shape=${workload%-compare}
  [[ $shape == *-arch1 ]] && arch1=1
  backend=()
  [[ ${shape%-arch1} == *-link ]] && backend=("${link_args[@]}")
  [[ $workload == *-compare ]] && backend+=(--compare-log "$E2E_TMP/differ-$workload.jsonl")
  if ((arch1)); then
    # No intercept: an earlier row's NFQUEUE rule would hold the replies
    # in a queue nobody reads.
    in_target "$INTERCEPT_RULES" remove >/dev/null 2>&1 || true
    in_online sysctl -qw net.ipv4.ip_forward=0
    rm -f "$E2E_TMP/tcpcopy.log"
    # shellcheck disable=SC2086
    bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" "${arch1_args[@]}" \
      "${backend[@]}" -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1 $tcpcopy_args
    wait_until 10 "tcpcopy to capture replies" grep -q "replies: pcap on" "$E2E_TMP/tcpcopy.log"
    sleep 0.5
    expect_alive tcpcopy
  elif ((ref)); then
    start_reference
    in_online sysctl -qw net.ipv4.ip_forward=1
  else
    # shellcheck disable=SC2086
    start_intercept $intercept_args
    in_online sysctl -qw net.ipv4.ip_forward=1
    # shellcheck disable=SC2086
    start_tcpcopy "${backend[@]}" $tcpcopy_args
  fi
  t0=$(cpu_ticks tcpcopy) i0=0 s0=$(server_ticks "$workload") w0=$(sleeps tcpcopy)
  ((arch1)) || i0=$(cpu_ticks intercept)
  rate=$(load "$workload" "rep-$tag")
  load_end=$EPOCHREALTIME
  s1=$(server_ticks "$workload")
  online=$(online_count "$workload" "rep-$tag")
  settle "$workload" "rep-$tag" "$online"
  settled=$EPOCHREALTIME
  target=$(target_count "$workload" "rep-$tag")
  t1=$(cpu_ticks tcpcopy) i1=0 i_rss=0 w1=$(sleeps tcpcopy)
  t_rss=$(proc_status tcpcopy VmHWM)
  ((arch1)) || { i1=$(cpu_ticks intercept); i_rss=$(proc_status intercept VmHWM); }
  # The NFQUEUE rule stays: the target still retransmits to copies that
  # were cut short, and without the rule those packets would reach the
  # client (the leak detector counts them).
  captured=0 sent=0 bulk_us=0
  if ((arch1)); then
    stop tcpcopy 15 || fail "tcpcopy exited with status $? on SIGTERM"
    show_counters tcpcopy >&2
    # Forwarding stays off until a row applies the NFQUEUE rule again: the
    # target may still retransmit to copies of earlier rows, which the rule
    # held back, and would reach the client.
  elif ((ref)); then
    # Their exit status on SIGTERM is theirs: logged, not judged.
    stop tcpcopy 15 || log "reference tcpcopy exited with status $?" >&2
    stop intercept 15 || log "reference intercept exited with status $?" >&2
  else
    stop_daemons >&2
  fi
  if ((!ref)); then
    # The floor: as many packets as tcpcopy sent, of the size it captured,
    # from a transmit ring on the same veth.
    captured=$(counter tcpcopy packets_captured) sent=$(counter tcpcopy packets_sent)
    bulk_us=$(bulk_floor "$sent" "$(($(counter tcpcopy bytes_captured) / (captured > 0 ? captured : 1)))")
  fi

  row=$(awk -v w="$name" -v b="$base_rate" -v r="$rate" -v on="$online" -v tg="$target" \
    -v tc=$((t1 - t0)) -v ic=$((i1 - i0)) -v sc=$((s1 - s0)) -v hz="$clk_tck" -v trss="$t_rss" -v irss="$i_rss" \
    -v load_end="$load_end" -v settled="$settled" -v cap="$captured" -v sent="$sent" -v bulk="$bulk_us" -v wakes=$((w1 - w0)) 'BEGIN {
      per = (tg > 0 ? 10000 / tg / hz : 0)
      sper = (on > 0 ? 10000 / on / hz : 0)
      tpp = (cap + sent > 0 ? tc * 1e6 / hz / (cap + sent) : 0)
      bpp = (sent > 0 ? bulk / sent : 0)
      ppw = (wakes > 0 && cap + sent > 0 ? (cap + sent) / wakes : 0)
      printf "| %s | %d | %d | %.2f | %.2f%% (%d/%d) | %s | %.3f | %.3f | %.3f | %.1f | %.1f | %s | %s | %s | %s |",
        w, b, r, (b > 0 ? r / b : 0), (on > 0 ? 100 * tg / on : 0), tg, on, (tg >= on ? sprintf("%.1f", settled - load_end) : "never"),
        tc * per, ic * per, sc * sper, trss / 1024, irss / 1024,
        (tpp > 0 ? sprintf("%.2f", tpp) : "n/a"), (bpp > 0 ? sprintf("%.3f", bpp) : "n/a"), (tpp > 0 && bpp > 0 ? sprintf("%.1f", tpp / bpp) : "n/a"),
        (ppw > 0 ? sprintf("%.1f", ppw) : "n/a")
    }')
  log "$row"
  rows+=("$row")
done

# throttled: periods in which the quota stopped tcpcopy (cpu.stat of the
# cgroup limit_cpu made last).
throttled() { awk '$1 == "nr_throttled" { print $2 }' "$limit_dir/cpu.stat"; }

# capacity WORKERS: the highest rate of keep-alive requests (paced_http,
# $conns connections) that tcpcopy with WORKERS session engines, held to
# $capacity_cpu% of a CPU per worker, replicates in full and keeps up with:
# from $capacity_start req/s, times 1.25 a step, $capacity_seconds s a
# step, at most $capacity_steps steps, until the target misses an online
# request or has them all only more than $capacity_lag s after the load
# (tcpcopy slower than the load: a longer load would overflow its buffers).
# Sets cap_result to "BEST NEXT REACHED LAG": the highest such rate (0:
# none), the first rate that fell short, the share of its requests that
# reached the target and after how long ("-" when none fell short). BEST
# ends in "+" when no step fell short: the online side could not take the
# next rate, or the steps ran out (the limit is then above it, not found).
# log_size WHICH: bytes in a server's access log so far.
log_size() { stat -c %s "$(access_log "$1")" 2>/dev/null || echo 0; }
# count_after WHICH OFFSET REGEX: requests matching REGEX logged after byte
# OFFSET of the access log (a whole log, after a full bench, takes seconds
# to read: that would count as trailing).
count_after() {
  tail -c +$(($2 + 1)) "$(access_log "$1")" 2>/dev/null | awk -F'\t' -v re="$3" '$2 ~ re { n++ } END { print n + 0 }'
}

# cap_step WORKERS RATE PREFIX SECONDS: paced_http at RATE req/s for
# SECONDS, then until the target settles; sets online, target, lag (s after
# the load), sent, answered and achieved (the rate sent), and logs them with
# tcpcopy's share of a CPU and its throttled periods.
cap_step() {
  local workers=$1 rate=$2 prefix=$3 secs=$4 out t0 t1 th0 th1 started=$EPOCHREALTIME load_end
  local on_off tg_off now last=-1 still=0 deadline
  on_off=$(log_size online) tg_off=$(log_size target)
  t0=$(cpu_ticks tcpcopy) th0=$(throttled)
  out=$(in_client timeout $((secs + 30)) "$PACED_HTTP_BIN" --dst "$ONLINE_ADDR" --rate "$rate" \
    --connections "$conns" --seconds "$secs" --prefix "$prefix" 2>&1) || fail "paced_http failed: $out"
  load_end=$EPOCHREALTIME
  online=$(count_after online "$on_off" "^GET /r/$prefix/")
  # As settle: until the target has them all or has not moved for 5 s.
  deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    now=$(count_after target "$tg_off" "^GET /r/$prefix/")
    ((now >= online)) && break
    if ((now == last)); then ((++still >= 50)) && break; else still=0; fi
    last=$now
    sleep 0.1
  done
  lag=$(awk -v s="$load_end" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }')
  target=$(count_after target "$tg_off" "^GET /r/$prefix/")
  t1=$(cpu_ticks tcpcopy) th1=$(throttled)
  sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
  answered=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' <<<"$out")
  achieved=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out")
  log "capacity workers $workers, $rate req/s ($prefix): $out; target $target of $online after $lag s;" \
    "tcpcopy $(awk -v t=$((t1 - t0)) -v hz="$clk_tck" -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f%%", 100 * t / hz / (e - s) }') of a CPU, throttled in $((th1 - th0)) periods" >&2
}

capacity() {
  local workers=$1 rate=$capacity_start best=0 next="-" reached="-" step again=0
  local wargs=()
  ((workers_option)) && wargs=(--workers "$workers")
  # shellcheck disable=SC2086
  start_intercept $intercept_args >&2
  in_online sysctl -qw net.ipv4.ip_forward=1
  # shellcheck disable=SC2086
  start_tcpcopy "${wargs[@]}" $tcpcopy_args >&2
  # Short periods: a throttled tcpcopy waits at most that long for its next
  # turn (100 ms would hold every copy's round trip that long). 10 ms, or
  # longer for a quota under the kernel's least, 1 ms.
  local pct=$((capacity_cpu * workers)) period=10000
  ((pct * period / 100 >= 1000)) || period=$(((100000 + pct - 1) / pct))
  limit_cpu tcpcopy "$pct" "tcpcopy-w$workers" "$period" >&2
  # A second at the first rate, not judged: tcpcopy's first pages and
  # sessions are paid before the steps.
  cap_step "$workers" "$rate" "cap$workers-warm" 1
  local short load_short
  for ((step = 0; step < capacity_steps; step++)); do
    cap_step "$workers" "$rate" "cap$workers-$step-$again" "$capacity_seconds"
    short=0 load_short=0
    ((target < online)) || awk -v l="$lag" -v m="$capacity_lag" 'BEGIN { exit !(l > m) }' && short=1
    # The online side did not take this rate (answered fewer, or sent
    # slower): no higher one can be offered.
    ((short || (answered == sent && achieved * 100 >= rate * 97))) || load_short=1
    # Once more at the same rate before either counts: the machine is shared.
    if ((short || load_short)) && ((!again)); then
      again=1
      step=$((step - 1))
      continue
    fi
    again=0
    if ((short)); then
      next=$rate
      reached=$(awk -v t="$target" -v o="$online" 'BEGIN { printf "%.2f%%", 100 * t / o }')
      ((target < online)) && lag=never
      break
    fi
    ((load_short)) && break
    best=$rate
    rate=$((rate * 5 / 4))
  done
  # No step fell short: the limit is above the last rate.
  [[ $next != - ]] || best="$best+" lag="-"
  stop_daemons >&2
  cap_result="$best $next $reached $lag"
}

cap_rows=()
if ((capacity)); then
  # tcpcopy runs N session engines on N threads with --workers N; a build
  # without the option runs one, and the workers 2 column reads n/a.
  help=$("$TCPCOPY_BIN" --help 2>&1 || true)
  workers_option=0
  grep -q -- --workers <<<"$help" && workers_option=1
  capacity 1
  read -r best1 next1 reached1 lag1 <<<"$cap_result"
  best2=n/a next2=n/a reached2=n/a lag2=n/a
  if ((workers_option)); then
    capacity 2
    read -r best2 next2 reached2 lag2 <<<"$cap_result"
  fi
  ratio=$(awk -v a="${best1%+}" -v b="${best2%+}" 'BEGIN { print (a > 0 && b ~ /^[0-9]+$/ ? sprintf("%.2f", b / a) : "n/a") }')
  cap_rows+=("| highest keep-alive rate replicated in full, req/s | $best1 | $best2 | $ratio |")
  cap_rows+=("| next step: offered req/s, share that reached the target, all there after s | $next1, $reached1, $lag1 | $next2, $reached2, $lag2 | |")
fi
assert_no_leak >&2

if ((${#rows[@]})); then
  echo
  echo "| workload | online req/s without | with replication | ratio | reached the target | all there after s | tcpcopy CPU s / 10k | intercept CPU s / 10k | online server CPU s / 10k | tcpcopy peak RSS MiB | intercept peak RSS MiB | tcpcopy CPU µs / packet handled | bulk send CPU µs / packet | tcpcopy / bulk | packets handled / tcpcopy wake-up |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
fi
if ((${#cap_rows[@]})); then
  echo
  echo "| capacity: tcpcopy at most $capacity_cpu% of a CPU per worker | workers 1 | workers 2 | workers 2 / workers 1 |"
  echo "|---|---|---|---|"
  printf '%s\n' "${cap_rows[@]}"
  echo
  echo "capacity: paced_http on $conns keep-alive connections, $capacity_seconds s a step, from $capacity_start req/s times 1.25 a step, at most $capacity_steps steps, all there within $capacity_lag s; \"+\": no step fell short (the online side took no higher rate, or the steps ran out)"
fi
echo
echo "$(nproc) cores, $seconds s per wrk run, $conns connections, redis-benchmark -P 16 -n $redis_requests (serial: -c 1 -P 1 -n $serial_requests), ${E2E_QUEUES:-1} NFQUEUE queue(s)${target_cpu:+, target nginx at most $target_cpu% of a CPU}; $(uname -r)"

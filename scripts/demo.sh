#!/usr/bin/env bash
# Live demonstration, entirely inside network namespaces created here:
# real nginx and redis on an "online" server and on a "target" server,
# intercept on the target, tcpcopy online, real clients (curl, wrk,
# redis-benchmark) talking to the online server for about 10 seconds.
# The target answers 404 where production answers 200 for some paths, and
# tcpcopy compares every exchange. Then a short report: requests online vs
# at the target, responses completed at the target, the comparison (kept
# as build/demo-report.html), leaked packets, and the daemons' final
# counters.
# Must run as root. DEMO_SECONDS changes the traffic duration.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/demo.sh: must run as root (network namespaces, iptables, raw sockets)" >&2
  exit 1
fi

scripts/install-deps.sh
scripts/build.sh >/dev/null
build_dir=${BUILD_DIR:-build}
export TCPCOPY_BIN=${TCPCOPY_BIN:-$PWD/$build_dir/copy/tcpcopy}
export INTERCEPT_BIN=${INTERCEPT_BIN:-$PWD/$build_dir/intercept/intercept}

# shellcheck source=../tests/e2e/lib.sh
source tests/e2e/lib.sh
e2e_init demo
require_daemons
require_tools nginx redis-server redis-cli redis-benchmark wrk curl
seconds=${DEMO_SECONDS:-10}
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds >= 1 && seconds <= 120)) || fail "DEMO_SECONDS must be 1-120, got '$seconds'"

topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
# The target differs from production on purpose: it answers 404 where
# production answers 200 (the Connection: close requests), and the
# comparison must say so, request by request.
start_nginx target "$NS_TARGET" "$TARGET_ADDR" 'location ^~ /r/close/ { return 404; }'
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
compare_log=$E2E_TMP/differ.jsonl
compare_report=$E2E_TMP/report.html
start_tcpcopy --compare-log "$compare_log" --compare-report "$compare_report"

log "traffic for ${seconds}s: wrk (keep-alive), curl (1 MiB downloads, 300 KB uploads, Connection: close), redis-benchmark"
lua=$(WRK_DELAY_MS=5 write_wrk_lua demo)
bg wrk "$NS_CLIENT" wrk -t2 -c8 -d"${seconds}s" --timeout 5s -s "$lua" "http://$ONLINE_ADDR/"
head -c 300000 /dev/urandom >"$E2E_TMP/upload.bin"
bg curl "$NS_CLIENT" bash -c '
  end=$((SECONDS + $2)); i=0
  while ((SECONDS < end && i < 1000)); do
    i=$((i + 1))
    curl -sS --max-time 10 -o /dev/null "http://$1/big.bin"
    curl -sS --max-time 10 -o /dev/null -T "$3" "http://$1/put/upload-$i.bin"
    curl -sS --max-time 10 -o /dev/null -H "Connection: close" "http://$1/r/close/$i"
    sleep 0.2
  done' demo "$ONLINE_ADDR" "$seconds" "$E2E_TMP/upload.bin"
bg redis "$NS_CLIENT" bash -c '
  end=$((SECONDS + $2)); i=0
  while ((SECONDS < end && i < 100)); do
    i=$((i + 1))
    redis-benchmark -h "$1" -q -t incr -n 5000 -P 16 -c 4 >/dev/null || exit 1
    sleep 0.5
  done' demo "$ONLINE_ADDR" "$seconds"
for job in wrk curl redis; do
  wait_exit "$job" $((seconds + 60)) || fail "$job client failed: $(tail -n 5 "$E2E_TMP/$job.out")"
done

wait_replicated 30
deadline=$((SECONDS + 15))
online_incr=$(in_client timeout 5 redis-cli -h "$ONLINE_ADDR" GET counter:__rand_int__)
while [[ $(in_target timeout 5 redis-cli -h "$TARGET_ADDR" GET counter:__rand_int__) != "$online_incr" ]] && ((SECONDS < deadline)); do
  sleep 0.2
done
stop_daemons >/dev/null

# ------------------------------------------------------------------ report
on_log=$(access_log online) tg_log=$(access_log target)
cut -f2 "$on_log" | sort >"$E2E_TMP/req.online"
cut -f2 "$tg_log" | sort >"$E2E_TMP/req.target"
n_on=$(wc -l <"$E2E_TMP/req.online")
n_tg=$(wc -l <"$E2E_TMP/req.target")
missing=$(comm -23 "$E2E_TMP/req.online" "$E2E_TMP/req.target" | wc -l)
extra=$(comm -13 "$E2E_TMP/req.online" "$E2E_TMP/req.target" | wc -l)
complete=$(awk -F'\t' '$6 == "OK"' "$tg_log" | wc -l)
big_on=$(awk -F'\t' -v s="$BIG_FILE_SIZE" '$2 ~ /^GET \/big\.bin / && $4 == s' "$on_log" | wc -l)
big_tg=$(awk -F'\t' -v s="$BIG_FILE_SIZE" '$2 ~ /^GET \/big\.bin / && $4 == s && $6 == "OK"' "$tg_log" | wc -l)
want_md5=$(md5sum <"$E2E_TMP/upload.bin" | cut -d' ' -f1)
puts_on=$(find "$E2E_TMP/nginx-online/dav/put" -name 'upload-*.bin' 2>/dev/null | wc -l)
puts_tg=0
for f in "$E2E_TMP"/nginx-target/dav/put/upload-*.bin; do
  [[ -f $f && $(md5sum <"$f" | cut -d' ' -f1) == "$want_md5" ]] && puts_tg=$((puts_tg + 1))
done
online_incr=$(in_client timeout 5 redis-cli -h "$ONLINE_ADDR" GET counter:__rand_int__)
target_incr=$(in_target timeout 5 redis-cli -h "$TARGET_ADDR" GET counter:__rand_int__)
leaked=$(leak_count)

mkdir -p build && cp "$compare_report" build/demo-report.html 2>/dev/null && compare_report=build/demo-report.html
closes_on=$(awk -F'\t' '$2 ~ /^GET \/r\/close\//' "$on_log" | wc -l)
comparison=$(grep "comparison:" "$E2E_TMP/tcpcopy.log" | tail -n 1 | sed 's/.*comparison: //')
differ_404=$(python3 - "$compare_log" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.Counter((r["verdict"], r["label"].split("/r/close/")[0] + ("/r/close/..." if "/r/close/" in r["label"] else ""),
                          r["online_status"], r["target_status"]) for r in rows)
for (verdict, label, on, tg), n in by.most_common(6):
    print(f"  {n:6d} x {verdict:15s} {label:22s} online {on}, target {tg}", file=sys.stderr)
print(sum(n for (v, l, on, tg), n in by.items() if v == "status_differs" and on == "200" and tg == "404"))
PY
)
nonzero_counters() { counter_line "$1" | grep -oE '[a-z_]+(\{[a-z_]+\})?=[0-9]+' | grep -v '=0$' | tr '\n' ' '; }

cat <<EOF

================ tcpcopy demo report ================
HTTP requests    online $n_on, at the target $n_tg (missing $missing, extra $extra)
responses        $complete of $n_tg completed by the target (\$request_completion=OK)
1 MiB downloads  online $big_on, sent in full by the target $big_tg
300 KB uploads   online $puts_on, stored identically (md5) at the target $puts_tg
Redis INCR       online counter ${online_incr:-<none>}, target counter ${target_incr:-<none>}
leaked packets   $leaked (target replies that reached the client)
comparison       $comparison
                 $differ_404 answers 404 at the target where production said 200 (of $closes_on such requests)
                 report: $compare_report
tcpcopy          $(nonzero_counters tcpcopy)
intercept        $(nonzero_counters intercept)
=====================================================
EOF

if ((missing == 0 && extra == 0 && complete == n_tg && big_tg == big_on && puts_tg == puts_on && leaked == 0)) \
  && ((closes_on > 0 && differ_404 == closes_on)) \
  && [[ -n $online_incr && $online_incr == "$target_incr" ]]; then
  log "every request was replicated once, every response completed, nothing leaked; every 404 the target gave instead of 200 was reported"
  exit 0
fi
fail "replication was not complete (see the report above)"

#!/usr/bin/env bash
# Answer comparison against a target that differs from production on
# purpose, in one of three layouts: compare.sh nfqueue | assistant | offline.
#
#   HTTP   /page  the same on both                     -> match
#          /gone  404 at the target                    -> status_differs
#          /grow  4000 bytes at the target, 6 online   -> size_differs
#          /slow  from an upstream that sleeps 300 ms  -> slower
#   Redis  PING                                        -> match
#          GET greeting: set online, missing at target -> status_differs
#
# Each is asked a known number of times, on connections of their own and
# on one keep-alive connection. The JSON Lines files must hold exactly that
# many exchanges of each verdict, the metrics the same counts, every
# request must reach the target whatever it answered, and the report must
# carry the same figures. A second, unchanged target must give 100% match.
source "$(dirname "$0")/lib.sh"
MODE=${1:-nfqueue}
e2e_init "compare_$MODE"
require_daemons
require_tools nginx curl redis-server redis-cli python3
[[ $MODE == offline ]] && require_tools tcpdump
if [[ $MODE == assistant ]]; then
  readonly SEEN_NET=10.77.9.0/24
  export E2E_TARGET_CLIENT=10.77.9.${CLIENT_ADDR##*.}
fi
topology_up
[[ $MODE == assistant ]] && assistant_up "$SEEN_NET"
leak_detector_install

readonly N=4  # requests of each kind on connections of their own
readonly ONLINE_SITE='
		location = /page { return 200 "page\n"; }
		location = /gone { return 200 "here\n"; }
		location = /grow { return 200 "small\n"; }
		location = /slow { return 200 "fast\n"; }'
big=$(head -c 4000 /dev/zero | tr '\0' 'g')
readonly DIFFERENT_SITE="
		location = /page { return 200 \"page\\n\"; }
		location = /gone { return 404; }
		location = /grow { return 200 \"$big\"; }
		location = /slow { proxy_pass http://127.0.0.1:8081; }"

# The upstream that sleeps, on the target's loopback.
cat >"$E2E_TMP/sleepy.py" <<'PY'
import http.server, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.3)
        body = b"fast\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8081), H).serve_forever()
PY
bg sleepy "$NS_TARGET" python3 "$E2E_TMP/sleepy.py"
wait_until 10 "the sleeping upstream" port_listening "$NS_TARGET" 127.0.0.1 8081

start_nginx online "$NS_ONLINE" "$ONLINE_ADDR" "$ONLINE_SITE"
start_nginx target "$NS_TARGET" "$TARGET_ADDR" "$DIFFERENT_SITE"
start_redis online "$NS_ONLINE" "$ONLINE_ADDR"
start_redis target "$NS_TARGET" "$TARGET_ADDR"
redis_online SET greeting hello >/dev/null || fail "cannot set the online key"

traffic() {
  local url=http://$ONLINE_ADDR p i
  for p in page gone grow slow; do
    for ((i = 0; i < N; i++)); do
      in_client curl -sS --max-time 10 -o /dev/null "$url/$p" || fail "GET /$p failed"
    done
  done
  # One keep-alive connection: one of each.
  in_client curl -sS --max-time 10 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    "$url/page" "$url/gone" "$url/grow" "$url/slow" || fail "keep-alive GETs failed"
  for ((i = 0; i < N; i++)); do
    redis_online PING >/dev/null || fail "PING failed"
    redis_online GET greeting >/dev/null || fail "GET greeting failed"
  done
}

differ=$E2E_TMP/differ.jsonl
all=$E2E_TMP/all.jsonl
report=$E2E_TMP/report.html
readonly METRICS_PORT=9466
compare_args=(--compare-log "$differ" --compare-all "$all" --compare-report "$report"
  --metrics "127.0.0.1:$METRICS_PORT")

expected_requests=$((4 * N + 4))
wait_requests() {  # wait_requests COUNT: the target's nginx logged COUNT requests
  wait_until 30 "$1 requests at the target" bash -c "(( \$(wc -l <'$(access_log target)') >= $1 ))"
  sleep 1
}

case $MODE in
  nfqueue)
    start_intercept
    start_tcpcopy "${compare_args[@]}"
    # First against a target that answers like production: all match.
    stop nginx-target 10 || fail "nginx on the target did not stop"
    start_nginx target "$NS_TARGET" "$TARGET_ADDR" "$ONLINE_SITE"
    redis_target SET greeting hello >/dev/null || fail "cannot set the target's key"
    traffic
    wait_requests "$expected_requests"
    wait_until 10 "$((6 * N + 4)) exchanges compared" bash -c "(( \$(wc -l <'$all') >= $((6 * N + 4)) ))"
    python3 - "$all" "$((6 * N + 4))" <<'PY' || fail "an unchanged target does not give 100% match"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == int(sys.argv[2]), f"{len(rows)} exchanges, expected {sys.argv[2]}"
bad = [r for r in rows if r["verdict"] != "match"]
assert not bad, f"{len(bad)} not match, e.g. {bad[0]}"
PY
    log "an unchanged target: $(wc -l <"$all") exchanges, 100% match"
    [[ ! -s $differ ]] || fail "--compare-log has lines for an unchanged target"
    # Then the target as it differs, with a fresh tcpcopy and fresh files.
    stop tcpcopy 15 || fail "tcpcopy exited with an error"
    mv "$all" "$E2E_TMP/all-unchanged.jsonl"
    mv "$E2E_TMP/tcpcopy.log" "$E2E_TMP/tcpcopy-unchanged.log"
    rm -f "$differ" "$report"
    stop nginx-target 10 || fail "nginx on the target did not stop"
    start_nginx target "$NS_TARGET" "$TARGET_ADDR" "$DIFFERENT_SITE"
    redis_target DEL greeting >/dev/null || fail "cannot delete the target's key"
    : >"$(access_log target)"
    : >"$(access_log online)"
    start_tcpcopy "${compare_args[@]}"
    traffic
    ;;
  assistant)
    start_intercept_assistant
    start_tcpcopy -c 10.77.9.x "${compare_args[@]}"
    traffic
    ;;
  offline)
    recording=$E2E_TMP/online.pcap
    start_recording "$recording" oc
    traffic
    stop_recording
    start_intercept
    start_tcpcopy --pcap-file "$recording" -a 2 "${compare_args[@]}"
    ;;
  *) fail "unknown mode '$MODE' (nfqueue, assistant or offline)" ;;
esac

wait_requests "$expected_requests"
sleep 3  # the last keep-alive exchanges are reported once quiet

if [[ $MODE == offline ]]; then
  wait_exit tcpcopy 60 || fail "tcpcopy exited with status $? after the replay"
  stop intercept 15 || fail "intercept did not exit cleanly"
  metrics=""
else
  metrics=$(in_online curl -sS --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics") || fail "cannot scrape tcpcopy"
  stop_daemons
fi
show_counters tcpcopy
grep "comparison:" "$E2E_TMP/tcpcopy.log" | tail -n 1

# Every request reached the target, whatever it answered.
online_requests=$(wc -l <"$(access_log online)")
target_requests=$(wc -l <"$(access_log target)")
((online_requests == expected_requests)) || fail "the online server logged $online_requests requests, expected $expected_requests"
((target_requests == online_requests)) || fail "the target logged $target_requests requests, online $online_requests"
awk -F'\t' '$6 != "OK" { bad++ } END { exit bad > 0 }' "$(access_log target)" \
  || fail "answers cut short at the target: $(awk -F'\t' '$6 != "OK"' "$(access_log target)" | head -n 3)"

# Exact counts by verdict and by request, from the JSON Lines.
python3 - "$all" "$differ" "$N" <<'PY' || fail "the comparison files are not what the target's differences make"
import json, sys, collections
all_path, differ_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(all_path)]
differ = [json.loads(l) for l in open(differ_path)]
fields = {"time", "client", "request", "online_status", "target_status", "online_bytes",
          "target_bytes", "online_ms", "target_ms", "verdict"}
for r in rows:
    missing = fields - r.keys()
    assert not missing, f"fields missing: {missing} in {r}"
by = collections.Counter((r["label"], r["verdict"]) for r in rows)
want = {("GET /page", "match"): n + 1, ("GET /gone", "status_differs"): n + 1,
        ("GET /grow", "size_differs"): n + 1, ("GET /slow", "slower"): n + 1,
        ("PING", "match"): n, ("GET", "status_differs"): n}
assert dict(by) == want, f"by request and verdict: {dict(by)}, expected {want}"
verdicts = collections.Counter(r["verdict"] for r in rows)
assert [r for r in rows if r["verdict"] != "match"] == differ, "--compare-log is not the differing part of --compare-all"
gone = [r for r in rows if r["label"] == "GET /gone"]
assert all(r["online_status"] == "200" and r["target_status"] == "404" for r in gone), gone[0]
grow = [r for r in rows if r["label"] == "GET /grow"]
assert all(r["target_bytes"] > r["online_bytes"] + 3900 for r in grow), grow[0]
slow = [r for r in rows if r["label"] == "GET /slow"]
assert all(r["target_ms"] >= 300 and r["online_ms"] < 100 for r in slow), slow[0]
nil = [r for r in rows if r["label"] == "GET"]
assert all(r["online_status"] == "$" and r["target_status"] == "$-1" for r in nil), nil[0]
print("compare:", dict(verdicts))
PY
log "JSON Lines: $(wc -l <"$all") exchanges, $(wc -l <"$differ") differ; counts by request and verdict as expected"

if [[ -n $metrics ]]; then
  metric() { awk -v k="$1" '$1 == k { print $2 }' <<<"$metrics"; }
  [[ $(metric 'tcpcopy_compare_exchanges_total{verdict="match"}') == $((2 * N + 1)) ]] \
    || fail "metrics: match is $(metric 'tcpcopy_compare_exchanges_total{verdict="match"}'), expected $((2 * N + 1))"
  [[ $(metric 'tcpcopy_compare_exchanges_total{verdict="status_differs"}') == $((2 * N + 1)) ]] \
    || fail "metrics: status_differs is wrong"
  [[ $(metric 'tcpcopy_compare_exchanges_total{verdict="size_differs"}') == $((N + 1)) ]] || fail "metrics: size_differs is wrong"
  [[ $(metric 'tcpcopy_compare_exchanges_total{verdict="slower"}') == $((N + 1)) ]] || fail "metrics: slower is wrong"
  [[ $(metric 'tcpcopy_compare_status_total{online="200",target="404"}') == $((N + 1)) ]] \
    || fail "metrics: the status matrix has no 200 x 404 cell of $((N + 1))"
  grep -q '^tcpcopy_compare_latency_seconds_bucket{side="target",le="+Inf"}' <<<"$metrics" \
    || fail "metrics: no target latency histogram"
  log "metrics: verdict counters and the status matrix agree with the JSON Lines"
fi

[[ -s $report ]] || fail "no report at $report"
grep -q 'id="verdict-slower"[^>]*>'"$((N + 1))"'<' "$report" || fail "the report does not show $((N + 1)) slower exchanges"
assert_no_leak
pass

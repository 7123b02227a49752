#!/usr/bin/env bash
# --metrics on both daemons: Prometheus text from inside the namespaces,
# scraped with curl before and after HTTP traffic; the request and packet
# counters must have moved, other paths get 404; promtool's lint is silent
# on both, and the Grafana dashboard queries only metrics they export.
source "$(dirname "$0")/lib.sh"
e2e_init metrics
require_daemons
require_tools nginx curl promtool python3
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
readonly COPY_METRICS=127.0.0.1:9101 INTERCEPT_METRICS=127.0.0.1:9102
start_intercept --metrics "$INTERCEPT_METRICS"
start_tcpcopy --metrics "$COPY_METRICS" --compare

# scrape NS ADDR FILE: the metrics text; headers in FILE.headers.
scrape() {
  ip netns exec "$1" curl -sS --max-time 5 -D "$3.headers" -o "$3" "http://$2/metrics" \
    || fail "cannot scrape http://$2/metrics"
}
# metric FILE NAME: the sample's value ("name value" or "name{...} value").
metric() {
  awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}

scrape "$NS_ONLINE" "$COPY_METRICS" "$E2E_TMP/copy.before"
scrape "$NS_TARGET" "$INTERCEPT_METRICS" "$E2E_TMP/intercept.before"
for f in copy intercept; do
  grep -qi '^Content-Type: text/plain; version=0.0.4' "$E2E_TMP/$f.before.headers" \
    || fail "$f metrics: wrong content type: $(cat "$E2E_TMP/$f.before.headers")"
done
grep -qx '# TYPE tcpcopy_requests_replicated_total counter' "$E2E_TMP/copy.before" || fail "tcpcopy metrics lack the TYPE line"
grep -qx '# TYPE tcpcopy_sessions_active gauge' "$E2E_TMP/copy.before" || fail "tcpcopy_sessions_active is not a gauge"
grep -qx 'tcpcopy_sessions_lost_total{reason="no_intercept"} 0' "$E2E_TMP/copy.before" || fail "tcpcopy metrics lack labelled counters"
grep -qx '# TYPE intercept_nfqueue_waiting gauge' "$E2E_TMP/intercept.before" || fail "intercept metrics lack the queue's totals"
code=$(in_online curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$COPY_METRICS/")
[[ $code == 404 ]] || fail "GET / answered $code, expected 404"
log "metrics served: Prometheus 0.0.4 text, TYPE lines, labels, 404 elsewhere"

in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/metrics/[1-20]" >/dev/null || fail "curl run failed"
for i in $(seq 1 10); do
  in_client curl -sS --max-time 5 -H 'Connection: close' -o /dev/null "http://$ONLINE_ADDR/r/close/$i" || fail "curl failed"
done
wait_replicated 30

scrape "$NS_ONLINE" "$COPY_METRICS" "$E2E_TMP/copy.after"
scrape "$NS_TARGET" "$INTERCEPT_METRICS" "$E2E_TMP/intercept.after"

# grew FILE_PREFIX NAME MIN_INCREASE
grew() {
  local before after
  before=$(metric "$E2E_TMP/$1.before" "$2")
  after=$(metric "$E2E_TMP/$1.after" "$2")
  [[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]] || fail "$2: not a number before ($before) or after ($after)"
  ((after - before >= $3)) || fail "$2 went from $before to $after, expected an increase of at least $3"
  log "$2: $before -> $after"
}
# promtool's lint: silent on both daemons' text, before and after traffic.
for f in copy.before intercept.before copy.after intercept.after; do
  lint=$(promtool check metrics <"$E2E_TMP/$f" 2>&1) || true
  [[ -z $lint ]] || fail "promtool check metrics on $f:"$'\n'"$lint"
done
log "promtool check metrics: silent on both daemons"

# The Grafana dashboard queries only metrics the daemons export (tcpcopy
# runs with --compare, so the comparison's are among them); a name no
# daemon exports must fail the check.
dashboard=$(dirname "$0")/../../packaging/grafana/tcpcopy-dashboard.json
checker=$(dirname "$0")/tools/dashboard_metrics.py
python3 "$checker" "$dashboard" "$E2E_TMP/copy.after" "$E2E_TMP/intercept.after" >"$E2E_TMP/dashboard.out" 2>&1 \
  || fail "dashboard: $(cat "$E2E_TMP/dashboard.out")"
log "dashboard: $(head -c 60 "$E2E_TMP/dashboard.out")... all exported"
printf '{"panels":[{"targets":[{"expr":"rate(tcpcopy_no_such_metric_total[5m])"}]}]}' >"$E2E_TMP/bogus.json"
if python3 "$checker" "$E2E_TMP/bogus.json" "$E2E_TMP/copy.after" "$E2E_TMP/intercept.after" >/dev/null 2>&1; then
  fail "the dashboard check accepts a metric no daemon exports"
fi

# The counter reference has a row for every family either daemon exports,
# naming every reason the scrapes show; a reference missing one must fail.
reference=$(dirname "$0")/../../docs/counters.md
documented=$(dirname "$0")/tools/documented_metrics.py
python3 "$documented" "$reference" "$E2E_TMP/copy.after" "$E2E_TMP/intercept.after" >"$E2E_TMP/documented.out" 2>&1 \
  || fail "docs/counters.md: $(cat "$E2E_TMP/documented.out")"
log "counter reference: $(cat "$E2E_TMP/documented.out")"
grep -v '^| `tcpcopy_requests_replicated_total`' "$reference" >"$E2E_TMP/short_reference.md"
if python3 "$documented" "$E2E_TMP/short_reference.md" "$E2E_TMP/copy.after" >/dev/null 2>&1; then
  fail "the reference check accepts a reference without tcpcopy_requests_replicated_total"
fi

grew copy tcpcopy_requests_replicated_total 30
grew copy tcpcopy_packets_captured_total 30
grew copy tcpcopy_sessions_created_total 11
grew copy tcpcopy_hold_wait_seconds_count 20
grew copy tcpcopy_link_rtt_seconds_count 1
grew copy tcpcopy_link_replies_received_total 30
grew intercept intercept_packets_queued_total 30
grew intercept intercept_replies_forwarded_total 30
grew intercept intercept_nfqueue_packets_total 30
grew intercept intercept_metrics_requests_total 1

stop_daemons
assert_http_replicated
assert_no_leak
pass

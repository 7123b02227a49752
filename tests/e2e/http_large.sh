#!/usr/bin/env bash
# Large responses and large request bodies:
#  - GET of a file a bit over 1 MiB, on separate connections and three on
#    one connection: the target's access log shows every byte sent
#    ($body_bytes_sent) and the response completed ($request_completion OK),
#    which needs tcpcopy to acknowledge the whole response;
#  - PUT bodies of 200 KB to 4 MiB, with and without "Expect: 100-continue":
#    the target stored the same bytes (size and md5) as the online server.
source "$(dirname "$0")/lib.sh"
e2e_init http_large
require_daemons
require_tools nginx curl
topology_up
leak_detector_install
start_nginx online "$NS_ONLINE" "$ONLINE_ADDR"
start_nginx target "$NS_TARGET" "$TARGET_ADDR"
start_intercept
start_tcpcopy

url=http://$ONLINE_ADDR
for i in 1 2 3; do
  got=$(in_client curl -sS --max-time 30 -o /dev/null -w '%{size_download}' "$url/big.bin") || fail "GET /big.bin failed"
  [[ $got -eq $BIG_FILE_SIZE ]] || fail "client received $got of $BIG_FILE_SIZE bytes"
done
in_client curl -sS --max-time 60 "$url/big.bin" "$url/big.bin" "$url/big.bin" >/dev/null || fail "keep-alive GETs of /big.bin failed"
log "client fetched /big.bin ($BIG_FILE_SIZE bytes) 6 times (3 connections + 3 on one)"

uploads=(205133 1048576 4194321)
for size in "${uploads[@]}"; do
  head -c "$size" /dev/urandom >"$E2E_TMP/upload-$size.bin"
  code=$(in_client curl -sS --max-time 60 -o /dev/null -w '%{http_code}' -T "$E2E_TMP/upload-$size.bin" "$url/put/up-$size.bin") \
    || fail "PUT of $size bytes failed"
  [[ $code == 201 ]] || fail "PUT of $size bytes answered $code, expected 201"
done
# Same, without waiting for "100 Continue": the body follows the headers at once.
head -c 300007 /dev/urandom >"$E2E_TMP/upload-noexpect.bin"
code=$(in_client curl -sS --max-time 60 -o /dev/null -w '%{http_code}' -H 'Expect:' -T "$E2E_TMP/upload-noexpect.bin" "$url/put/up-noexpect.bin") \
  || fail "PUT without Expect failed"
[[ $code == 201 ]] || fail "PUT without Expect answered $code, expected 201"
log "client uploaded ${uploads[*]} and 300007 bytes (the last without Expect: 100-continue)"

expect_alive tcpcopy
wait_replicated 60
stop_daemons

assert_http_replicated
assert_big_responses
for name in "${uploads[@]}" noexpect; do
  src=$E2E_TMP/upload-$name.bin
  want_size=$(stat -c %s "$src")
  want_md5=$(md5sum <"$src" | cut -d' ' -f1)
  for which in online target; do
    stored=$E2E_TMP/nginx-$which/dav/put/up-$name.bin
    [[ -f $stored ]] || fail "$which did not store up-$name.bin"
    size=$(stat -c %s "$stored")
    md5=$(md5sum <"$stored" | cut -d' ' -f1)
    [[ $size -eq $want_size && $md5 == "$want_md5" ]] \
      || fail "$which stored up-$name.bin with $size bytes md5 $md5, expected $want_size bytes md5 $want_md5"
  done
  log "up-$name.bin: online and target stored $want_size bytes, md5 $want_md5"
done
assert_no_leak
pass

# shellcheck shell=bash
# Shared helpers for the namespace end-to-end tests (sourced, not run).
#
# Topology, all of it inside namespaces created here (nothing in the root
# namespace, no route out of it):
#
#   client ns            online ns                        target ns
#   10.77.1.2/24 --veth-- 10.77.1.1 | 10.77.2.1 --veth-- 10.77.2.2/24
#   default via 10.77.1.1  ip_forward=1                   default via 10.77.2.1
#                          nginx, redis, tcpcopy          nginx, redis, intercept
#
# The online ns forwards between the two links, so a reply of the target that
# escapes intercept really reaches the client, where an nft counter (the
# leak detector) counts every packet from 10.77.2.0/24. It must stay 0.
#
# Each test: e2e_init NAME, topology_up, then start what it needs; the EXIT
# trap kills what was started, deletes the namespaces and the temp dir.
# Environment: TCPCOPY_BIN, INTERCEPT_BIN (daemon binaries), E2E_KEEP=1 keeps
# the temp dir, E2E_OFFLOADS=1 leaves veth offloads on.

set -euo pipefail
export LC_ALL=C

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)

readonly CLIENT_ADDR=10.77.1.2
readonly ONLINE_ADDR=10.77.1.1      # online server, seen by the client
readonly ONLINE_TGT_SIDE=10.77.2.1  # online ns, link toward the target
readonly TARGET_ADDR=10.77.2.2
readonly TARGET_NET=10.77.2.0/24
# IPv6 on the same links (topology_add_ipv6).
readonly CLIENT6=fd77:1::2
readonly ONLINE6=fd77:1::1
readonly ONLINE6_TGT_SIDE=fd77:2::1
readonly TARGET6=fd77:2::2
readonly TARGET6_NET=fd77:2::/64
readonly CONTROL_PORT=36524
# Who may use intercept's control port in these tests: the test networks.
# Without --allow or --secret-file intercept listens on loopback only.
readonly CONTROL_ALLOW=10.77.0.0/16,fd77::/16
readonly QUEUE_NUM=${E2E_QUEUE_NUM:-0}
readonly BIG_FILE_SIZE=$((1024 * 1024 + 12345))  # a bit over 1 MiB, not a round number

TCPCOPY_BIN=${TCPCOPY_BIN:-$REPO_ROOT/build/copy/tcpcopy}
INTERCEPT_BIN=${INTERCEPT_BIN:-$REPO_ROOT/build/intercept/intercept}
INTERCEPT_RULES=$REPO_ROOT/iptables/intercept-rules

E2E_NAME=""
E2E_TMP=""
NS_CLIENT="" NS_ONLINE="" NS_TARGET=""
NS_ASSIST=""         # created by assistant_up only
INTERCEPT_ADDR=""    # where tcpcopy reaches intercept; default: the target
E2E_PIDS=()          # background processes started by this test
E2E_AT_EXIT=()       # commands the EXIT trap runs once those are gone
declare -A E2E_PID   # name -> pid

# ---------------------------------------------------------------- reporting

log()  { printf '[%s %s] %s\n' "$(date +%T)" "${E2E_NAME:-e2e}" "$*"; }
fail() {
  printf '[%s %s] FAIL: %s\n' "$(date +%T)" "${E2E_NAME:-e2e}" "$*" >&2
  exit 1
}
pass() { log "PASS"; exit 0; }

# ------------------------------------------------------------ setup/cleanup

e2e_init() {
  E2E_NAME=$1
  [[ $(id -u) -eq 0 ]] || fail "must run as root (network namespaces, iptables, raw sockets)"
  local tool
  for tool in ip nft iptables iptables-restore sysctl ss awk md5sum timeout; do
    command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' not found (scripts/install-deps.sh installs it)"
  done
  # Short prefix: names must be unique per run and are shown by 'ip netns'.
  local tag="tce$$"
  NS_CLIENT="$tag-client" NS_ONLINE="$tag-online" NS_TARGET="$tag-target"
  E2E_TMP=$(mktemp -d "/tmp/tcpcopy-e2e.$E2E_NAME.XXXXXX")
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "temp dir $E2E_TMP, namespaces $tag-{client,online,target}"
}

require_daemons() {
  [[ -x $TCPCOPY_BIN ]] || fail "tcpcopy binary not found at '$TCPCOPY_BIN' (set TCPCOPY_BIN or build first)"
  [[ -x $INTERCEPT_BIN ]] || fail "intercept binary not found at '$INTERCEPT_BIN' (set INTERCEPT_BIN or build first)"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' not found (scripts/install-deps.sh installs it)"
  done
}

# Print what helps to diagnose a failure: daemon logs, server logs, queues.
dump_diagnostics() {
  local f
  echo "----- diagnostics ($E2E_TMP) -----" >&2
  for f in "$E2E_TMP"/*.out "$E2E_TMP"/*.log "$E2E_TMP"/nginx-*/error.log "$E2E_TMP"/redis-*/redis.log; do
    [[ -s $f ]] || continue
    echo "--- tail $f" >&2
    tail -n 25 "$f" >&2 || true
  done
  if [[ -n $NS_TARGET ]] && ip netns list 2>/dev/null | grep -qw "$NS_TARGET"; then
    echo "--- target nfnetlink_queue (queue portid total mode range dropped user_dropped id 1)" >&2
    ip netns exec "$NS_TARGET" cat /proc/net/netfilter/nfnetlink_queue >&2 2>/dev/null || true
    echo "--- target iptables OUTPUT" >&2
    ip netns exec "$NS_TARGET" iptables -w -L OUTPUT -v -n >&2 2>/dev/null || true
    ip netns exec "$NS_TARGET" iptables -w -L TCPCOPY_INTERCEPT -v -n >&2 2>/dev/null || true
  fi
  if [[ -s $E2E_TMP/leak.pcap ]] && command -v tcpdump >/dev/null 2>&1; then
    echo "--- first leaked packets seen by the client" >&2
    tcpdump -nn -r "$E2E_TMP/leak.pcap" 2>/dev/null | head -n 20 >&2 || true
  fi
  echo "----- end of diagnostics -----" >&2
}

e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if ((rc != 0)) && [[ -n $E2E_TMP && -d $E2E_TMP ]]; then dump_diagnostics; fi
  local pid i
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for pid in "${E2E_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${E2E_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  local ns
  for ns in "$NS_CLIENT" "$NS_ONLINE" "$NS_TARGET" "$NS_ASSIST"; do
    [[ -n $ns ]] || continue
    ip netns list 2>/dev/null | grep -qw "$ns" || continue
    # Anything still running inside was started by this test.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete namespace $ns" >&2
  done
  ((${#E2E_PIDS[@]} == 0)) || wait "${E2E_PIDS[@]}" 2>/dev/null
  local cmd
  for cmd in "${E2E_AT_EXIT[@]}"; do eval "$cmd"; done
  if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
      echo "cleanup: keeping $E2E_TMP" >&2
    else
      rm -rf "$E2E_TMP"
    fi
  fi
  exit "$rc"
}

# ------------------------------------------------------------------ running

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
in_client() { ip netns exec "$NS_CLIENT" "$@"; }
in_online() { ip netns exec "$NS_ONLINE" "$@"; }
in_target() { ip netns exec "$NS_TARGET" "$@"; }

# bg NAME NS CMD...: start CMD in NS in the background, output in
# $E2E_TMP/NAME.out; 'ip netns exec' execs CMD, so $! is CMD itself.
bg() {
  local name=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$E2E_TMP/$name.out" 2>&1 &
  E2E_PIDS+=("$!")
  E2E_PID[$name]=$!
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: poll CMD every 0.1 s.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.1
  done
}

is_alive() { kill -0 "${E2E_PID[$1]}" 2>/dev/null; }

expect_alive() {
  is_alive "$1" || fail "$1 exited early; output: $(tail -n 20 "$E2E_TMP/$1.out" 2>/dev/null)"
}

# wait_exit NAME TIMEOUT_S: wait for a background process to end by itself,
# return its exit status.
wait_exit() {
  local name=$1 timeout=$2 pid=${E2E_PID[$1]} rc=0 i
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "$name still running after ${timeout}s"
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# stop NAME [TIMEOUT_S]: SIGTERM, wait for exit, return its exit status.
stop() {
  local name=$1 timeout=${2:-10} pid=${E2E_PID[$1]} rc=0 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fail "$name did not exit within ${timeout}s of SIGTERM"
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# ----------------------------------------------------------------- topology

# Offloads: with TSO/GRO on, veth hands over segments far larger than the
# MTU and with partial checksums; real NICs on a wire do not, so turn them
# off (ethtool may be missing or refuse some flags: tolerated).
disable_offloads() {
  local ns=$1 dev=$2 flag
  [[ ${E2E_OFFLOADS:-0} == 1 ]] && return 0
  command -v ethtool >/dev/null 2>&1 || return 0
  for flag in tso gso gro lro tx rx; do
    ip netns exec "$ns" ethtool -K "$dev" "$flag" off >/dev/null 2>&1 || true
  done
}

# rx_thread NS DEV: DEV's receive processing on a kernel thread of its own
# (veth NAPI, which GRO turns on, in threaded mode). Two real hosts each
# process what they receive on their own CPUs; without this, a packet
# tcpcopy sends to the target is taken through the target's TCP stack
# within tcpcopy's sendmmsg, and intercept pays for the online host's
# receipt of the reply headers. On with E2E_RX_THREAD=1 (the benchmark).
rx_thread() {
  local ns=$1 dev=$2
  [[ ${E2E_RX_THREAD:-0} == 1 ]] || return 0
  command -v ethtool >/dev/null 2>&1 || return 0
  ip netns exec "$ns" ethtool -K "$dev" gro on >/dev/null 2>&1 || return 0
  ip netns exec "$ns" sh -c "echo 1 >/sys/class/net/$dev/threaded" 2>/dev/null || true
}

topology_up() {
  local ns
  for ns in "$NS_CLIENT" "$NS_ONLINE" "$NS_TARGET"; do
    ip netns add "$ns" || fail "cannot create namespace $ns"
    ip -n "$ns" link set lo up
    # IPv4 conf is inherited from the root namespace; make it explicit.
    in_ns "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  # Both ends of each veth pair are created inside namespaces.
  ip -n "$NS_CLIENT" link add c0 type veth peer name oc netns "$NS_ONLINE"
  ip -n "$NS_ONLINE" link add ot type veth peer name t0 netns "$NS_TARGET"

  ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR/24" dev c0
  ip -n "$NS_ONLINE" addr add "$ONLINE_ADDR/24" dev oc
  ip -n "$NS_ONLINE" addr add "$ONLINE_TGT_SIDE/24" dev ot
  ip -n "$NS_TARGET" addr add "$TARGET_ADDR/24" dev t0
  disable_offloads "$NS_CLIENT" c0
  disable_offloads "$NS_ONLINE" oc
  disable_offloads "$NS_ONLINE" ot
  disable_offloads "$NS_TARGET" t0
  ip -n "$NS_CLIENT" link set c0 up
  ip -n "$NS_ONLINE" link set oc up
  ip -n "$NS_ONLINE" link set ot up
  ip -n "$NS_TARGET" link set t0 up
  # (veth's NAPI exists once the device is up)
  rx_thread "$NS_TARGET" t0
  rx_thread "$NS_ONLINE" ot
  ip -n "$NS_CLIENT" route add default via "$ONLINE_ADDR"
  ip -n "$NS_TARGET" route add default via "$ONLINE_TGT_SIDE"
  # The online ns forwards, so a leaked reply really reaches the client.
  in_online sysctl -qw net.ipv4.ip_forward=1
  in_online sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
  # Many short connections from one client address: use a wide port range.
  in_client sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  for ns in "$NS_ONLINE" "$NS_TARGET"; do
    in_ns "$ns" sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
  done
  wait_until 5 "veth links to come up" links_up
  log "topology up: client $CLIENT_ADDR -> online $ONLINE_ADDR/$ONLINE_TGT_SIDE -> target $TARGET_ADDR"
}

# topology_add_ipv6: IPv6 addresses (no duplicate-address wait) and routes
# on the topology's links, forwarding on the online host, and the leak
# detector extended to replies from the target's IPv6 subnet.
topology_add_ipv6() {
  ip -n "$NS_CLIENT" addr add "$CLIENT6/64" dev c0 nodad
  ip -n "$NS_ONLINE" addr add "$ONLINE6/64" dev oc nodad
  ip -n "$NS_ONLINE" addr add "$ONLINE6_TGT_SIDE/64" dev ot nodad
  ip -n "$NS_TARGET" addr add "$TARGET6/64" dev t0 nodad
  ip -n "$NS_CLIENT" -6 route add default via "$ONLINE6"
  ip -n "$NS_TARGET" -6 route add default via "$ONLINE6_TGT_SIDE"
  in_online sysctl -qw net.ipv6.conf.all.forwarding=1
  in_client nft -f - <<EOF || fail "cannot install the IPv6 leak detector"
table ip6 e2e_leak6 {
	counter leaked { }
	chain prerouting {
		type filter hook prerouting priority raw - 10; policy accept;
		ip6 saddr $TARGET6_NET counter name "leaked"
	}
}
EOF
  log "IPv6: client $CLIENT6 -> online $ONLINE6/$ONLINE6_TGT_SIDE -> target $TARGET6"
}

links_up() {
  ip -n "$NS_CLIENT" -br link show dev c0 | grep -qw UP \
    && ip -n "$NS_ONLINE" -br link show dev oc | grep -qw UP \
    && ip -n "$NS_ONLINE" -br link show dev ot | grep -qw UP \
    && ip -n "$NS_TARGET" -br link show dev t0 | grep -qw UP
}

# ---------------------------------------------------------- assistant host

# assistant_up [NET]: a fourth namespace on a second link of the target, for
# intercept's assistant mode (architecture 3):
#
#   target t1 10.77.3.2/24 --veth-- a0 10.77.3.3/24 assistant (ip_forward=0)
#
# The target routes NET (the client addresses it sees; default the client
# subnet) to the assistant, so its replies end there (the assistant does not
# forward them); the target forwards between the online ns and the
# assistant for the control channel.
readonly ASSIST_ADDR=10.77.3.3
readonly TARGET_ASSIST_SIDE=10.77.3.2
readonly CLIENT_NET=10.77.1.0/24

assistant_up() {
  local client_net=${1:-$CLIENT_NET}
  NS_ASSIST="${NS_CLIENT%-client}-assist"
  ip netns add "$NS_ASSIST" || fail "cannot create namespace $NS_ASSIST"
  ip -n "$NS_ASSIST" link set lo up
  in_assist sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  ip -n "$NS_TARGET" link add t1 type veth peer name a0 netns "$NS_ASSIST"
  ip -n "$NS_TARGET" addr add "$TARGET_ASSIST_SIDE/24" dev t1
  ip -n "$NS_ASSIST" addr add "$ASSIST_ADDR/24" dev a0
  disable_offloads "$NS_TARGET" t1
  disable_offloads "$NS_ASSIST" a0
  ip -n "$NS_TARGET" link set t1 up
  ip -n "$NS_ASSIST" link set a0 up
  # Replies to the clients go to the assistant, which must not forward them.
  ip -n "$NS_TARGET" route add "$client_net" via "$ASSIST_ADDR"
  in_assist sysctl -qw net.ipv4.ip_forward=0
  # Control channel: online -> target -> assistant and back.
  in_target sysctl -qw net.ipv4.ip_forward=1
  in_target sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
  ip -n "$NS_ONLINE" route add 10.77.3.0/24 via "$TARGET_ADDR"
  ip -n "$NS_ASSIST" route add 10.77.2.0/24 via "$TARGET_ASSIST_SIDE"
  INTERCEPT_ADDR=$ASSIST_ADDR
  wait_until 5 "the assistant link to come up" assistant_link_up
  log "assistant up: target $TARGET_ASSIST_SIDE -> assistant $ASSIST_ADDR; target routes $client_net via the assistant"
}

assistant_link_up() {
  ip -n "$NS_TARGET" -br link show dev t1 | grep -qw UP && ip -n "$NS_ASSIST" -br link show dev a0 | grep -qw UP
}

in_assist() { ip netns exec "$NS_ASSIST" "$@"; }

# control_access_args [EXTRA ARGS...]: --allow CONTROL_ALLOW unless the
# arguments already say who may connect (--allow or --secret-file).
control_access_args() {
  local a
  for a in "$@"; do
    case $a in --allow | --allow=* | --secret-file | --secret-file=*) return 0 ;; esac
  done
  echo "--allow=$CONTROL_ALLOW"
}

# start_intercept_assistant [EXTRA ARGS...]: intercept in assistant mode on
# a0 (no NFQUEUE rule on the target).
start_intercept_assistant() {
  # shellcheck disable=SC2046  # one word or none
  bg intercept "$NS_ASSIST" "$INTERCEPT_BIN" --mode=assistant -i a0 --target-ports 80,6379 \
    -l "$E2E_TMP/intercept.log" --log-level info --stats-interval 1 $(control_access_args "$@") "$@"
  wait_until 10 "intercept to listen on port $CONTROL_PORT" port_listening "$NS_ASSIST" "*" "$CONTROL_PORT"
  expect_alive intercept
  log "intercept (assistant mode) capturing on a0, control port $ASSIST_ADDR:$CONTROL_PORT"
}

# -------------------------------------------------------------- leak detector

# An nft counter in the client ns for every packet from the target's subnet,
# hooked before anything else can drop it. tcpdump (when present) keeps the
# first leaked packets as evidence.
leak_detector_install() {
  in_client nft -f - <<EOF || fail "cannot install the leak detector"
table ip e2e_leak {
	counter leaked { }
	chain prerouting {
		type filter hook prerouting priority raw - 10; policy accept;
		ip saddr $TARGET_NET counter name "leaked"
	}
}
EOF
  if command -v tcpdump >/dev/null 2>&1; then
    bg leak-tcpdump "$NS_CLIENT" tcpdump -i c0 -nn -U -c 1000 -w "$E2E_TMP/leak.pcap" src net "$TARGET_NET"
  fi
}

leak_count() {
  local v4 v6
  v4=$(in_client nft list counter ip e2e_leak leaked | awk '$1 == "packets" { print $2; exit }')
  v6=$(in_client nft list counter ip6 e2e_leak6 leaked 2>/dev/null | awk '$1 == "packets" { print $2; exit }')
  [[ -n $v4 ]] && echo $((v4 + ${v6:-0}))
}

assert_no_leak() {
  local n
  n=$(leak_count)
  [[ -n $n ]] || fail "cannot read the leak counter"
  [[ $n -eq 0 ]] || fail "$n packet(s) from the target subnets reached the client (replies leaked past intercept)"
  log "leak detector: 0 packets from the target subnets ($TARGET_NET, and $TARGET6_NET when IPv6 is up) reached the client"
}

# ------------------------------------------------------------------- servers

make_static_content() {
  local dir=$E2E_TMP/static
  [[ -d $dir ]] && return 0
  mkdir -p "$dir"
  head -c "$BIG_FILE_SIZE" /dev/urandom >"$dir/big.bin"
  printf 'hello\n' >"$dir/index.html"
}

# start_nginx NAME NS ADDR [DIRECTIVES]: nginx listening on ADDR:80 with its
# own config, logs and DAV upload directory under $E2E_TMP/nginx-NAME;
# DIRECTIVES (e.g. "limit_rate 2m;") go into its server block.
start_nginx() {
  local name=$1 ns=$2 addr=$3 extra=${4:-}
  local dir=$E2E_TMP/nginx-$name
  make_static_content
  mkdir -p "$dir/tmp" "$dir/dav"
  cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
	# request line, status, body bytes sent, request length, completion
	log_format e2e '\$remote_addr\t\$request\t\$status\t\$body_bytes_sent\t\$request_length\t\$request_completion\t\$connection\t\$connection_requests\t\$remote_port\t\$msec';
	access_log $dir/access.log e2e;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 300s;
	client_max_body_size 10m;
	sendfile on;
	default_type application/octet-stream;
	server {
		listen $addr:80 backlog=4096;
		$extra
		root $E2E_TMP/static;
		location /put/ {
			root $dir/dav;
			dav_methods PUT;
			create_full_put_path on;
		}
		location = /big.bin { }
		location / { return 200 "ok\n"; }
	}
}
EOF
  bg "nginx-$name" "$ns" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
  wait_until 10 "nginx $name on $addr:80" port_listening "$ns" "$addr" 80
  expect_alive "nginx-$name"
}

access_log() { echo "$E2E_TMP/nginx-$1/access.log"; }

# start_redis NAME NS ADDR
start_redis() {
  local name=$1 ns=$2 addr=$3
  local dir=$E2E_TMP/redis-$name
  mkdir -p "$dir"
  bg "redis-$name" "$ns" redis-server --port 6379 --bind "$addr" --save '' --appendonly no \
    --protected-mode no --daemonize no --dir "$dir" --logfile "$dir/redis.log"
  wait_until 10 "redis $name on $addr:6379" port_listening "$ns" "$addr" 6379
  expect_alive "redis-$name"
}

# port_listening NS ADDR PORT: a TCP listener on ADDR:PORT ("*": any address).
port_listening() {
  local ns=$1 addr=$2 port=$3 filter
  if [[ $addr == "*" ]]; then filter="sport = :$port"; else filter="src $addr:$port"; fi
  ip netns exec "$ns" ss -Hltn "$filter" | grep -q .
}

# ------------------------------------------------------------------- daemons

# E2E_QUEUES=N (the benchmark's --queues): the rule spreads the replies over
# queues QUEUE_NUM.. QUEUE_NUM+N-1 and intercept reads them with
# --queue-balance.
queue_range() { echo "$QUEUE_NUM:$((QUEUE_NUM + ${E2E_QUEUES:-1} - 1))"; }

queue_bound() {
  in_target cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null \
    | awk -v lo="$QUEUE_NUM" -v n="${E2E_QUEUES:-1}" '$1 >= lo && $1 < lo + n { f++ } END { exit f != n }'
}

# apply_intercept_rule: the rule file from iptables/, through its script.
apply_intercept_rule() {
  local queue=(--queue "$QUEUE_NUM")
  ((${E2E_QUEUES:-1} > 1)) && queue=(--queue-balance "$(queue_range)")
  in_target "$INTERCEPT_RULES" apply --iptables --port 80,6379 "${queue[@]}" >"$E2E_TMP/rules.out" 2>&1 \
    || fail "intercept-rules apply failed: $(cat "$E2E_TMP/rules.out")"
}

# start_intercept [EXTRA ARGS...]: rule first (fail closed), then intercept;
# wait for the queue to be bound and the control port to listen.
start_intercept() {
  apply_intercept_rule
  local queue=(--queue-num "$QUEUE_NUM")
  ((${E2E_QUEUES:-1} > 1)) && queue=(--queue-balance "$(queue_range)")
  # shellcheck disable=SC2046  # one word or none
  bg intercept "$NS_TARGET" "$INTERCEPT_BIN" --mode=nfqueue "${queue[@]}" \
    -l "$E2E_TMP/intercept.log" --log-level info --stats-interval 1 $(control_access_args "$@") "$@"
  wait_until 10 "intercept to bind NFQUEUE $QUEUE_NUM" queue_bound
  wait_until 10 "intercept to listen on port $CONTROL_PORT" port_listening "$NS_TARGET" "*" "$CONTROL_PORT"
  expect_alive intercept
  log "intercept bound to queue $QUEUE_NUM, control port $CONTROL_PORT"
}

control_connected() {
  in_online ss -Htn state established "dst ${INTERCEPT_ADDR:-$TARGET_ADDR}:$CONTROL_PORT" | grep -q .
}

# start_tcpcopy [EXTRA ARGS...]
start_tcpcopy() {
  bg tcpcopy "$NS_ONLINE" "$TCPCOPY_BIN" -x "80-$TARGET_ADDR:80,6379-$TARGET_ADDR:6379" -s "${INTERCEPT_ADDR:-$TARGET_ADDR}" \
    -l "$E2E_TMP/tcpcopy.log" --log-level info --stats-interval 1 "$@"
  wait_until 10 "tcpcopy to connect to intercept" control_connected
  expect_alive tcpcopy
  # Let the capture socket settle before traffic starts.
  sleep 0.5
  expect_alive tcpcopy
  log "tcpcopy running, control channel to ${INTERCEPT_ADDR:-$TARGET_ADDR}:$CONTROL_PORT up"
}

# stop_daemons: SIGTERM both, check they exit cleanly and print counters.
stop_daemons() {
  local rc=0
  stop tcpcopy 15 || rc=$?
  ((rc == 0)) || fail "tcpcopy exited with status $rc on SIGTERM"
  stop intercept 15 || rc=$?
  ((rc == 0)) || fail "intercept exited with status $rc on SIGTERM"
  show_counters tcpcopy
  show_counters intercept
}

# counter_line NAME: last counter line the daemon logged (log file, output).
counter_line() {
  local name=$1
  cat "$E2E_TMP/$name.log" "$E2E_TMP/$name.out" 2>/dev/null \
    | grep -E 'counters: [a-z_]+(\{[a-z_]+\})?=[0-9]+' \
    | tail -n 1 || true
}

# counter NAME KEY: value of KEY (e.g. sessions_created or
# sessions_lost{no_intercept}) in the last counter line; 0 when absent.
counter() {
  counter_line "$1" | awk -v k="$2" '
    { for (i = 1; i <= NF; i++) { p = index($i, "="); if (p > 1 && substr($i, 1, p - 1) == k) v = substr($i, p + 1) } }
    END { print (v == "" ? 0 : v) }'
}

show_counters() {
  local line
  line=$(counter_line "$1")
  [[ -n $line ]] || fail "$1 logged no counter line (expected one at exit)"
  # Zero counters left out to keep the line readable.
  log "$1 final counters: $(grep -oE '[a-z_][a-z0-9_]*(\{[a-z_]+\})?=[0-9]+' <<<"$line" | grep -v '=0$' | tr '\n' ' ')"
}

# ----------------------------------------------------------- HTTP assertions

# Access log fields: 1 client address, 2 request line, 3 status, 4 body
# bytes sent, 5 request length, 6 completion, 7 connection serial number,
# 8 requests on that connection, 9 client port, 10 time logged (s, ms)

# count_requests WHICH [REGEX]: access log lines whose request matches REGEX.
count_requests() {
  local f
  f=$(access_log "$1")
  [[ -f $f ]] || { echo 0; return; }
  awk -F'\t' -v re="${2:-.}" '$2 ~ re { n++ } END { print n + 0 }' "$f"
}

# wait_replicated TIMEOUT_S [REGEX]: until the target's access log has as
# many matching requests as the online one, then a second more so that late
# duplicates would show up in the comparison that follows.
wait_replicated() {
  local timeout=${1:-30} re=${2:-.}
  local on tg deadline=$((SECONDS + timeout))
  on=$(($(count_requests online "$re") * ${E2E_REPEAT:-1}))
  while :; do
    tg=$(count_requests target "$re")
    ((tg >= on)) && break
    ((SECONDS < deadline)) || { log "settle: target has $tg of $on requests after ${timeout}s"; return 0; }
    sleep 0.2
  done
  sleep 1
  log "settle: target has $(count_requests target "$re") requests, online $on"
}

# assert_http_replicated [REGEX]: the online and target access logs hold the
# same request lines (those matching REGEX, default all) as multisets, every
# target response finished, and the target saw the real client address.
# With E2E_REPEAT=N the target must hold each online request N times.
assert_http_replicated() {
  local re=${1:-.}
  local on_log tg_log
  on_log=$(access_log online) tg_log=$(access_log target)
  [[ -s $on_log ]] || fail "online nginx logged no request"
  [[ -f $tg_log ]] || : >"$tg_log"
  # E2E_REPEAT=N: the target must hold every online request N times.
  local k
  for ((k = 0; k < ${E2E_REPEAT:-1}; k++)); do awk -F'\t' -v re="$re" '$2 ~ re { print $2 }' "$on_log"; done \
    | sort >"$E2E_TMP/requests.online"
  awk -F'\t' -v re="$re" '$2 ~ re { print $2 }' "$tg_log" | sort >"$E2E_TMP/requests.target"
  local n_on n_tg missing extra
  n_on=$(wc -l <"$E2E_TMP/requests.online")
  n_tg=$(wc -l <"$E2E_TMP/requests.target")
  missing=$(comm -23 "$E2E_TMP/requests.online" "$E2E_TMP/requests.target" | wc -l)
  extra=$(comm -13 "$E2E_TMP/requests.online" "$E2E_TMP/requests.target" | wc -l)
  ((n_on > 0)) || fail "online nginx logged no request matching '$re'"
  log "HTTP requests: online $n_on, target $n_tg, missing at target $missing, extra/duplicated at target $extra"
  if ((missing > 0)); then
    log "first missing: $(comm -23 "$E2E_TMP/requests.online" "$E2E_TMP/requests.target" | head -n 5 | tr '\n' '|')"
  fi
  if ((extra > 0)); then
    log "first extra: $(comm -13 "$E2E_TMP/requests.online" "$E2E_TMP/requests.target" | head -n 5 | tr '\n' '|')"
  fi
  ((missing == 0 && extra == 0)) || fail "target did not receive every online request exactly once ($missing missing, $extra extra)"

  local incomplete
  incomplete=$(awk -F'\t' -v re="$re" '$2 ~ re && $6 != "OK"' "$tg_log" | wc -l)
  ((incomplete == 0)) || fail "$incomplete target responses not completed (\$request_completion != OK): $(awk -F'\t' -v re="$re" '$2 ~ re && $6 != "OK"' "$tg_log" | head -n 3 | tr '\t\n' ' |')"
  local bad_status
  bad_status=$(awk -F'\t' -v re="$re" '$2 ~ re && $3 !~ /^2/' "$tg_log" | wc -l)
  ((bad_status == 0)) || fail "$bad_status target responses with a non-2xx status: $(awk -F'\t' -v re="$re" '$2 ~ re && $3 !~ /^2/' "$tg_log" | head -n 3 | tr '\t\n' ' |')"
  # E2E_TARGET_CLIENT: the address the target sees when tcpcopy rewrites it
  # (-c), or a regular expression for several client addresses.
  local foreign seen=${E2E_TARGET_CLIENT:-$CLIENT_ADDR}
  foreign=$(awk -F'\t' -v re="$re" -v c="^($seen)\$" '$2 ~ re && $1 !~ c' "$tg_log" | wc -l)
  ((foreign == 0)) || fail "$foreign target requests not from the client address $seen"
  log "target: all $n_tg responses complete (\$request_completion=OK, 2xx), all from $seen"
}

# assert_big_responses: every GET of the big file was sent in full online
# and at the target.
assert_big_responses() {
  local which f n bad
  for which in online target; do
    f=$(access_log "$which")
    n=$(awk -F'\t' '$2 ~ /^GET \/big\.bin /' "$f" | wc -l)
    ((n > 0)) || fail "$which: no GET /big.bin in the access log"
    bad=$(awk -F'\t' -v s="$BIG_FILE_SIZE" '$2 ~ /^GET \/big\.bin / && ($4 != s || $6 != "OK")' "$f" | wc -l)
    ((bad == 0)) || fail "$which: $bad of $n big responses not sent in full ($BIG_FILE_SIZE bytes, OK): $(awk -F'\t' -v s="$BIG_FILE_SIZE" '$2 ~ /^GET \/big\.bin / && ($4 != s || $6 != "OK")' "$f" | head -n 3 | tr '\t\n' ' |')"
    log "$which: $n responses of $BIG_FILE_SIZE bytes sent in full"
  done
}

# --------------------------------------------------------------------- traffic

# write_wrk_lua PREFIX: a wrk script giving each request a unique path
# /r/<prefix>/<thread>/<n>; WRK_DELAY_MS > 0 paces each connection.
write_wrk_lua() {
  local prefix=$1 out=$E2E_TMP/unique-$1.lua
  cat >"$out" <<EOF
local pause = ${WRK_DELAY_MS:-0}
if pause > 0 then
  function delay() return pause end
end
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, "/r/$prefix/" .. tid .. "/" .. n)
end
EOF
  echo "$out"
}

# run_wrk PREFIX DURATION_S THREADS CONNS [wrk args...]: bounded load with
# unique paths (WRK_DELAY_MS=N before it paces each connection).
run_wrk() {
  local prefix=$1 dur=$2 threads=$3 conns=$4; shift 4
  local lua
  lua=$(write_wrk_lua "$prefix")
  in_client timeout $((dur + 20)) wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 5s -s "$lua" "$@" \
    "http://$ONLINE_ADDR/" >"$E2E_TMP/wrk-$prefix.txt" 2>&1 || fail "wrk failed: $(cat "$E2E_TMP/wrk-$prefix.txt")"
  log "wrk $prefix: $(grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$E2E_TMP/wrk-$prefix.txt" | tr -s ' ' | tr '\n' ';')"
}

# ------------------------------------------------------- hostile conditions

FLOOD_BIN=${FLOOD_BIN:-$REPO_ROOT/build/tests/e2e/tcp_flood}

# flood MODE COUNT [ARGS...]: a bounded raw flood (tests/e2e/tools) from
# the client namespace at the online server's port 80; sources are spoofed
# from 10.78.0.0/16, which no namespace routes, so answers go nowhere.
flood() {
  local mode=$1 count=$2; shift 2
  [[ -x $FLOOD_BIN ]] || fail "flood tool not found at '$FLOOD_BIN' (set FLOOD_BIN or build first)"
  in_client "$FLOOD_BIN" --mode "$mode" --dst "$ONLINE_ADDR" --dport 80 --count "$count" "$@" \
    >>"$E2E_TMP/flood.out" 2>&1 || fail "flood $mode failed: $(tail -n 3 "$E2E_TMP/flood.out")"
  log "$(tail -n 1 "$E2E_TMP/flood.out")"
}

# The sender guard: an nft counter in the online namespace for every packet
# sent from there with a source address that is not its own (so: one of
# tcpcopy's) to anything but the target. tcpcopy may send only to targets.
sender_guard_install() {
  in_online nft -f - <<EOF || fail "cannot install the sender guard"
table ip e2e_sender_guard {
	counter stray { }
	chain output {
		type filter hook output priority raw - 10; policy accept;
		ip saddr != { $ONLINE_ADDR, $ONLINE_TGT_SIDE } ip daddr != $TARGET_ADDR counter name "stray"
	}
}
EOF
}

assert_sender_guard() {
  local n
  n=$(in_online nft list counter ip e2e_sender_guard stray | awk '$1 == "packets" { print $2; exit }')
  [[ -n $n ]] || fail "cannot read the sender guard counter"
  [[ $n -eq 0 ]] || fail "tcpcopy sent $n packet(s) to something other than the target $TARGET_ADDR"
  log "sender guard: every packet tcpcopy sent went to the target"
}

# proc_status NAME FIELD: a field of /proc/PID/status of a background
# process (VmRSS, VmHWM in kB; CapEff in hex).
proc_status() {
  awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/${E2E_PID[$1]}/status"
}

# clean_run PREFIX: a short HTTP run whose paths start with /r/PREFIX/: 20
# keep-alive requests with curl, then 2 s of paced wrk with one connection
# per request. assert_clean_run PREFIX checks the target got each once.
clean_run() {
  local prefix=$1
  in_client curl -sS --max-time 20 "http://$ONLINE_ADDR/r/$prefix/curl/[1-20]" >/dev/null \
    || fail "curl run $prefix failed"
  WRK_DELAY_MS=5 run_wrk "$prefix" 2 1 4 -H "Connection: close"
}

assert_clean_run() {
  wait_replicated 30 "^GET /r/$1/"
  assert_http_replicated "^GET /r/$1/"
}

# wait_counter_steady NAME KEY TIMEOUT_S: until KEY in NAME's counter lines
# (logged every second) stops changing, e.g. until tcpcopy has worked off
# the packets a flood left queued on its capture socket.
wait_counter_steady() {
  local name=$1 key=$2 timeout=$3 last=-1 now deadline=$((SECONDS + $3))
  while :; do
    now=$(counter "$name" "$key")
    [[ $now == "$last" ]] && break
    ((SECONDS < deadline)) || fail "$name's $key still moving after ${timeout}s"
    last=$now
    sleep 2.1
  done
  log "$name's $key steady at $now"
}

# counter_at_least NAME KEY N / counter_is NAME KEY N: for wait_until, which
# runs its command afresh each time.
counter_at_least() { (($(counter "$1" "$2") >= $3)); }
counter_is() { (($(counter "$1" "$2") == $3)); }

# ------------------------------------------------------------------- Redis

# redis_bench ARGS...: redis-benchmark from the client against the online
# Redis (e.g. -t incr -n 2000 -P 16 -c 4).
redis_bench() {
  local out
  out=$(in_client timeout 120 redis-benchmark -h "$ONLINE_ADDR" -p 6379 -q "$@" 2>&1) \
    || fail "redis-benchmark $* failed: $out"
  log "redis-benchmark $*: $(tr '\r' '\n' <<<"$out" | grep -v '^ *$' | tail -n 1)"
}

redis_online() { in_client timeout 5 redis-cli -h "$ONLINE_ADDR" "$@"; }
redis_target() { in_target timeout 5 redis-cli -h "$TARGET_ADDR" "$@"; }

# assert_redis_replicated [FACTOR]: the target's INCR counter and LPUSH list
# (redis-benchmark's keys) reach FACTOR times the online ones, within 30 s.
# INCR is not idempotent, so equality proves each command arrived once
# (FACTOR times).
assert_redis_replicated() {
  local factor=${1:-1} want_incr want_list got_incr got_list deadline=$((SECONDS + 30))
  want_incr=$(($(redis_online GET counter:__rand_int__) * factor))
  want_list=$(($(redis_online LLEN mylist) * factor))
  while :; do
    got_incr=$(redis_target GET counter:__rand_int__)
    got_list=$(redis_target LLEN mylist)
    [[ $got_incr == "$want_incr" && $got_list == "$want_list" ]] && break
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  sleep 1  # nothing may arrive late
  got_incr=$(redis_target GET counter:__rand_int__)
  got_list=$(redis_target LLEN mylist)
  log "Redis: INCR counter target $got_incr (want $want_incr), list length target $got_list (want $want_list)"
  ((want_incr > 0 && want_list > 0)) || fail "online Redis values are zero: the benchmark did not run"
  [[ $got_incr == "$want_incr" ]] || fail "INCR counter differs: want $want_incr, target ${got_incr:-<none>}"
  [[ $got_list == "$want_list" ]] || fail "LPUSH list length differs: want $want_list, target ${got_list:-<none>}"
}

# --------------------------------------------------------------- IPv6

# wait_redis6_incr: until the target's INCR counter (over IPv6) equals the
# online one, at most 30 s; sets ONLINE_INCR and TARGET_INCR.
wait_redis6_incr() {
  local deadline=$((SECONDS + 30))
  ONLINE_INCR=$(in_client redis-cli -h "$ONLINE6" GET counter:__rand_int__)
  while :; do
    TARGET_INCR=$(in_target redis-cli -h "$TARGET6" GET counter:__rand_int__)
    [[ $TARGET_INCR == "$ONLINE_INCR" ]] && break
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
}

# assert_http6_replicated SEEN: the target holds the online request lines
# exactly once (at least 40 of them), every response completed, all from
# SEEN, the client address the target sees (assert_http_replicated checks
# the IPv4 one).
assert_http6_replicated() {
  local seen=$1 n_on missing extra incomplete foreign
  awk -F'\t' '{ print $2 }' "$(access_log online)" | sort >"$E2E_TMP/on"
  awk -F'\t' '{ print $2 }' "$(access_log target)" | sort >"$E2E_TMP/tg"
  n_on=$(wc -l <"$E2E_TMP/on")
  missing=$(comm -23 "$E2E_TMP/on" "$E2E_TMP/tg" | wc -l)
  extra=$(comm -13 "$E2E_TMP/on" "$E2E_TMP/tg" | wc -l)
  log "HTTP over IPv6: online $n_on, target $(wc -l <"$E2E_TMP/tg"), missing $missing, extra $extra"
  ((n_on >= 40)) || fail "too few requests online ($n_on)"
  ((missing == 0 && extra == 0)) || fail "IPv6: target did not receive every request exactly once"
  incomplete=$(awk -F'\t' '$6 != "OK"' "$(access_log target)" | wc -l)
  ((incomplete == 0)) || fail "$incomplete target responses not completed"
  foreign=$(awk -F'\t' -v c="$seen" '$1 != c' "$(access_log target)" | wc -l)
  ((foreign == 0)) || fail "$foreign target requests not from $seen"
}

# ---------------------------------------------------------- recordings

# start_recording FILE IFACE [TCPDUMP ARGS...]: tcpdump in the online ns
# writes every TCP packet on IFACE to FILE (whole packets, unbuffered).
start_recording() {
  local file=$1 iface=$2; shift 2
  require_tools tcpdump
  bg recorder "$NS_ONLINE" tcpdump -i "$iface" -nn -U -s 0 -w "$file" "$@" tcp
  wait_until 10 "tcpdump to listen on $iface" grep -q "listening on" "$E2E_TMP/recorder.out"
  expect_alive recorder
}

# stop_recording: ends tcpdump and checks it lost nothing.
stop_recording() {
  sleep 1  # the last FINs and acks
  stop recorder 10 || fail "tcpdump exited with an error: $(cat "$E2E_TMP/recorder.out")"
  grep -q "^0 packets dropped by kernel" "$E2E_TMP/recorder.out" \
    || fail "tcpdump lost packets: $(tr '\n' ' ' <"$E2E_TMP/recorder.out")"
  log "recorded: $(grep -E 'packets captured' "$E2E_TMP/recorder.out")"
}

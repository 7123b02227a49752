#!/usr/bin/env bash
# Install the build, test and demo dependencies (Debian/Ubuntu) that are
# missing. Quick when everything is there: dpkg-query first, apt-get only
# for what is missing. Services of installed packages are not started.
# rpm builds the .rpm package; systemd brings systemd-analyze for the unit
# check and man-db the man page check of tests/packaging; chromium renders
# the comparison report headless in tests/report; prometheus brings
# promtool, whose lint tests/e2e/metrics.sh runs on both daemons' metrics
# (Debian ships promtool only with the server, about 100 MB installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-dev
  libnetfilter-queue-dev libmnl-dev libpcap-dev libssl-dev libgtest-dev googletest
  iproute2 iptables nftables
  nginx-light redis-server redis-tools wrk curl python3
  tcpdump procps ethtool
  rpm systemd man-db lintian rpmlint logrotate
  chromium prometheus
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: missing ${missing[*]}; run as root to install them" >&2; exit 1; }
  SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# nginx and redis-server must not start as host services on install: the
# tests run their own instances inside namespaces. policy-rc.d (exit 101)
# is Debian's switch for that; only a file created here is removed again.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if ((created_policy)); then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"

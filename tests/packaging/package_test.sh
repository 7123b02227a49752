#!/usr/bin/env bash
# The packages, end to end: build the .deb and the .rpm with CPack, compare
# their file lists with deb-files.txt and rpm-files.txt, check dependencies,
# configuration files and maintainer scripts, run lintian and rpmlint (any
# error fails; rpmlint's no-signature aside), install the .deb, run both
# installed programs (--version, --help, --check in a network namespace made
# here, with the installed rule script), verify the installed systemd units,
# then purge the package and check that nothing is left behind.
#
#   tests/packaging/package_test.sh BUILD_DIR
#
# Needs root and Debian (dpkg -i); rpmbuild comes with the Debian package
# "rpm" (scripts/install-deps.sh). It refuses to run over an installed
# tcpcopy package or over files of a manual install at the package's paths.
set -euo pipefail
export LC_ALL=C

build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=""
ns=""
installed=0

log() { printf '[%s packaging] %s\n' "$(date +%T)" "$*"; }
fail() { printf '[%s packaging] FAIL: %s\n' "$(date +%T)" "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  set +e
  [[ -n $ns ]] && ip netns del "$ns" 2>/dev/null
  if ((installed)); then dpkg -P tcpcopy >/dev/null 2>&1 || echo "cleanup: dpkg -P tcpcopy failed" >&2; fi
  [[ -n $tmp ]] && rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || fail "must run as root (dpkg -i)"
for tool in dpkg dpkg-deb dpkg-query rpm rpmbuild ip cmake; do
  command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' not found (scripts/install-deps.sh installs it)"
done
tmp=$(mktemp -d /tmp/tcpcopy-packaging.XXXXXX)

# Everything the package installs, for the before and after checks.
package_paths=(/usr/sbin/tcpcopy /usr/sbin/intercept /etc/default/tcpcopy /etc/default/intercept
  /usr/share/tcpcopy /usr/libexec/tcpcopy /usr/lib/systemd/system/tcpcopy.service
  /usr/lib/systemd/system/intercept.service /usr/share/man/man8/tcpcopy.8.gz /usr/share/man/man8/intercept.8.gz
  /etc/logrotate.d/tcpcopy /usr/share/doc/tcpcopy)
if [[ $(dpkg-query -W -f='${db:Status-Status}' tcpcopy 2>/dev/null || true) != "" &&
      $(dpkg-query -W -f='${db:Status-Status}' tcpcopy 2>/dev/null) != "not-installed" ]]; then
  fail "a tcpcopy package is already on this host; remove it first (dpkg -P tcpcopy)"
fi
for p in "${package_paths[@]}"; do
  [[ ! -e $p ]] || fail "$p exists (a manual install?); this test would overwrite and then delete it"
done

# ------------------------------------------------------------------ build
log "building the packages (cmake --build $build --target package)"
rm -f "$build"/tcpcopy_*.deb "$build"/tcpcopy-*.rpm
cmake --build "$build" --target package >"$tmp/cpack.log" 2>&1 || { tail -n 30 "$tmp/cpack.log" >&2; fail "cpack failed"; }
debs=("$build"/tcpcopy_*.deb)
rpms=("$build"/tcpcopy-*.rpm)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one .deb in $build, found: ${debs[*]}"
[[ ${#rpms[@]} -eq 1 && -f ${rpms[0]} ]] || fail "expected one .rpm in $build, found: ${rpms[*]}"
deb=${debs[0]} rpm=${rpms[0]}
log "built $(basename "$deb") and $(basename "$rpm")"

# same_list NAME EXPECTED_FILE ACTUAL_FILE
same_list() {
  if ! diff -u "$2" "$3" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    fail "$1 file list differs from $(basename "$2") (- expected, + packaged)"
  fi
}

# ------------------------------------------------------------------ .deb
# dpkg -c: permissions, owner, size, date, time, ./path; directories end in /.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$tmp/deb-files"
same_list ".deb" "$here/deb-files.txt" "$tmp/deb-files"
log ".deb files: $(tr '\n' ' ' <"$tmp/deb-files")"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libnetfilter-queue1 libmnl0 libc6 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail ".deb Depends lacks $lib (shlibdeps): $depends"
done
log ".deb Depends: $depends"

dpkg-deb -e "$deb" "$tmp/control"
diff <(sort "$tmp/control/conffiles") \
  <(printf '/etc/default/intercept\n/etc/default/tcpcopy\n/etc/logrotate.d/tcpcopy\n') >/dev/null \
  || fail ".deb conffiles are not the options and logrotate files: $(tr '\n' ' ' <"$tmp/control/conffiles")"
# Installing never starts a service or touches the firewall; systemctl only
# reloads systemd (the rest goes through deb-systemd-invoke, which honours
# policy-rc.d); an upgrade restarts what ran, a removal stops it.
for script in postinst prerm postrm preinst; do
  [[ -f $tmp/control/$script ]] || continue
  code=$(grep -vE '^\s*#' "$tmp/control/$script")
  if grep -qE '\b(iptables|nft|intercept-rules)\b|deb-systemd-invoke +(start|restart)\b' <<<"$code" ||
     grep -E '\bsystemctl\b' <<<"$code" | grep -qv 'systemctl --system daemon-reload'; then
    fail ".deb $script starts a service, calls systemctl or touches the firewall: $(cat "$tmp/control/$script")"
  fi
done
grep -q 'deb-systemd-invoke stop tcpcopy.service intercept.service' "$tmp/control/prerm" \
  || fail ".deb prerm does not stop the services on removal"
grep -q 'deb-systemd-invoke try-restart' "$tmp/control/postinst" || fail ".deb postinst does not restart the services on upgrade"
log ".deb conffiles and maintainer scripts as they should be"

dpkg-deb -x "$deb" "$tmp/deb-root"
grep -qx 'EnvironmentFile=/etc/default/intercept' "$tmp/deb-root/usr/lib/systemd/system/intercept.service" \
  || fail ".deb intercept.service does not read /etc/default/intercept"
grep -qx 'EnvironmentFile=/etc/default/tcpcopy' "$tmp/deb-root/usr/lib/systemd/system/tcpcopy.service" \
  || fail ".deb tcpcopy.service does not read /etc/default/tcpcopy"

# ------------------------------------------------------------------ .rpm
rpm -qlp "$rpm" 2>/dev/null | sort >"$tmp/rpm-files"
same_list ".rpm" "$here/rpm-files.txt" "$tmp/rpm-files"
log ".rpm files: $(tr '\n' ' ' <"$tmp/rpm-files")"

# Requirements by package name, never a soname: the sonames found on
# Debian (libpcap.so.0.8) do not exist on RPM distributions.
requires=$(rpm -qpR "$rpm" 2>/dev/null)
for name in libpcap libnetfilter_queue libmnl openssl-libs; do
  grep -qx "$name" <<<"$requires" || fail ".rpm does not require $name: $(tr '\n' ' ' <<<"$requires")"
done
if grep -vE '^rpmlib\(' <<<"$requires" | grep -qE '\.so|\(\)'; then
  fail ".rpm requires a soname: $(tr '\n' ' ' <<<"$requires")"
fi
log ".rpm requires: $(tr '\n' ' ' <<<"$requires")"
# %config(noreplace): flags c (config) and n (noreplace).
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm" 2>/dev/null | sort >"$tmp/rpm-flags"
for f in /etc/sysconfig/intercept /etc/sysconfig/tcpcopy /etc/logrotate.d/tcpcopy; do
  grep -qE "^$f [a-z]*c[a-z]*n|^$f [a-z]*n[a-z]*c" "$tmp/rpm-flags" || fail ".rpm $f is not %config(noreplace): $(grep "^$f " "$tmp/rpm-flags")"
done
grep -qE '^/usr/share/licenses/tcpcopy/LICENSE [a-z]*l' "$tmp/rpm-flags" || fail ".rpm LICENSE is not %license"
[[ $(rpm -qp --qf '%{LICENSE} %{URL}' "$rpm") == "BSD-2-Clause https://tcpcopy.org" ]] \
  || fail ".rpm License and URL: $(rpm -qp --qf '%{LICENSE} %{URL}' "$rpm")"
scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
if grep -vE '^\s*#' <<<"$scripts" | sed 's/try-restart//' | grep -qE '\b(enable|start|restart|iptables|nft|intercept-rules)\b'; then
  fail ".rpm scriptlets enable, start or touch the firewall: $scripts"
fi
grep -q 'systemctl try-restart tcpcopy.service intercept.service' <<<"$scripts" \
  || fail ".rpm scriptlets do not restart the services on upgrade"
# The packaged units are the /etc/sysconfig variants built next to the .deb's.
while read -r path _ _ digest _; do
  unit=$(basename "$path")
  want=$(sha256sum "$build/packaging/redhat/$unit" | cut -d' ' -f1)
  [[ $digest == "$want" ]] || fail ".rpm $path is not build/packaging/redhat/$unit"
  grep -qx "EnvironmentFile=/etc/sysconfig/${unit%.service}" "$build/packaging/redhat/$unit" \
    || fail ".rpm $unit does not read /etc/sysconfig/${unit%.service}"
done < <(rpm -qp --dump "$rpm" 2>/dev/null | grep '^/usr/lib/systemd/system/')
log ".rpm requires, %config(noreplace) options files, scriptlets and units as they should be"

# ------------------------------------------------------------------ lint
# lintian and rpmlint: every finding is printed; an error fails the test.
if command -v lintian >/dev/null 2>&1; then
  lintian --tag-display-limit 0 --display-info "$deb" >"$tmp/lintian" 2>&1 || true
  sed 's/^/  lintian: /' "$tmp/lintian"
  if grep -qE '^E: ' "$tmp/lintian"; then fail "lintian found errors in $(basename "$deb")"; fi
  log "lintian: no error ($(grep -cE '^W: ' "$tmp/lintian" || true) warnings)"
else
  fail "lintian not found (scripts/install-deps.sh installs it)"
fi
if command -v rpmlint >/dev/null 2>&1; then
  rpmlint -r "$here/rpmlintrc" "$rpm" >"$tmp/rpmlint" 2>&1 || true
  sed 's/^/  rpmlint: /' "$tmp/rpmlint"
  # The package is not signed here: that one error is expected.
  if grep -E ': E: ' "$tmp/rpmlint" | grep -qv ': E: no-signature'; then
    fail "rpmlint found errors in $(basename "$rpm")"
  fi
  log "rpmlint: no error besides no-signature"
else
  log "NOTE: rpmlint is not installed (not packaged in this release?): the .rpm lint check is SKIPPED"
fi

# ------------------------------------------------------------------ install
log "dpkg -i $(basename "$deb")"
installed=1
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -i failed"; }
for p in "${package_paths[@]}"; do [[ -e $p ]] || fail "$p missing after dpkg -i"; done
for f in intercept-rules intercept-service; do
  [[ $(stat -c %a "/usr/libexec/tcpcopy/$f") == 755 ]] || fail "/usr/libexec/tcpcopy/$f is not executable"
done
grep -q '^License: BSD-2-Clause' /usr/share/doc/tcpcopy/copyright || fail "/usr/share/doc/tcpcopy/copyright lacks the licence"
zgrep -q '_total' /usr/share/doc/tcpcopy/changelog.Debian.gz || fail "changelog.Debian.gz does not tell of the metric renames"
if command -v logrotate >/dev/null 2>&1; then
  logrotate -d /etc/logrotate.d/tcpcopy >"$tmp/logrotate" 2>&1 || { cat "$tmp/logrotate" >&2; fail "logrotate rejects /etc/logrotate.d/tcpcopy"; }
fi

version=$(dpkg-deb -f "$deb" Version)
version=${version%-*}
for prog in tcpcopy intercept; do
  out=$("/usr/sbin/$prog" --version) || fail "$prog --version failed"
  [[ $out == "$prog $version" ]] || fail "$prog --version printed '$out', expected '$prog $version'"
  help=$("/usr/sbin/$prog" --help) || fail "$prog --help failed"
  for opt in --metrics --check; do grep -q -- "$opt" <<<"$help" || fail "$prog --help does not list $opt"; done
  rc=0
  "/usr/sbin/$prog" --metrics nowhere >/dev/null 2>&1 || rc=$?
  ((rc == 2)) || fail "$prog with a bad --metrics exited $rc, expected 2"
  if command -v man >/dev/null 2>&1; then
    warnings=$(man --warnings -l "/usr/share/man/man8/$prog.8.gz" 2>&1 >/dev/null || true)
    [[ -z $warnings ]] || fail "man page of $prog: $warnings"
  fi
done
log "installed programs: --version '$version', --help lists --metrics and --check, bad values exit 2"

# --check in a namespace of our own: nothing reaches the host's network.
ns="tcpk$$"
ip netns add "$ns" || fail "cannot create namespace $ns"
ip -n "$ns" link set lo up
rc=0
ip netns exec "$ns" /usr/sbin/tcpcopy --check -x 80-127.0.0.1:8080 -s 127.0.0.1:9 >"$tmp/tcpcopy-check" 2>&1 || rc=$?
((rc == 1)) || { cat "$tmp/tcpcopy-check" >&2; fail "tcpcopy --check with no intercept exited $rc, expected 1"; }
grep -q '^\[FAIL\] intercept 127.0.0.1:9: connection refused' "$tmp/tcpcopy-check" \
  || { cat "$tmp/tcpcopy-check" >&2; fail "tcpcopy --check did not report the missing intercept"; }
rc=0
ip netns exec "$ns" /usr/sbin/intercept --check --check-port 80 >"$tmp/intercept-check" 2>&1 || rc=$?
((rc == 1)) || { cat "$tmp/intercept-check" >&2; fail "intercept --check without a rule exited $rc, expected 1"; }
grep -q 'fix: /usr/libexec/tcpcopy/intercept-rules apply --port 80 --queue 0' "$tmp/intercept-check" \
  || { cat "$tmp/intercept-check" >&2; fail "intercept --check did not name the installed rule script"; }
ip netns exec "$ns" /usr/libexec/tcpcopy/intercept-rules apply --iptables --port 80 >/dev/null \
  || fail "the installed intercept-rules could not apply the rule"
rc=0
ip netns exec "$ns" /usr/sbin/intercept --check --check-port 80 >"$tmp/intercept-check" 2>&1 || rc=$?
((rc == 0)) || { cat "$tmp/intercept-check" >&2; fail "intercept --check with the rule exited $rc, expected 0"; }
ip netns exec "$ns" /usr/libexec/tcpcopy/intercept-rules remove >/dev/null || fail "intercept-rules remove failed"
log "--check: tcpcopy 1 without intercept; intercept 1 without the rule, 0 once the installed script loaded it"

# The unit's launcher, with the installed options file: nfqueue mode loads
# and removes the rule around intercept; assistant mode captures on
# INTERCEPT_INTERFACES and touches no rule; a bad mode exits 2 naming it.
launcher() { (set -a; . /etc/default/intercept; set +a; "$@"); }
cmdline=$(launcher /usr/libexec/tcpcopy/intercept-service print) || fail "intercept-service print failed"
[[ $cmdline == "/usr/sbin/intercept --mode=nfqueue --queue-num 0" ]] \
  || fail "nfqueue mode runs '$cmdline'"
cmdline=$(launcher env INTERCEPT_MODE=assistant INTERCEPT_INTERFACES=eth1,eth2 /usr/libexec/tcpcopy/intercept-service print)
[[ $cmdline == "/usr/sbin/intercept --mode=assistant -i eth1,eth2" ]] || fail "assistant mode runs '$cmdline'"
rc=0
launcher env INTERCEPT_MODE=bridge /usr/libexec/tcpcopy/intercept-service run >/dev/null 2>"$tmp/launcher.err" || rc=$?
((rc == 2)) && grep -q "INTERCEPT_MODE='bridge'" "$tmp/launcher.err" || fail "a bad INTERCEPT_MODE gave status $rc: $(cat "$tmp/launcher.err")"
ip netns exec "$ns" env INTERCEPT_MODE=assistant INTERCEPT_INTERFACES=eth1 /usr/libexec/tcpcopy/intercept-service start-pre \
  || fail "assistant start-pre failed"
! ip netns exec "$ns" iptables -w -S OUTPUT 2>/dev/null | grep -q TCPCOPY_INTERCEPT || fail "assistant mode loaded a rule"
ip netns exec "$ns" sh -c 'set -a; . /etc/default/intercept; exec /usr/libexec/tcpcopy/intercept-service start-pre' >/dev/null \
  || fail "nfqueue start-pre failed"
ip netns exec "$ns" iptables -w -S OUTPUT | grep -q TCPCOPY_INTERCEPT || fail "nfqueue start-pre did not load the rule"
ip netns exec "$ns" sh -c 'set -a; . /etc/default/intercept; exec /usr/libexec/tcpcopy/intercept-service stop-post' >/dev/null \
  || fail "nfqueue stop-post failed"
! ip netns exec "$ns" iptables -w -S OUTPUT | grep -q TCPCOPY_INTERCEPT || fail "nfqueue stop-post left the rule"
log "intercept-service: nfqueue mode loads and removes the rule, assistant mode runs -i without one, a bad mode exits 2"

# systemd-analyze verify: only its absence is tolerated.
if command -v systemd-analyze >/dev/null 2>&1; then
  man_opt=--man=no
  command -v man >/dev/null 2>&1 && man_opt=--man=yes
  rc=0
  systemd-analyze verify "$man_opt" /usr/lib/systemd/system/tcpcopy.service \
    /usr/lib/systemd/system/intercept.service >"$tmp/verify" 2>&1 || rc=$?
  if ((rc != 0)) || grep -qE '(tcpcopy|intercept)\.service' "$tmp/verify"; then
    cat "$tmp/verify" >&2
    fail "systemd-analyze verify found problems in the units (status $rc)"
  fi
  log "systemd-analyze verify: both units clean"
  # The sandboxes' exposure (systemd-analyze security, 0 best, 10 worst)
  # must not get worse than it is: tcpcopy 2.4, intercept 2.8.
  for pair in tcpcopy:2.4 intercept:2.8; do
    unit=${pair%%:*} max=${pair#*:}
    systemd-analyze security --offline=yes "/usr/lib/systemd/system/$unit.service" >"$tmp/security" 2>&1 || true
    level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security")
    [[ -n $level ]] || { cat "$tmp/security" >&2; fail "systemd-analyze security printed no exposure level for $unit.service"; }
    awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }' || fail "$unit.service exposure $level, worse than $max"
    log "systemd-analyze security: $unit.service exposure $level (at most $max)"
  done
else
  log "systemd-analyze not available: unit verification skipped"
fi

# ------------------------------------------------------------------ upgrade
# Installing over itself runs postinst as an upgrade (try-restart of the
# units, which are not running here): it must succeed and keep the files.
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -i over the installed package failed"; }
for p in "${package_paths[@]}"; do [[ -e $p ]] || fail "$p missing after reinstalling"; done
log "reinstall (postinst upgrade path): fine"

# ------------------------------------------------------------------ purge
dpkg -P tcpcopy >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -P failed"; }
installed=0
for p in "${package_paths[@]}"; do [[ ! -e $p ]] || fail "$p left behind after dpkg -P"; done
log "dpkg -P: nothing left under /usr/sbin, /etc/default, /usr/share/tcpcopy, /usr/libexec/tcpcopy, /usr/lib/systemd/system"
log "PASS"

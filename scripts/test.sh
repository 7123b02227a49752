#!/usr/bin/env bash
# Install what is missing, build, and run every test: unit tests, the
# namespace end-to-end tests (label e2e) and the package test (label
# packaging); then the unit tests and the e2e tests again with everything
# built with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan:
# a sanitizer finding aborts the daemon, which fails its test), and every
# fuzz target for
# FUZZ_SECONDS (20) each (build-fuzz, clang++). Between them, the
# compiler stage builds everything again as distributions would: clang++
# with Debian's hardening flags (warnings as errors) and g++ Release (-O3)
# with Fedora's (_FORTIFY_SOURCE=3, _GLIBCXX_ASSERTIONS), and runs the
# unit tests of the clang++ build. Must run as root: the e2e
# tests create network namespaces, load iptables rules and use raw sockets;
# the package test installs and purges the .deb. SKIP_ASAN=1 / SKIP_FUZZ=1 /
# SKIP_COMPILERS=1 leave the sanitizer, fuzz and compiler stages out.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: must run as root (the e2e tests need network namespaces, iptables and raw sockets)" >&2
  echo "  unit tests only, as any user: scripts/build.sh && ctest --test-dir build -LE 'e2e|packaging'" >&2
  exit 1
fi

scripts/install-deps.sh
WERROR=1 scripts/build.sh

build_dir=${BUILD_DIR:-build}
# The replication tests are registered only when both daemons are targets
# of the build; their absence must fail, not pass quietly.
listing=$(ctest --test-dir "$build_dir" -N -L e2e)
registered=$(grep -c 'Test *#' <<<"$listing" || true)
if ! grep -q 'e2e_load' <<<"$listing"; then
  echo "scripts/test.sh: e2e replication tests not registered (tcpcopy/intercept targets missing?)" >&2
  exit 1
fi
echo "test: $registered e2e tests registered"

ctest --test-dir "$build_dir" --output-on-failure --timeout 900

if [[ ${SKIP_COMPILERS:-0} != 1 ]]; then
  # Debian: dpkg-buildflags with every hardening feature.
  deb_cxxflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CXXFLAGS)
  deb_cppflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)
  deb_ldflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)
  echo "test: clang++ build with Debian's flags in build-clang"
  cmake -S . -B build-clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None -DTCPCOPY_WERROR=ON \
    -DCMAKE_CXX_FLAGS="$deb_cppflags $deb_cxxflags -D_GLIBCXX_ASSERTIONS" \
    -DCMAKE_EXE_LINKER_FLAGS="$deb_ldflags" >/dev/null
  cmake --build build-clang -j"${JOBS:-$(nproc)}"
  ctest --test-dir build-clang -LE 'e2e|packaging' --output-on-failure --timeout 300
  # As a user's or packager's build: warnings stay warnings (GCC 12 at -O3
  # raises -Wrestrict false positives inside libstdc++'s string code).
  echo "test: g++ Release build with Fedora-like flags in build-release"
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTCPCOPY_WERROR=OFF \
    -DCMAKE_CXX_FLAGS="-O2 -D_FORTIFY_SOURCE=3 -D_GLIBCXX_ASSERTIONS -fstack-protector-strong -fstack-clash-protection -fexceptions" >/dev/null
  cmake --build build-release -j"${JOBS:-$(nproc)}"
fi

if [[ ${SKIP_ASAN:-0} != 1 ]]; then
  asan_dir=${ASAN_BUILD_DIR:-build-asan}
  echo "test: unit and e2e tests with ASan and UBSan in $asan_dir"
  cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPCOPY_SANITIZE=ON -DTCPCOPY_WERROR=ON >/dev/null
  cmake --build "$asan_dir" -j"${JOBS:-$(nproc)}"
  ctest --test-dir "$asan_dir" -LE packaging --output-on-failure --timeout 900
fi

if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
  echo "test: fuzz targets, ${FUZZ_SECONDS:-20} s each"
  tests/fuzz/run.sh
fi

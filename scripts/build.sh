#!/usr/bin/env bash
# Configure and build into ./build (RelWithDebInfo), all cores.
# BUILD_DIR, BUILD_TYPE and JOBS override the defaults; WERROR=1 makes
# warnings errors (scripts/test.sh sets it: CI and developers build so).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
jobs=${JOBS:-$(nproc)}

werror=OFF
[[ ${WERROR:-0} == 1 ]] && werror=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" -DTCPCOPY_WERROR="$werror"
cmake --build "$build_dir" -j"$jobs"
echo "build: $build_dir ($build_type): $build_dir/copy/tcpcopy $build_dir/intercept/intercept"

#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang++ into build-fuzz and runs
# each for a bounded time over its corpus and regressions. New inputs go to
# a temporary directory, so the checkout is not changed; a crash fails the
# run and leaves the input in build-fuzz/findings/<target>/, to be added to
# fuzz/regressions/<target>/ with the fix.
#
#   tests/fuzz/run.sh                 every target, FUZZ_SECONDS (20) each
#   tests/fuzz/run.sh engine wire     only these
#   FUZZ_SECONDS=600 tests/fuzz/run.sh engine
#   FUZZ_KEEP=1: keep new corpus inputs in build-fuzz/new-corpus/<target>/
set -euo pipefail
cd "$(dirname "$0")/../.."

build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${JOBS:-2}
cxx=${FUZZ_CXX:-clang++}
command -v "$cxx" >/dev/null 2>&1 || { echo "fuzz: $cxx not found (apt-get install clang)" >&2; exit 1; }

cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DTCPCOPY_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j"$jobs" --target fuzzers

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=()
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

failed=()
for t in "${targets[@]}"; do
  bin=$build_dir/fuzz/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz: no target '$t'" >&2; exit 1; }
  new=$build_dir/new-corpus/$t
  findings=$build_dir/findings/$t
  rm -rf "$new"
  mkdir -p "$new" "$findings" "fuzz/regressions/$t"
  log=$build_dir/fuzz-$t.log
  echo "fuzz: $t for ${seconds}s"
  rc=0
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" "$new" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$log" 2>&1 || rc=$?
  execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 || true)
  echo "fuzz: $t: ${execs:-?} runs, ${cov:-cov: ?}, $(find "$new" -type f | wc -l) new inputs, exit $rc"
  if ((rc != 0)); then
    failed+=("$t")
    grep -E 'ERROR|invariant violated|SUMMARY|Test unit written' "$log" | head -n 20 >&2 || true
  fi
  [[ ${FUZZ_KEEP:-0} == 1 ]] || rm -rf "$new"
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build_dir/findings/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a finding"

#!/usr/bin/env bash
# `make bench-distance`: ns per distance call for every kernel and every
# variant this CPU runs, against the portable kernels compiled without the
# auto-vectoriser ("fallback").  Prints a table and writes
# tests/bench/results/distance.csv.  See docs/benchmarks.md.
#
#   BENCH_RUNS=15      timed runs per kernel and variant (the median is reported)
#   BENCH_RUN_MS=4     length of one run in milliseconds
#   BENCH_DIMS=128,784,1536
#   BENCH_OFFSETS=0,4  vectors start this many bytes past a 64-byte boundary
#                      (4: as in a heap tuple, where they are only 4-byte aligned)
set -euo pipefail

VECDB_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
src=$VECDB_ROOT/extension/src
results=$VECDB_ROOT/tests/bench/results
CC=${CC:-cc}
cflags=(-O2 -Wall -Wextra -Werror)

work=$(mktemp -d /tmp/vecdb-bench-distance.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The fallback: distance.c compiled a second time without the vectoriser,
# every global symbol it defines renamed to fallback_<name>, so that it links
# beside the real one.  (Its references to the SIMD tables stay unresolved
# and bind to distance_x86.c's; the benchmark only uses its portable table.)
$CC "${cflags[@]}" -fno-tree-vectorize -I"$src" -c "$src/distance.c" -o "$work/fallback.o"
nm -g --defined-only "$work/fallback.o" | awk 'NF == 3 { print $3, "fallback_" $3 }' >"$work/fallback.syms"
objcopy --redefine-syms="$work/fallback.syms" "$work/fallback.o"

$CC "${cflags[@]}" -I"$src" -I"$VECDB_ROOT/tests/lib" "$VECDB_ROOT/tests/bench/bench_distance.c" \
    "$src/distance.c" "$src/distance_x86.c" "$work/fallback.o" -lm -o "$work/bench_distance"

mkdir -p "$results"
echo "== distance kernels ($(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $($CC --version | head -n 1))"
"$work/bench_distance" -r "${BENCH_RUNS:-15}" -t "${BENCH_RUN_MS:-4}" -d "${BENCH_DIMS:-128,784,1536}" \
    -a "${BENCH_OFFSETS:-0,4}" \
    -o "$work/distance.csv"
mv "$work/distance.csv" "$results/distance.csv"
echo
echo "wrote ${results#"$VECDB_ROOT"/}/distance.csv"

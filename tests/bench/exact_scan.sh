#!/usr/bin/env bash
# Exact k-NN by sequential scan, SIMD kernels against the portable ones:
#
#   SELECT id FROM items ORDER BY v <-> q LIMIT 10      (no index)
#
# over Fashion-MNIST's 60,000 training images (784 dimensions, Debian's
# dataset-fashion-mnist), with query vectors from its test set, for each
# vecdb.kernel this CPU runs (scalar = the portable fallback, avx2, avx512,
# auto), first in a single backend (max_parallel_workers_per_gather = 0),
# then with 1 and 2 parallel workers.  (The planner does not choose a parallel
# plan for this query at the default costs, so with workers the parallel
# setup and tuple costs are set to 0 to make it.)  A throwaway cluster is
# started and always stopped.  Prints a table and writes
# tests/bench/results/exact_scan.csv.  See docs/benchmarks.md.
#
#   BENCH_QUERIES=20      query vectors (the first N test images)
#   BENCH_ROUNDS=5        rounds; each runs every query once per setting
#   BENCH_WORKERS="0 1 2" values of max_parallel_workers_per_gather
#   VECDB_KEEP_TMP=1      keep the temporary directory (data, server log)
set -euo pipefail

VECDB_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export VECDB_ROOT
. "$VECDB_ROOT/tests/lib/pg.sh"

data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
queries=${BENCH_QUERIES:-20}
rounds=${BENCH_ROUNDS:-5}
workers_list=${BENCH_WORKERS:-0 1 2}
case $queries in '' | *[!0-9]* | 0) echo "BENCH_QUERIES must be a positive number" >&2; exit 2 ;; esac
results=$VECDB_ROOT/tests/bench/results

if [ ! -f "$data/train-images-idx3-ubyte.gz" ] || [ ! -f "$data/t10k-images-idx3-ubyte.gz" ]; then
    "$VECDB_ROOT/tests/lib/deps.sh" bench
fi

scratch_dir vecdb-bench-scan

say() { printf '%s\n' "$*" >&2; }

say "== building the extension and the IDX converter"
make -s -C "$VECDB_ROOT/extension" PG_CONFIG="$(pg_config_path)" >/dev/null
cc -O2 -Wall -Wextra -Werror "$VECDB_ROOT/tests/bench/idx_to_copy.c" -o "$work/idx_to_copy"

say "== starting a throwaway PostgreSQL $(pg_major) cluster"
# shared_buffers holds the whole table (about 235 MB), and the table is under
# a quarter of it, so a sequential scan reads through shared buffers rather
# than a small ring; no JIT, no autovacuum, no checkpoint during the timing.
pg_install_prefix "$work/inst"
pg_cluster_start "$work/pg" "$(free_port)" \
    "shared_buffers = 1GB" "fsync = off" "synchronous_commit = off" "jit = off" \
    "autovacuum = off" "checkpoint_timeout = 1h" "max_wal_size = 4GB"
psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)

say "== loading 60000 training images and $queries query images"
# STORAGE PLAIN: a 784-dimension vector is 3144 bytes, over the 2 kB TOAST
# threshold; with the type's default storage (external) every vector would be
# moved out of line and each distance would start with a detoast (two TOAST
# chunk fetches).  PLAIN keeps rows inline and uncompressed (2 per page), so
# the scan measures the distance kernels.  The queries table too: the query
# vector reaches the distance function as the InitPlan's result, and a TOAST
# pointer there would be fetched again for every row.
"${psql[@]}" <<'SQL'
CREATE EXTENSION vecdb;
CREATE EXTENSION pg_prewarm;
CREATE TABLE items (id int, v vector(784));
ALTER TABLE items ALTER COLUMN v SET STORAGE PLAIN;
CREATE TABLE queries (id int, v vector(784));
ALTER TABLE queries ALTER COLUMN v SET STORAGE PLAIN;
SQL
gzip -dc "$data/train-images-idx3-ubyte.gz" | "$work/idx_to_copy" |
    "${psql[@]}" -c "COPY items (id, v) FROM STDIN"
# (uncompressed first: idx_to_copy stops reading after $queries images)
gzip -dc "$data/t10k-images-idx3-ubyte.gz" >"$work/t10k-images-idx3-ubyte"
"$work/idx_to_copy" "$queries" <"$work/t10k-images-idx3-ubyte" |
    "${psql[@]}" -c "COPY queries (id, v) FROM STDIN"
"${psql[@]}" -c "VACUUM (ANALYZE) items" -c "VACUUM (ANALYZE) queries" -c "CHECKPOINT"
"${psql[@]}" -At -c "SELECT pg_prewarm('items'), pg_prewarm('queries')" >/dev/null
IFS='|' read -r nrows relpages size nbuffers < <("${psql[@]}" -At -F '|' -c \
    "SELECT count(*), (SELECT relpages FROM pg_class WHERE relname = 'items'),
            pg_size_pretty(pg_relation_size('items')), current_setting('shared_buffers')
     FROM items")
say "items: $nrows rows, $relpages pages ($size), shared_buffers $nbuffers"

# the kernel settings this CPU accepts, scalar first, and what each runs
kernels=()
declare -A active
for k in scalar avx2 avx512 auto; do
    if a=$("${psql[@]}" -At -c "SET vecdb.kernel = '$k'" -c "SELECT vecdb.active_kernel()" 2>/dev/null); then
        kernels+=("$k")
        active[$k]=$a
    fi
done
say "kernels: ${kernels[*]} (auto = ${active[auto]})"

# the same query for every setting: the query vector comes from an InitPlan,
# so its 784-number literal is neither parsed nor sent per query
query() { echo "SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = $1) LIMIT 10;"; }

# the session settings for N workers
workers() {
    echo "SET max_parallel_workers_per_gather = $1;"
    if [ "$1" -gt 0 ]; then echo "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"; fi
}

for w in $workers_list; do
    say "-- plan with max_parallel_workers_per_gather = $w (kernel auto), second execution"
    {
        workers "$w"
        query 1
        echo "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(query 1)"
    } | "${psql[@]}" -At | grep -vE '^[0-9]+$' | sed 's/^/   /' >&2
done

# One psql session per round, worker setting and kernel: a warm-up query
# (a new backend's first scan is several times slower: among other things it
# maps the shared buffers into its address space), then every query once
# under \timing (client-side wall time per query).
for ((r = 1; r <= rounds; r++)); do
    say "== round $r of $rounds"
    for w in $workers_list; do
        for k in "${kernels[@]}"; do
            {
                workers "$w"
                echo "SET vecdb.kernel = '$k';"
                query 1
                printf '%s\n' '\timing on'
                for ((q = 1; q <= queries; q++)); do query "$q"; done
            } | "${psql[@]}" -At >"$work/out.$r.$w.$k"
            grep -E '^Time: ' "$work/out.$r.$w.$k" | awk '{ print $2 }' >"$work/ms"
            if [ "$(wc -l <"$work/ms")" -ne "$queries" ]; then
                say "expected $queries timings from psql, got:"
                cat "$work/out.$r.$w.$k" >&2
                exit 1
            fi
            cat "$work/ms" >>"$work/ms.$w.$k"
            # the result rows, per query, for the agreement check
            grep -vE '^Time: ' "$work/out.$r.$w.$k" | tail -n +11 >"$work/ids.$r.$w.$k"
        done
    done
done

mkdir -p "$results"
csv=$work/exact_scan.csv
echo "workers,kernel,active_kernel,rows,dims,queries,timings,ms_median,ms_min,ms_max,speedup_vs_scalar,same_ids_as_scalar" >"$csv"
printf '\nexact scan, %s rows x 784 dims, ORDER BY v <-> q LIMIT 10, ms per query (median of %s)\n' \
    "$nrows" "$((queries * rounds))"
printf '%-8s %-8s %-8s %10s %10s %10s %10s  %s\n' workers kernel active median min max speedup "same top-10 as scalar"
for w in $workers_list; do
    scalar_median=$(sort -g "$work/ms.$w.scalar" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    for k in "${kernels[@]}"; do
        read -r n median min max < <(sort -g "$work/ms.$w.$k" |
            awk '{ a[NR] = $1 } END { printf "%d %.2f %.2f %.2f\n", NR, (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2, a[1], a[NR] }')
        speedup=$(awk -v s="$scalar_median" -v m="$median" 'BEGIN { printf "%.2f", s / m }')
        # rounds whose result rows are the scalar kernel's, in the same order
        # (informative only: float rounding in a different summation order
        # may legitimately swap neighbours at equal or nearly equal distance)
        same=0
        for ((r = 1; r <= rounds; r++)); do
            cmp -s "$work/ids.$r.$w.$k" "$work/ids.$r.$w.scalar" && same=$((same + 1))
        done
        echo "$w,$k,${active[$k]},$nrows,784,$queries,$n,$median,$min,$max,$speedup,$same/$rounds" >>"$csv"
        printf '%-8s %-8s %-8s %10s %10s %10s %9sx  %s rounds\n' "$w" "$k" "${active[$k]}" "$median" "$min" "$max" "$speedup" "$same/$rounds"
    done
done
mv "$csv" "$results/exact_scan.csv"
echo
echo "wrote ${results#"$VECDB_ROOT"/}/exact_scan.csv"

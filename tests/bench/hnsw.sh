#!/usr/bin/env bash
# The hnsw index on Fashion-MNIST (Debian's dataset-fashion-mnist): 60,000
# training images as 784-dimension vectors, L2, against hnswlib in process as
# the ceiling.  With m = 16 and ef_construction = 64 it measures
#
#   vecdb:   CREATE INDEX time per max_parallel_maintenance_workers, index
#            size, WAL written by the build; recall@10 and single-client QPS
#            of SELECT id FROM items ORDER BY v <-> $1 LIMIT 10 per
#            hnsw.ef_search, and of the exact scan (enable_indexscan = off);
#            10,000 single-row INSERTs (rows/s, WAL per row right after a
#            CHECKPOINT and in steady state); VACUUM after deleting 10,000 of
#            the 70,000 rows;
#   hnswlib: build time (one thread), index size, recall@10 and QPS per ef.
#
# The exact top-10 of every query is computed here in C (hnsw_truth.c), not
# through SQL.  A throwaway cluster is started and always stopped.  Prints a
# summary, writes tests/bench/results/hnsw.csv and hnsw_recall_qps.png.
# See docs/benchmarks.md.  Without an `hnsw` access method in the extension
# the index measurements are skipped (and said so); the rest still runs.
#
#   BENCH_QUERIES=1000         queries (the first N test images)
#   BENCH_EXACT_QUERIES=50     of those, for the exact scan (about 0.15 s each)
#   BENCH_EF="10 20 40 80 160 320"  hnsw.ef_search (and hnswlib's ef) values
#   BENCH_PASSES=3             timed passes over the queries per ef, after one
#                              warm-up pass; QPS is the median pass's
#   BENCH_WORKERS="0 1 2"      max_parallel_maintenance_workers per build; the
#                              first build's index is the one queried
#   BENCH_INSERTS=10000        single-row INSERTs, in two transactions of half
#   BENCH_M=16 BENCH_EF_CONSTRUCTION=64
#   BENCH_ROUNDS=3             rounds of the query measurements (hnswlib, SQL
#                              bound, SQL unbound, in turn); each figure is
#                              the median round's
#   BENCH_CPU=N                the CPU the single-client query runs bind the
#                              client, its backend and hnswlib to (default:
#                              the last one); the same queries then run again
#                              unbound, wherever the scheduler puts them
#   VECDB_KEEP_TMP=1           keep the temporary directory (server log, outputs)
set -euo pipefail

VECDB_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export VECDB_ROOT
. "$VECDB_ROOT/tests/lib/pg.sh"

data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
queries=${BENCH_QUERIES:-1000}
exact_queries=${BENCH_EXACT_QUERIES:-50}
ef_list=$(echo "${BENCH_EF:-10 20 40 80 160 320}" | tr ',' ' ')
workers_list=$(echo "${BENCH_WORKERS:-0 1 2}" | tr ',' ' ')
passes=${BENCH_PASSES:-3}
rounds=${BENCH_ROUNDS:-3}
inserts=${BENCH_INSERTS:-10000}
m=${BENCH_M:-16}
efc=${BENCH_EF_CONSTRUCTION:-64}
bench_cpu=${BENCH_CPU:-$(($(nproc) - 1))}
results=$VECDB_ROOT/tests/bench/results
for v in queries exact_queries passes rounds inserts m efc; do
    case ${!v} in '' | *[!0-9]* | 0) echo "hnsw.sh: $v must be a positive number, not '${!v}'" >&2; exit 2 ;; esac
done
case $bench_cpu in '' | *[!0-9]*) echo "hnsw.sh: BENCH_CPU must be a CPU number, not '$bench_cpu'" >&2; exit 2 ;; esac
[ "$bench_cpu" -lt "$(nproc)" ] || { echo "hnsw.sh: BENCH_CPU must be below $(nproc)" >&2; exit 2; }
taskset -c "$bench_cpu" true 2>/dev/null || { echo "hnsw.sh: cannot bind to CPU $bench_cpu (taskset)" >&2; exit 2; }
for v in $ef_list $workers_list; do
    case $v in *[!0-9]*) echo "hnsw.sh: BENCH_EF and BENCH_WORKERS take numbers, not '$v'" >&2; exit 2 ;; esac
done
if [ -z "$workers_list" ] || [ -z "$ef_list" ]; then echo "hnsw.sh: BENCH_EF and BENCH_WORKERS must not be empty" >&2; exit 2; fi
[ "$exact_queries" -le "$queries" ] || exact_queries=$queries
[ "$inserts" -ge 2 ] || { echo "hnsw.sh: BENCH_INSERTS must be at least 2 (two batches)" >&2; exit 2; }
# ascending and each once: the interpolation at equal recall reads them in
# this order, and the rounds are merged per ef
# shellcheck disable=SC2086
ef_list=$(printf '%s\n' $ef_list | sort -nu | tr '\n' ' ')
# shellcheck disable=SC2086
efs_csv=$(printf '%s\n' $ef_list | paste -sd,)

# what the helpers need: hnswlib, libpq, g++, gnuplot, the data set
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] || [ ! -f /usr/include/hnswlib/hnswlib.h ] ||
    ! command -v g++ >/dev/null || ! command -v gnuplot >/dev/null ||
    [ ! -f "$(/usr/lib/postgresql/"$(pg_major)"/bin/pg_config --includedir 2>/dev/null)/libpq-fe.h" ]; then
    "$VECDB_ROOT/tests/lib/deps.sh" bench
fi

scratch_dir vecdb-bench-hnsw
# (and end the background jobs this script started, by their ids)
sampler=
truth_pid=
trap 'for p in $sampler $truth_pid; do kill "$p" 2>/dev/null || true; done; scratch_cleanup' EXIT

say() { printf '%s\n' "$*" >&2; }
started=$(date +%s)
load_start=$(cut -d ' ' -f 1 /proc/loadavg)

say "== building the extension and the helpers"
cflags="-O2 -Wall -Wextra -Werror"
cxxflags="-O3 -march=native -DNDEBUG -Wall -Wextra"
make -s -C "$VECDB_ROOT/extension" PG_CONFIG="$(pg_config_path)" >/dev/null
b=$VECDB_ROOT/tests/bench
# shellcheck disable=SC2086
{
    cc $cflags "$b/idx_to_copy.c" -o "$work/idx_to_copy"
    cc $cflags -pthread "$b/hnsw_truth.c" -o "$work/hnsw_truth"
    cc $cflags -I"$VECDB_ROOT/tests/lib" -I"$("$(pg_config_path)" --includedir)" \
        "$b/hnsw_sql_bench.c" -lpq -o "$work/hnsw_sql_bench"
    # the reference as it is meant to be built (hnswlib picks its SIMD
    # kernels from the compiler's target flags); not -Werror: its headers
    # are not ours
    g++ $cxxflags "$b/hnswlib_bench.cpp" -o "$work/hnswlib_bench"
}

say "== decompressing Fashion-MNIST"
train=$work/train-images-idx3-ubyte
test=$work/t10k-images-idx3-ubyte
gzip -dc "$data/train-images-idx3-ubyte.gz" >"$train"
gzip -dc "$data/t10k-images-idx3-ubyte.gz" >"$test"

# the ground truth, in the background while the cluster starts and loads
# (neither is timed)
say "== exact top-10 of $queries queries in C (background)"
"$work/hnsw_truth" "$train" "$test" "$queries" "$(nproc)" >"$work/truth.txt" &
truth_pid=$!

say "== starting a throwaway PostgreSQL $(pg_major) cluster"
# WAL as users get it: full_page_writes on, wal_level replica, no WAL
# compression; fsync off only spares the disk (the WAL is written all the
# same, and its volume is what is measured).  Checkpoints only when asked for
# (max_wal_size and checkpoint_timeout out of reach), no autovacuum, no JIT.
# maintenance_work_mem is large enough for the whole graph in memory.
pg_install_prefix "$work/inst"
pg_cluster_start "$work/pg" "$(free_port)" \
    "shared_buffers = 2GB" "maintenance_work_mem = 2GB" "fsync = off" \
    "full_page_writes = on" "wal_level = replica" "wal_compression = off" \
    "max_wal_size = 64GB" "min_wal_size = 1GB" "checkpoint_timeout = 1h" \
    "autovacuum = off" "jit = off" "max_worker_processes = 16" "max_parallel_workers = 16" \
    "max_parallel_maintenance_workers = 0"
export PGDATABASE=postgres
psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1)
sql() { "${psql[@]}" -At "$@"; }
# A CHECKPOINT, then sync: with fsync off the checkpoint leaves its writes
# in the kernel's page cache, and their writeback would otherwise run during
# the next measurement (the first query round after the builds ran about
# 40% slower than the later ones before this)
checkpoint() { sql -c "CHECKPOINT"; sync; }

say "== loading 60000 training images"
# Default storage on purpose: a 784-dimension vector is 3144 bytes, over the
# 2 kB TOAST threshold, so the type's default storage (external) moves every
# vector out of line into the TOAST table, uncompressed.  That is what users
# get, and it is what the index build (reading the heap), the inserts (WAL
# for the TOAST chunks and the TOAST index) and the exact scan (two chunk
# fetches per distance) pay for here.  (exact_scan.sh uses STORAGE PLAIN to
# time the kernels; this benchmark times what a user sees.)  No primary key:
# the WAL and time of inserts and VACUUM are those of the heap, its TOAST
# table and the hnsw index only.
sql <<'SQL'
CREATE EXTENSION vecdb;
CREATE TABLE items (id int, v vector(784));
SQL
"$work/idx_to_copy" <"$train" | "${psql[@]}" -c "COPY items (id, v) FROM STDIN"
sql -c "VACUUM (ANALYZE) items"
checkpoint
IFS='|' read -r nrows heap_size toast_size < <(sql -F '|' -c \
    "SELECT count(*), pg_relation_size('items'),
            pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE relname = 'items'))
     FROM items")
say "items: $nrows rows; heap $((heap_size / 1048576)) MB, TOAST $((toast_size / 1048576)) MB"
has_hnsw=$(sql -c "SELECT count(*) FROM pg_am WHERE amname = 'hnsw'")

wait "$truth_pid" || { truth_pid=; say "hnsw_truth failed"; exit 1; }
truth_pid=
[ "$(wc -l <"$work/truth.txt")" -eq "$queries" ] || { say "hnsw_truth wrote a short file"; exit 1; }

# ---- results: CSV rows "system,metric,workers,ef_search,value,unit,note"
csv=$work/hnsw.csv
echo "system,metric,workers,ef_search,value,unit,note" >"$csv"
# (the note, last, is always quoted: it may hold commas)
row() { printf '%s,%s,%s,%s,%s,%s,"%s"\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7//\"/\"\"}" >>"$csv"; }
# helper output "metric,ef,value,unit" as rows of SYSTEM with WORKERS and a note
rows_from() {
    awk -F, -v s="$1" -v w="$2" -v n="$3" 'NF == 4 { printf "%s,%s,%s,%s,%s,%s,\"%s\"\n", s, $1, w, $2, $3, $4, n }' >>"$csv"
}
# rows of SYSTEM with WORKERS and NOTE from several rounds' helper output
# (files of "metric,ef,value,unit", in round order): per metric and ef the
# median round's value (the lower of the middle two for an even number of
# rounds: always a measured figure), every round's in the note; metrics of the build and the plan are
# left out (they are not per round)
combine() {
    local system=$1 workers=$2 note=$3
    shift 3
    NOTE=${note//\"/\"\"} awk -F, -v s="$system" -v w="$workers" '
        NF == 4 && $1 !~ /^(build_s|index_bytes|uses_index|cpu)$/ {
            k = $1 SUBSEP $2
            if (!(k in cnt)) { order[++no] = k; unit[k] = $4 }
            v[k, ++cnt[k]] = $3
        }
        END {
            for (i = 1; i <= no; i++) {
                k = order[i]; c = cnt[k]; list = ""
                for (a = 1; a <= c; a++) { x[a] = v[k, a] + 0; o[a] = v[k, a]; list = list (a > 1 ? " " : "") v[k, a] }
                for (a = 2; a <= c; a++) {
                    t = x[a]; u = o[a]; b = a - 1
                    while (b >= 1 && x[b] > t) { x[b + 1] = x[b]; o[b + 1] = o[b]; b-- }
                    x[b + 1] = t; o[b + 1] = u
                }
                med = o[int((c + 1) / 2)]
                split(k, kk, SUBSEP)
                printf "%s,%s,%s,%s,%s,%s,\"%s; rounds: %s\"\n", s, kk[1], w, kk[2], med, unit[k], ENVIRON["NOTE"], list
            }
        }' "$@" >>"$csv"
}
# value of one CSV row (empty when absent)
get() { awk -F, -v s="$1" -v m="$2" -v w="$3" -v e="$4" '$1 == s && $2 == m && $3 == w && $4 == e { v = $5 } END { print v }' "$csv"; }

# WAL between two LSNs by pg_waldump --stats: "RECORDS FPI_BYTES BREAKDOWN",
# the breakdown the bytes per resource manager, e.g. Heap=123;Btree=45
# (nothing if the WAL could not be read)
wal_detail() {
    "$PG_BIN/pg_waldump" -p "$work/pg/data/pg_wal" -s "$1" -e "$2" --stats 2>/dev/null |
        awk '{ gsub(/\([^)]*\)|\[[^]]*\]/, "") }
             $1 == "Total" && NF == 5 { recs = $2; fpi = $4 }
             $1 != "Total" && NF == 5 && $2 ~ /^[0-9]+$/ && $5 > 0 { by = by (by == "" ? "" : ";") $1 "=" $5 }
             END { if (recs != "") print recs, fpi, by }' || true
}
lsn() { sql -c "SELECT pg_current_wal_insert_lsn()"; }
lsn_diff() { sql -c "SELECT pg_wal_lsn_diff('$1', '$2')::bigint"; }

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
row run date "" "" "" "" "$(date -u +%Y-%m-%dT%H:%MZ)"
row run machine "" "" "$(nproc)" cores "$cpu; $(free -g | awk '/^Mem:/ { print $2 }') GiB"
row run postgres "" "" "" "" "$(sql -c 'SHOW server_version')"
row run data "" "" "$nrows" rows "Fashion-MNIST train 784 dims L2; queries: first $queries test images"
row run hnsw_params "" "" "" "" "m=$m ef_construction=$efc; $passes timed passes per ef"
row run query_cpu "" "" "$bench_cpu" cpu "hnswlib, the SQL client and its backend bound to this CPU (system vecdb-sched: SQL again, unbound)"
# the machine is shared: the load average before and after tells whether
# something else ran at the same time
row run loadavg_start "" "" "$load_start" "" "1-minute load average when the script started (other jobs)"
row run c_flags "" "" "" "" "$(cc --version | head -n 1) $cflags"
row run cxx_flags "" "" "" "" "$(g++ --version | head -n 1) $cxxflags; hnswlib $(dpkg-query -W -f='${Version}' libhnswlib-dev 2>/dev/null)"

say "== hnswlib on CPU $bench_cpu: build (1 thread, M=$m, efConstruction=$efc), saved for the query rounds"
taskset -c "$bench_cpu" "$work/hnswlib_bench" "$train" "$test" "$work/truth.txt" "$queries" "$passes" "$m" "$efc" "" "$work/hnswlib.bin" |
    rows_from hnswlib "" "1 thread"

if [ "$has_hnsw" = 0 ]; then
    say "!! the extension has no hnsw access method: skipping every index measurement"
    row vecdb skipped "" "" "" "" "no hnsw access method in this build"
fi

# ---- builds
index=
if [ "$has_hnsw" != 0 ]; then
    for w in $workers_list; do
        name=items_v_w$w
        say "== CREATE INDEX ... USING hnsw, max_parallel_maintenance_workers = $w"
        # No ALTER TABLE ... SET (parallel_workers): the heap holds only TOAST
        # pointers (~3 MB), and the build counts the TOAST pages to size itself.
        checkpoint
        # the parallel workers that show up in pg_stat_activity, sampled
        rm -f "$work/seen"
        (
            max=0
            while :; do
                n=$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'" 2>/dev/null || echo 0)
                if [ "$n" -gt "$max" ]; then max=$n; echo "$max" >"$work/seen"; fi
                sleep 0.5
            done
        ) &
        sampler=$!
        l0=$(lsn)
        out=$({
            echo "SET maintenance_work_mem = '2GB';"
            echo "SET max_parallel_maintenance_workers = $w;"
            echo "SET client_min_messages = debug1;"
            printf '%s\n' '\timing on'
            echo "CREATE INDEX $name ON items USING hnsw (v vector_l2_ops) WITH (m = $m, ef_construction = $efc);"
        } | sql 2>&1)
        l1=$(lsn)
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        sampler=
        ms=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
        [ -n "$ms" ] || { say "no timing from psql: $out"; exit 1; }
        seen=$(cat "$work/seen" 2>/dev/null || echo 0)
        launched=$(printf '%s\n' "$out" | sed -n 's/.*hnsw build of "[^"]*": \([0-9]*\) of.*/\1/p' | tail -n 1)
        seen="$seen (launched: ${launched:-0})"
        size=$(sql -c "SELECT pg_relation_size('$name')")
        wal=$(lsn_diff "$l1" "$l0")
        read -r recs fpi by < <(wal_detail "$l0" "$l1"; echo) || true
        row vecdb build_s "$w" "" "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')" s "parallel workers seen: $seen"
        row vecdb index_bytes "$w" "" "$size" bytes ""
        row vecdb build_wal_bytes "$w" "" "$wal" bytes "${fpi:+$recs records; full-page images $fpi bytes; by resource manager $by}"
        say "   $(awk -v ms="$ms" 'BEGIN { printf "%.1f", ms / 1000 }') s, index $((size / 1048576)) MB, WAL $((wal / 1048576)) MB, parallel workers seen: $seen"
        if [ -z "$index" ]; then index=$name; else sql -c "DROP INDEX $name"; fi
    done
    checkpoint
    w0=${workers_list%% *}

    # Twice: the client and its backend bound to one CPU (the figures
    # compared with hnswlib, which runs on that CPU too), then unbound.
    # Unbound, the scheduler often puts them on different CPUs, and then
    # every round trip wakes the other CPU: in a virtual machine that alone
    # costs tens of microseconds per query, and whether it happens changes
    # from run to run (docs/benchmarks.md).
fi
# In rounds, the three in turn, so that a slower spell of the machine hits
# all three alike; each figure is the median round's.  A helper that fails
# stops the script with its messages.
run_round() { # OUT ERR COMMAND...: the command's CSV to OUT, its messages to ERR
    local out=$1 err=$2
    shift 2
    "$@" >"$out" 2>"$err" || { say "!! $* failed:"; cat "$err" >&2; exit 1; }
}
for r in $(seq 1 "$rounds"); do
    say "== round $r of $rounds: hnswlib on CPU $bench_cpu"
    run_round "$work/round${r}_hnswlib.csv" "$work/round${r}_hnswlib.err" \
        taskset -c "$bench_cpu" "$work/hnswlib_bench" "$train" "$test" "$work/truth.txt" "$queries" "$passes" load "$efs_csv" "$work/hnswlib.bin"
    [ "$has_hnsw" != 0 ] || continue
    say "== round $r of $rounds: queries through SQL on CPU $bench_cpu, $queries per ef_search, warm-up and $passes timed passes (index of the build with $w0 workers)"
    HNSW_BENCH_CPU=$bench_cpu run_round "$work/round${r}_vecdb.csv" "$work/round${r}_vecdb.err" \
        "$work/hnsw_sql_bench" search "$test" "$work/truth.txt" "$queries" "$passes" index "$efs_csv"
    [ "$r" -gt 1 ] || grep -A3 'ef_search' "$work/round1_vecdb.err" | head -n 4 >&2 || true
    say "== round $r of $rounds: the same, unbound"
    run_round "$work/round${r}_sched.csv" "$work/round${r}_sched.err" \
        "$work/hnsw_sql_bench" search "$test" "$work/truth.txt" "$queries" "$passes" index "$efs_csv"
done
rm -f "$work/hnswlib.bin"
round_files() { for r in $(seq 1 "$rounds"); do echo "$work/round${r}_$1.csv"; done; }
# shellcheck disable=SC2046
combine hnswlib "" "1 thread, CPU $bench_cpu" $(round_files hnswlib)
if [ "$has_hnsw" != 0 ]; then
    grep -E '^(uses_index|cpu),' "$work/round1_vecdb.csv" | rows_from vecdb "$w0" "round 1"
    # shellcheck disable=SC2046
    combine vecdb "$w0" "SQL prepared statement, 1 client; client and backend on CPU $bench_cpu" $(round_files vecdb)
    # shellcheck disable=SC2046
    combine vecdb-sched "$w0" "SQL prepared statement, 1 client; client and backend where the scheduler puts them" $(round_files sched)
fi

say "== exact scan through SQL: $exact_queries queries, enable_indexscan = off, warm-up then timed"
HNSW_BENCH_CPU=$bench_cpu "$work/hnsw_sql_bench" search "$test" "$work/truth.txt" "$exact_queries" 1 exact 2>"$work/plans.txt" |
    rows_from vecdb-exact "" "enable_indexscan=off; $exact_queries queries; client and backend on CPU $bench_cpu"
grep -A4 '(exact)' "$work/plans.txt" >&2 || true

# ---- inserts: the same rows into a table without an index first (the
# heap + TOAST baseline), then into items; each as two batches of half, the
# first right after a CHECKPOINT (every page touched for the first time
# since the checkpoint is logged whole), the second straight after it
half=$((inserts / 2))
insert_batches() { # TABLE SYSTEM
    local table=$1 system=$2 l0 l1 recs fpi by
    checkpoint
    for batch in after_checkpoint steady; do
        if [ "$batch" = after_checkpoint ]; then first=0; n=$half; else first=$half; n=$((inserts - half)); fi
        l0=$(lsn)
        HNSW_BENCH_CPU=$bench_cpu "$work/hnsw_sql_bench" insert "$table" "$test" "$train" "$queries" "$first" "$n" |
            awk -F, -v b="$batch" 'NF == 4 { print "insert_" $1 "_" b "," $2 "," $3 "," $4 }' |
            rows_from "$system" "" "single-row INSERTs in one transaction; client and backend on CPU $bench_cpu"
        l1=$(lsn)
        read -r recs fpi by < <(wal_detail "$l0" "$l1"; echo) || true
        [ -z "$fpi" ] || row "$system" "insert_wal_fpi_bytes_$batch" "" "" "$fpi" bytes "$recs records; by resource manager $by"
    done
}
say "== $inserts single-row INSERTs into a table without an index (baseline)"
sql -c "CREATE TABLE items_noindex (id int, v vector(784))"
insert_batches items_noindex vecdb-noindex
sql -c "DROP TABLE items_noindex"

if [ "$has_hnsw" != 0 ]; then
    say "== $inserts single-row INSERTs into items with its hnsw index"
    insert_batches items vecdb
    for batch in after_checkpoint steady; do
        say "   $batch: $(get vecdb "insert_rows_per_s_$batch" "" "") rows/s, $(get vecdb "insert_wal_bytes_per_row_$batch" "" "") WAL bytes/row (without index: $(get vecdb-noindex "insert_wal_bytes_per_row_$batch" "" ""))"
    done
    row vecdb index_bytes_after_inserts "$w0" "" "$(sql -c "SELECT pg_relation_size('$index')")" bytes ""

    say "== DELETE every 7th row, then VACUUM"
    total=$(sql -c "SELECT count(*) FROM items")
    deleted=$(sql -c "WITH d AS (DELETE FROM items WHERE id % 7 = 0 RETURNING 1) SELECT count(*) FROM d")
    checkpoint
    l0=$(lsn)
    # INDEX_CLEANUP ON: the index is always vacuumed (with 1 row in 7 dead on
    # every heap page, "auto" would do it anyway)
    out=$(printf '%s\n' '\timing on' "VACUUM (INDEX_CLEANUP ON) items;" | sql)
    l1=$(lsn)
    ms=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
    row vecdb vacuum_s "$w0" "" "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')" s "after deleting $deleted of $total rows (id % 7 = 0)"
    read -r recs fpi by < <(wal_detail "$l0" "$l1"; echo) || true
    row vecdb vacuum_wal_bytes "$w0" "" "$(lsn_diff "$l1" "$l0")" bytes "${fpi:+$recs records; full-page images $fpi bytes; by resource manager $by}"
    row vecdb index_bytes_after_vacuum "$w0" "" "$(sql -c "SELECT pg_relation_size('$index')")" bytes ""
    # what the index finds after all that (informative: ground truth is for
    # the 60,000 training rows, a sixth of which are now gone)
    say "   VACUUM $(get vecdb vacuum_s "$w0" "") s"
fi
row run loadavg_end "" "" "$(cut -d ' ' -f 1 /proc/loadavg)" "" "1-minute load average at the end (this script's own load included: about 1)"
row run duration_s "" "" "$(($(date +%s) - started))" s "whole script"

mkdir -p "$results"
mv "$csv" "$results/hnsw.csv"
csv=$results/hnsw.csv

# ---- plot: recall@10 against QPS, one line per system, exact scan a point
for s in vecdb vecdb-sched hnswlib; do
    w=
    if [ $s != hnswlib ]; then w=${w0:-}; fi
    for ef in $ef_list; do
        r=$(get "$s" recall_at_10 "$w" "$ef")
        [ -z "$r" ] || echo "$r $(get "$s" qps "$w" "$ef") $ef"
    done >"$work/plot_$s.dat"
done
echo "$(get vecdb-exact recall_at_10 "" "") $(get vecdb-exact qps "" "") exact" >"$work/plot_exact.dat"
plot_title="Fashion-MNIST 60k x 784, L2, m=$m ef_construction=$efc, $queries queries, 1 client"
plots=()
[ ! -s "$work/plot_vecdb.dat" ] || plots+=("'$work/plot_vecdb.dat' using 1:2 with linespoints pt 7 lc rgb '#1f77b4' title 'vecdb hnsw (SQL, libpq; client and backend on one CPU)', '' using 1:2:3 with labels offset 0,1 tc rgb '#1f77b4' notitle")
[ ! -s "$work/plot_vecdb-sched.dat" ] || plots+=("'$work/plot_vecdb-sched.dat' using 1:2 with linespoints pt 6 dt 2 lc rgb '#1f77b4' title 'vecdb hnsw (the same, unbound)'")
plots+=("'$work/plot_hnswlib.dat' using 1:2 with linespoints pt 5 lc rgb '#d62728' title 'hnswlib (in process, 1 thread)', '' using 1:2:3 with labels offset 0,-1 tc rgb '#d62728' notitle")
plots+=("'$work/plot_exact.dat' using 1:2 with points pt 9 ps 2 lc rgb '#2ca02c' title 'vecdb exact scan (SQL)'")
if command -v gnuplot >/dev/null; then
    term=png
    gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && term=pngcairo
    gnuplot <<GP || say "gnuplot failed; no plot"
set terminal $term size 900,600
set output '$results/hnsw_recall_qps.png'
set title "$plot_title" noenhanced
set xlabel 'recall@10' noenhanced
set ylabel 'queries per second'
set logscale y
set xrange [*:1.005]
set grid
set key bottom left
$(IFS=,; echo "plot ${plots[*]}")
GP
fi

# ---- summary
fmt_mb() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }' || echo "-"; }
echo
echo "hnsw benchmark: $plot_title"
echo "$cpu, $(nproc) cores; C: $cflags; C++ (hnswlib): $cxxflags"
echo "QPS: the median of $rounds rounds, each the median of $passes timed passes after a warm-up; 1-minute load average $(get run loadavg_start "" "") at the start, $(get run loadavg_end "" "") at the end"
echo
printf '%-26s %12s %12s %12s\n' build "time s" "size MB" "WAL MB"
printf '%-26s %12s %12s %12s\n' "hnswlib, 1 thread" "$(get hnswlib build_s "" "")" "$(fmt_mb "$(get hnswlib index_bytes "" "")")" "-"
if [ "$has_hnsw" != 0 ]; then
    for w in $workers_list; do
        printf '%-26s %12s %12s %12s\n' "vecdb, $w parallel workers" "$(get vecdb build_s "$w" "")" \
            "$(fmt_mb "$(get vecdb index_bytes "$w" "")")" "$(fmt_mb "$(get vecdb build_wal_bytes "$w" "")")"
    done
fi
echo
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
printf '%-10s %13s %10s %8s %9s   %13s %10s   %10s %8s\n' ef_search "vecdb recall" "vecdb QPS" "p99 ms" "/hnswlib" "hnswlib recall" "QPS" "unbound" "/hnswlib"
for ef in $ef_list; do
    q=$(get vecdb qps "${w0:-}" "$ef"); qs=$(get vecdb-sched qps "${w0:-}" "$ef"); h=$(get hnswlib qps "" "$ef")
    printf '%-10s %13s %10s %8s %9s   %13s %10s   %10s %8s\n' "$ef" "$(get vecdb recall_at_10 "${w0:-}" "$ef")" "$q" \
        "$(get vecdb latency_ms_p99 "${w0:-}" "$ef")" "$(ratio "$q" "$h")" "$(get hnswlib recall_at_10 "" "$ef")" "$h" "$qs" "$(ratio "$qs" "$h")"
done
printf '%-10s %14s %12s %14s   (%s queries)\n' exact "$(get vecdb-exact recall_at_10 "" "")" "$(get vecdb-exact qps "" "")" \
    "$(get vecdb-exact latency_ms_p99 "" "")" "$exact_queries"
# QPS at equal recall: log(QPS) interpolated linearly in recall between the
# two ef values around it (nothing when no two ef values span it)
at_recall() { # SYSTEM WORKERS RECALL
    for ef in $ef_list; do echo "$(get "$1" recall_at_10 "$2" "$ef") $(get "$1" qps "$2" "$ef")"; done |
        awk -v t="$3" 'BEGIN { n = 0 } NF == 2 { r[n] = $1; q[n] = $2; n++ }
            END { for (i = 0; i + 1 < n; i++)
                      if (r[i] <= t && t <= r[i + 1] && r[i + 1] > r[i]) {
                          f = (t - r[i]) / (r[i + 1] - r[i]); printf "%.0f", exp(log(q[i]) + f * (log(q[i + 1]) - log(q[i]))); exit } }'
}
echo
for target in 0.95 0.975 0.99; do
    q=$(at_recall vecdb "${w0:-}" $target); qs=$(at_recall vecdb-sched "${w0:-}" $target); h=$(at_recall hnswlib "" $target)
    [ -n "$h" ] && [ -n "$q" ] || continue
    unbound=
    [ -z "$qs" ] || unbound="unbound $qs, $(ratio "$qs" "$h")"
    row vecdb "qps_at_recall_$target" "${w0:-}" "" "$q" queries/s "interpolated; hnswlib $h; ratio $(ratio "$q" "$h")${unbound:+; $unbound}"
    echo "at recall@10 $target (interpolated): vecdb $q QPS = $(ratio "$q" "$h") of hnswlib's $h${unbound:+ ($unbound)}"
done
echo
printf '%-28s %10s %12s %12s   %s\n' "$inserts INSERTs, 2 batches" "rows/s" "WAL B/row" "FPI B/row" "(single-row INSERTs, one transaction per batch)"
for sys in vecdb vecdb-noindex; do
    for batch in after_checkpoint steady; do
        n=$(get "$sys" "insert_rows_$batch" "" "")
        [ -n "$n" ] || continue
        fpi=$(get "$sys" "insert_wal_fpi_bytes_$batch" "" "")
        printf '%-28s %10s %12s %12s\n' "$([ "$sys" = vecdb ] && echo "hnsw index" || echo "no index"), $batch" \
            "$(get "$sys" "insert_rows_per_s_$batch" "" "")" "$(get "$sys" "insert_wal_bytes_per_row_$batch" "" "")" \
            "$([ -n "$fpi" ] && awk -v f="$fpi" -v n="$n" 'BEGIN { printf "%.0f", f / n }')"
    done
done
if [ "$has_hnsw" != 0 ]; then
    echo
    echo "VACUUM after deleting every 7th row: $(get vecdb vacuum_s "$w0" "") s, WAL $(fmt_mb "$(get vecdb vacuum_wal_bytes "$w0" "")") MB;" \
        "index $(fmt_mb "$(get vecdb index_bytes "$w0" "")") MB built, $(fmt_mb "$(get vecdb index_bytes_after_inserts "$w0" "")") MB after inserts," \
        "$(fmt_mb "$(get vecdb index_bytes_after_vacuum "$w0" "")") MB after VACUUM"
else
    echo
    echo "NOTE: no hnsw access method in the extension: index measurements skipped"
fi
echo
echo "wrote ${results#"$VECDB_ROOT"/}/hnsw.csv and hnsw_recall_qps.png ($(($(date +%s) - started)) s)"

#!/usr/bin/env bash
# Property tests of the hnsw index access method.  Prints TAP.
#
#   test_hnsw.sh WORKDIR
#
# PG_BIN and VECDB_ROOT must be set, and PGHOST/PGPORT name the cluster
# tests/run.sh started: the single-cluster tests run there, in a database of
# their own.  The crash and standby tests start clusters of their own under
# WORKDIR and always stop them.  Every psql has a time limit, so an index that
# hangs makes tests fail, not the run hang.
#
#   HNSW_TESTS="recall duplicates concurrent crash standby memory unlogged parallel vacuum reuse"
#                 run only these tests (default: all)
#   HNSW_JOBS=2   tests running at once (the machine has 2 cores)
#   HNSW_TIMEOUT=240    seconds one psql may run
#   HNSW_DEADLINE=900   seconds for the whole suite: after that every psql
#                       fails at once, so the remaining tests end quickly
set -uo pipefail
. "$VECDB_ROOT/tests/lib/pg.sh"

work=$1
mkdir -p "$work" && chmod 755 "$work"
tests=${HNSW_TESTS:-recall duplicates concurrent crash standby memory unlogged parallel vacuum reuse}
jobs=${HNSW_JOBS:-2}
limit=${HNSW_TIMEOUT:-240}
deadline=$((SECONDS + ${HNSW_DEADLINE:-900}))
main_host=$PGHOST main_port=$PGPORT
db=vecdb_hnsw
export PGOPTIONS="-c statement_timeout=$((limit - 10))s -c lock_timeout=60s"
export PGUSER=postgres
unset PGDATABASE

want() { case " $tests " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# time_left: seconds the next command may take (exit 1 when past the deadline)
time_left() {
    local t=$((deadline - SECONDS))
    [ $t -gt "$limit" ] && t=$limit
    echo "$t"
    [ $t -gt 0 ]
}

# psql_at HOST PORT DB [psql args]: statements from stdin (each in its own
# transaction), tuples only, stop at the first error, within the time limit
psql_at() {
    local host=$1 port=$2 d=$3 t
    shift 3
    t=$(time_left) || { echo "past the suite's deadline" >&2; return 124; }
    timeout -k 5 "$t" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$host" -p "$port" -d "$d" "$@"
}
q() { psql_at "$main_host" "$main_port" "$db" "$@"; }

# Each test writes its results to its own file ($res) as "ok - ..." or
# "not ok - ..." lines and "# ..." diagnostics; the files are numbered into one
# TAP stream at the end, so tests can run at the same time.
res=/dev/null
ok() {  # ok STATUS DESCRIPTION [DIAGNOSTIC...]
    local status=$1 desc=$2 line
    shift 2
    if [ "$status" -eq 0 ]; then echo "ok - $desc"; else echo "not ok - $desc"; fi >>"$res"
    if [ "$status" -ne 0 ]; then
        for line in "$@"; do printf '%s\n' "$line" | head -n 40 | sed 's/^/#   /' >>"$res"; done
    fi
    return "$status"
}
note() { printf '%s\n' "$@" | sed 's/^/# /' >>"$res"; }

# expect DESCRIPTION WANT GOT: ok when GOT is WANT
expect() {
    [ "$3" = "$2" ]
    ok $? "$1" "expected: $2" "got: $3"
}

# check_recall DESC TABLE INDEX QUERIES OP EF [HOST PORT]: recall@10 >= 0.95
# and 10 rows for every query
check_recall() {
    local desc=$1 tbl=$2 idx=$3 queries=$4 op=$5 ef=$6 host=${7:-$main_host} port=${8:-$main_port} out r w n nq st
    out=$(psql_at "$host" "$port" "$db" -F ' ' 2>&1 <<<"SELECT round(recall::numeric, 4), worst, returned FROM hnsw_test.recall('$tbl', '$idx', '$queries', '$op', 10, $ef)")
    st=$?
    if [ $st -ne 0 ]; then ok 1 "$desc: recall@10" "$out"; return; fi
    read -r r w n <<<"$out"
    nq=$(psql_at "$host" "$port" "$db" <<<"SELECT count(*) FROM $queries")
    awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }' && [ "$n" = "$((10 * nq))" ]
    ok $? "$desc: recall@10 = $r (>= 0.95, ef_search $ef)" \
        "worst query found $w of its 10 nearest; the index scans returned $n rows for $nq queries of LIMIT 10"
}

# check_verify DESC INDEX [HOST PORT]: vecdb.hnsw_verify finds nothing.
#
# $unreachable_ok (default 0) unreachable nodes are tolerated, and shown as a
# note: inner-product and Jaccard graphs, where pruning is least like a
# metric's, can still lose a node's last incoming link to an insert, about
# once in 20,000 inserts here (docs/hnsw.md); any other problem fails.
unreachable_ok=0
check_verify() {
    local desc=$1 idx=$2 host=${3:-$main_host} port=${4:-$main_port} out n
    out=$(psql_at "$host" "$port" "$db" 2>&1 <<<"SELECT hnsw_test.problems('$idx')")
    if [ "$out" != clean ] && [ "$unreachable_ok" -gt 0 ]; then
        n=$(psql_at "$host" "$port" "$db" 2>&1 <<<"SELECT count(*) FILTER (WHERE p ~ '^node [0-9]+ is not reachable from the entry point$') || ' ' || count(*) FILTER (WHERE p !~ 'is not reachable from the entry point') FROM vecdb.hnsw_verify('$idx') p")
        if [ "${n#* }" = 0 ] && [ "${n% *}" -le "$unreachable_ok" ]; then
            note "$desc: ${n% *} unreachable node(s) tolerated: $out"
            out=clean
        fi
    fi
    [ "$out" = clean ]
    ok $? "$desc: hnsw_verify finds no problem" "$out"
}

# check_lost DESC TABLE INDEX [HOST PORT]: every row comes first in an index
# scan for its own vector
check_lost() {
    local desc=$1 tbl=$2 idx=$3 host=${4:-$main_host} port=${5:-$main_port} out
    out=$(psql_at "$host" "$port" "$db" -F ' ' 2>&1 <<<"SELECT lost, coalesce(sample, '') FROM hnsw_test.lost('$tbl', '$idx')")
    case "$out" in "0 ") true ;; *) false ;; esac
    ok $? "$desc: every row is found by an index scan for its own vector" "lost: $out"
}

# check_reuse DESC STATUS OUTPUT: OUTPUT is "size free" before and after some
# inserts; the index may grow only if no freed slot is left (every one was
# reused first).  How many VACUUM could free depends on other sessions'
# snapshots (tests run side by side), so the assertion does not count them.
check_reuse() {
    local desc=$1 st=$2 out=$3 s1 f1 s2 f2
    read -r s1 f1 <<<"$(echo "$out" | sed -n 1p)"
    read -r s2 f2 <<<"$(echo "$out" | sed -n 2p)"
    [ "$st" -eq 0 ] && [ -n "$f2" ] && { [ "$s2" = "$s1" ] || [ "$f2" = 0 ]; }
    ok $? "$desc: freed slots are reused before the index grows" \
        "index size and free slots before and after the inserts, or the error:" "$out"
}

# setup_db HOST PORT: the test database with the extension and the helpers
setup_db() {
    psql_at "$1" "$2" postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null &&
    psql_at "$1" "$2" "$db" -c "CREATE EXTENSION vecdb" -f "$VECDB_ROOT/tests/hnsw/helpers.sql" >/dev/null
}

# The extra clusters live in these directories under $work.  A test names the
# ones it starts in $mine; they are stopped when it ends, also when it fails or
# is interrupted, and all of them when the suite ends.
mine=""
bg_pids=()
start_cluster() {  # start_cluster DIR PORT [setting...]: in a subshell, so PGHOST stays
    (pg_cluster_start "$@") 2>&1
}
cleanup() {
    local d p
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
    for d in $mine; do pg_cluster_stop "$work/$d"; done
}

# ---------------------------------------------------------------------------
# 1. recall@10 >= 0.95 for each operator class after a build, after inserts,
# and after deleting half, inserting again and VACUUM; hnsw_verify after each
#
# Float data: 20 standard normal components, on which hnswlib with the same
# m, ef_construction and ef_search finds 0.98 to 1.0 of the 10 nearest.  Bit
# data: 64 fair bits, whose distances tie a lot and spread little (hnswlib:
# 0.96 for Jaccard at ef_search 100), so the bit classes search with 200.
opclasses="vector_l2_ops vector <-> 20 100
vector_ip_ops vector <#> 20 100
vector_cosine_ops vector <=> 20 100
vector_l1_ops vector <+> 20 100
halfvec_l2_ops halfvec <-> 20 100
halfvec_ip_ops halfvec <#> 20 100
halfvec_cosine_ops halfvec <=> 20 100
halfvec_l1_ops halfvec <+> 20 100
bit_hamming_ops bit <~> 64 200
bit_jaccard_ops bit <%> 64 200"

test_recall() {  # test_recall OPCLASS TYPE OP DIM EF
    local opc=$1 typ=$2 op=$3 dim=$4 ef=$5 t=r_$1 gen out st
    case $opc in *_ip_ops | bit_jaccard_ops) unreachable_ok=3 ;; esac
    if [ "$typ" = bit ]; then gen="hnsw_test.bits(SEED, i, $dim)"; else gen="hnsw_test.gauss(SEED, i, $dim)"; fi
    ins() { echo "INSERT INTO $t SELECT i, ${gen//SEED/$1} FROM generate_series($2, $3) i;"; }
    out=$(q 2>&1 <<SQL
CREATE TABLE $t (id int, v $typ($dim));
CREATE TABLE ${t}_q (id int, v $typ($dim));
$(ins 1 1 10000)
INSERT INTO ${t}_q SELECT i, ${gen//SEED/2} FROM generate_series(1, 50) i;
CREATE INDEX ${t}_idx ON $t USING hnsw (v $opc) WITH (m = 16, ef_construction = 64);
SQL
)
    st=$?
    ok $st "$opc: CREATE INDEX on 10,000 rows of $typ($dim)" "$out"
    check_recall "$opc after the build" "$t" "${t}_idx" "${t}_q" "$op" "$ef"
    check_verify "$opc after the build" "${t}_idx"

    out=$(q 2>&1 <<SQL
$(ins 1 10001 11000)
$(seq 11001 11200 | awk -v t="$t" -v g="${gen//SEED/1}" '{ s = g; sub(/, i,/, ", " $1 ",", s); print "INSERT INTO " t " VALUES (" $1 ", " s ");" }')
$(ins 1 11201 12000)
SQL
)
    ok $? "$opc: 2,000 inserts (200 single-row) into the indexed table" "$out"
    check_recall "$opc after 2,000 inserts" "$t" "${t}_idx" "${t}_q" "$op" "$ef"
    check_verify "$opc after 2,000 inserts" "${t}_idx"

    # delete every other row; insert half of them again unchanged (their
    # vectors are still in the graph, as dead tuples) and half with new
    # vectors; VACUUM; then 2,500 more rows into the space VACUUM freed (the
    # re-inserted copies joined their old nodes, so about 3,000 nodes are
    # freed, more than the metapage's list of 1,500 holds, if no other
    # session's snapshot keeps the deleted rows): the index grows only once
    # every freed slot is reused
    out=$(q -F ' ' 2>&1 <<SQL
DELETE FROM $t WHERE id % 2 = 0;
INSERT INTO $t SELECT i, ${gen//SEED/1} FROM generate_series(4, 12000, 4) i;
INSERT INTO $t SELECT i, ${gen//SEED/3} FROM generate_series(2, 12000, 4) i;
VACUUM $t;
SELECT pg_relation_size('${t}_idx'), hnsw_test.free_slots('${t}_idx');
$(ins 4 12001 14500)
SELECT pg_relation_size('${t}_idx'), hnsw_test.free_slots('${t}_idx');
SQL
)
    check_reuse "$opc: delete half, insert again, VACUUM, insert 2,500" $? "$out"
    check_recall "$opc after delete, insert and VACUUM" "$t" "${t}_idx" "${t}_q" "$op" "$ef"
    check_verify "$opc after delete, insert and VACUUM" "${t}_idx"
    q >/dev/null 2>&1 <<<"DROP TABLE $t, ${t}_q"
}

# ---------------------------------------------------------------------------
# 2. 200 copies of one vector among 2,000 others, half of them there at the
# build and half inserted afterwards
test_duplicates() {
    local out dup sel
    dup="hnsw_test.gauss(12, 0, 16)::vector(16)"
    out=$(q 2>&1 <<SQL
CREATE TABLE dup (id int PRIMARY KEY, v vector(16));
INSERT INTO dup SELECT i, CASE WHEN i % 11 = 0 THEN $dup ELSE hnsw_test.gauss(11, i, 16)::vector(16) END FROM generate_series(1, 1100) i;
CREATE INDEX dup_idx ON dup USING hnsw (v vector_l2_ops);
INSERT INTO dup SELECT i, CASE WHEN i % 11 = 0 THEN $dup ELSE hnsw_test.gauss(11, i, 16)::vector(16) END FROM generate_series(1101, 2200) i;
SELECT count(*) FILTER (WHERE v = $dup) FROM dup;
SQL
)
    expect "duplicates: table and index with 200 copies of one vector among 2,000 others" 200 "$out"

    # dup_query SETTINGS LIMIT: rows, distinct ids, rows at distance 0
    dup_query() {
        sel="SELECT id, v <-> $dup AS d FROM dup ORDER BY v <-> $dup LIMIT $2"
        q -F ' ' 2>&1 <<SQL
SET enable_seqscan = off; SET enable_bitmapscan = off; $1
SELECT FROM hnsw_test.plan_uses('dup_idx', '${sel//\'/\'\'}');
SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE d = 0) FROM ($sel) x;
SQL
    }
    expect "duplicates: iterative_scan relaxed_order, ef_search 40, LIMIT 150: 150 rows at distance 0" \
        "150 150 150" "$(dup_query "SET hnsw.iterative_scan = relaxed_order;" 150)"
    expect "duplicates: iterative_scan strict_order, ef_search 40, LIMIT 150: 150 rows at distance 0" \
        "150 150 150" "$(dup_query "SET hnsw.iterative_scan = strict_order;" 150)"
    expect "duplicates: iterative_scan off, ef_search 200, LIMIT 150: 150 rows at distance 0" \
        "150 150 150" "$(dup_query "SET hnsw.iterative_scan = off; SET hnsw.ef_search = 200;" 150)"
    expect "duplicates: strict_order, LIMIT 201: all 200 copies, then another row" \
        "201 201 200" "$(dup_query "SET hnsw.iterative_scan = strict_order;" 201)"
    check_verify "duplicates" dup_idx

    out=$(q 2>&1 <<<"DELETE FROM dup WHERE id % 22 = 0; VACUUM dup;")
    ok $? "duplicates: delete 100 of the copies and VACUUM" "$out"
    expect "duplicates: after VACUUM, relaxed_order LIMIT 150 has the 100 copies left at distance 0" \
        "150 150 100" "$(dup_query "SET hnsw.iterative_scan = relaxed_order;" 150)"
    check_verify "duplicates after VACUUM" dup_idx
    q >/dev/null 2>&1 <<<"DROP TABLE dup"
}

# ---------------------------------------------------------------------------
# The tests that look every row up by its own vector use 8 dimensions: in 16
# and more, even a sound HNSW graph (hnswlib's too) has the odd row that a
# greedy search for its own vector does not reach, while a row that a race
# left unlinked stays unfound in any number of dimensions.
#
# 3. four sessions insert 2,500 rows each at the same time, in 500 single-row
# transactions and 20 of 100 rows, and update every 100th row to a vector the
# other sessions write too
conc_script() {  # conc_script WORKER: its SQL
    local w=$1 b base
    for b in $(seq 0 24); do
        base=$((w * 100000 + b * 100))
        if [ $((b % 6)) -eq 0 ]; then
            seq $((base + 1)) $((base + 100)) |
                awk '{ print "INSERT INTO conc VALUES (" $1 ", hnsw_test.gauss(21, " $1 ", 8));" }'
        else
            echo "INSERT INTO conc SELECT i, hnsw_test.gauss(21, i, 8) FROM generate_series($((base + 1)), $((base + 100))) i;"
        fi
        echo "UPDATE conc SET v = hnsw_test.gauss(22, $b, 8) WHERE id = $((base + 50));"
    done
}
test_concurrent() {
    local out w st=0 pids=()
    out=$(q 2>&1 <<SQL
CREATE TABLE conc (id int PRIMARY KEY, v vector(8));
INSERT INTO conc SELECT i, hnsw_test.gauss(21, i, 8) FROM generate_series(1, 500) i;
CREATE INDEX conc_idx ON conc USING hnsw (v vector_l2_ops);
SQL
)
    ok $? "concurrent: indexed table with 500 rows" "$out"
    for w in 1 2 3 4; do
        conc_script $w >"$work/conc$w.sql"
        q -f "$work/conc$w.sql" >"$work/conc$w.log" 2>&1 &
        pids+=($!)
    done
    for w in 1 2 3 4; do
        wait "${pids[$((w - 1))]}" || { st=1; note "session $w: $(tail -n 3 "$work/conc$w.log")"; }
    done
    ok $st "concurrent: 4 sessions inserting 2,500 rows each all succeed"
    expect "concurrent: no row is missing from the table" "10500" "$(q 2>&1 <<<"SELECT count(*) FROM conc")"
    check_lost "concurrent" conc conc_idx
    check_verify "concurrent" conc_idx
    q >/dev/null 2>&1 <<<"DROP TABLE conc"
}

# ---------------------------------------------------------------------------
# 4. kill -9 the postmaster of a cluster of our own while two sessions insert
# rows one statement at a time; after crash recovery every committed row is
# found through the index.  No checkpoint runs after the index is built, so
# recovery replays the build and every insert.
test_crash() {
    local dir=$work/crash port out pid i c st pids=()
    mine=crash
    port=$(free_port)
    out=$(start_cluster "$dir" "$port" "fsync = off" "checkpoint_timeout = 1h" "max_wal_size = 4GB")
    ok $? "crash: start a cluster" "$out" || return
    out=$(setup_db "$dir" "$port" 2>&1 && psql_at "$dir" "$port" "$db" 2>&1 <<SQL
CREATE TABLE crash (id int PRIMARY KEY, v vector(8));
INSERT INTO crash SELECT i, hnsw_test.gauss(31, i, 8) FROM generate_series(1, 2000) i;
CREATE UNLOGGED TABLE crash_u (id int PRIMARY KEY, v vector(8));
INSERT INTO crash_u SELECT i, hnsw_test.gauss(32, i, 8) FROM generate_series(1, 500) i;
CHECKPOINT;
CREATE INDEX crash_idx ON crash USING hnsw (v vector_l2_ops);
CREATE INDEX crash_u_idx ON crash_u USING hnsw (v vector_l2_ops);
SQL
)
    ok $? "crash: indexed table of 2,000 rows and an unlogged one" "$out"
    # each statement commits on its own; psql prints the id once it has
    for c in 1 2; do
        seq $((c * 100000 + 1)) $((c * 100000 + 20000)) |
            awk '{ print "INSERT INTO crash VALUES (" $1 ", hnsw_test.gauss(31, " $1 ", 8)) RETURNING id;" }' \
            >"$work/crash_load$c.sql"
        psql_at "$dir" "$port" "$db" -f "$work/crash_load$c.sql" >"$work/crash_ids$c" 2>"$work/crash_load$c.log" &
        pids+=($!)
        bg_pids+=($!)
    done
    for i in $(seq 1 600); do
        [ "$(cat "$work"/crash_ids? | wc -l)" -ge 2000 ] && break
        kill -0 "${pids[@]}" 2>/dev/null || break   # a load failed
        sleep 0.1
    done
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    kill -9 "$pid"
    ok $? "crash: kill -9 the postmaster ($pid) after $(cat "$work"/crash_ids? | wc -l) committed inserts"
    for c in 1 2; do wait "${pids[$((c - 1))]}"; done
    bg_pids=()
    # the orphaned backends exit when they notice; until then the old shared
    # memory is in use and the postmaster refuses to start
    for i in $(seq 1 60); do
        out=$(as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start 2>&1) && break
        sleep 1
    done
    grep -q 'redo done' "$dir/server.log"
    ok $? "crash: the cluster starts again after crash recovery" "$out" "$(tail -n 20 "$dir/server.log")"
    cat "$work"/crash_ids? >"$work/crash_committed"
    out=$(psql_at "$dir" "$port" "$db" 2>&1 <<SQL
CREATE TEMP TABLE committed (id int);
\\copy committed FROM '$work/crash_committed'
SELECT count(*) || ' committed, ' || count(*) FILTER (WHERE NOT EXISTS (SELECT FROM crash c WHERE c.id = m.id)) || ' missing' FROM committed m;
SQL
)
    case "$out" in *" committed, 0 missing") true ;; *) false ;; esac
    ok $? "crash: every committed row is in the table ($out)" "$out"
    check_lost "crash: after recovery" crash crash_idx "$dir" "$port"
    check_verify "crash: after recovery" crash_idx "$dir" "$port"
    out=$(psql_at "$dir" "$port" "$db" 2>&1 <<<"INSERT INTO crash SELECT i, hnsw_test.gauss(31, i, 8) FROM generate_series(1000001, 1000500) i")
    ok $? "crash: 500 inserts after recovery" "$out"
    check_lost "crash: after inserts after recovery" crash crash_idx "$dir" "$port"
    check_verify "crash: after inserts after recovery" crash_idx "$dir" "$port"
    expect "crash: the unlogged table is empty after the crash" 0 "$(psql_at "$dir" "$port" "$db" 2>&1 <<<"SELECT count(*) FROM crash_u")"
    out=$(psql_at "$dir" "$port" "$db" 2>&1 <<<"INSERT INTO crash_u SELECT i, hnsw_test.gauss(33, i, 8) FROM generate_series(1, 300) i")
    ok $? "crash: 300 inserts into the reset unlogged table" "$out"
    check_lost "crash: unlogged table after the crash" crash_u crash_u_idx "$dir" "$port"
    check_verify "crash: unlogged table after the crash" crash_u_idx "$dir" "$port"
    pg_cluster_stop "$dir"
}

# ---------------------------------------------------------------------------
# 5. a streaming standby replays the build, inserts, deletes and VACUUM and
# answers the same 20 queries with the same rows in the same order
test_standby() {
    local primary=$work/primary standby=$work/standby p1 p2 out lsn i a b
    mine="standby primary"
    p1=$(free_port)
    out=$(start_cluster "$primary" "$p1" "fsync = off")
    ok $? "standby: start a primary" "$out" || return
    out=$(setup_db "$primary" "$p1" 2>&1 && psql_at "$primary" "$p1" "$db" 2>&1 <<SQL
CREATE TABLE st (id int PRIMARY KEY, v vector(16));
INSERT INTO st SELECT i, hnsw_test.gauss(41, i, 16) FROM generate_series(1, 3000) i;
SQL
)
    ok $? "standby: a table of 3,000 rows on the primary" "$out"
    mkdir -p "$standby" && chmod 755 "$standby"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$standby"; fi
    out=$(as_pg_user timeout -k 5 "$(time_left)" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres \
        -D "$standby/data" -R -X stream -c fast 2>&1)
    ok $? "standby: pg_basebackup -R" "$out"
    p2=$(free_port)
    printf "port = %s\nunix_socket_directories = '%s'\n" "$p2" "$standby" |
        as_pg_user tee -a "$standby/data/postgresql.conf" >/dev/null
    out=$(start_cluster "$standby" "$p2")
    [ $? -eq 0 ] && [ "$(psql_at "$standby" "$p2" "$db" <<<"SELECT pg_is_in_recovery()")" = t ]
    ok $? "standby: starts and is in recovery" "$out" "$(tail -n 20 "$standby/server.log")"

    out=$(psql_at "$primary" "$p1" "$db" 2>&1 <<SQL
CREATE INDEX st_idx ON st USING hnsw (v vector_l2_ops);
INSERT INTO st SELECT i, hnsw_test.gauss(41, i, 16) FROM generate_series(3001, 5000) i;
DELETE FROM st WHERE id % 3 = 0;
VACUUM st;
INSERT INTO st SELECT i, hnsw_test.gauss(41, i, 16) FROM generate_series(5001, 6000) i;
UPDATE st SET v = hnsw_test.gauss(43, id, 16) WHERE id % 7 = 0;
SQL
)
    ok $? "standby: on the primary, build, insert, delete, VACUUM, insert, update" "$out"
    lsn=$(psql_at "$primary" "$p1" "$db" 2>&1 <<<"SELECT pg_current_wal_lsn()")
    for i in $(seq 1 240); do
        out=$(psql_at "$standby" "$p2" "$db" 2>&1 <<<"SELECT pg_last_wal_replay_lsn() >= '$lsn'")
        [ "$out" = t ] && break
        sleep 0.25
    done
    expect "standby: replays up to the primary's $lsn" t "$out"

    # standby_answers HOST PORT: the ids of the 10 nearest rows for 20 queries
    standby_answers() {
        local sel="SELECT s.id FROM st s ORDER BY s.v <-> hnsw_test.gauss(42, 1, 16)::vector(16) LIMIT 10"
        psql_at "$1" "$2" "$db" 2>&1 <<SQL
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT FROM hnsw_test.plan_uses('st_idx', '$sel');
SELECT qi || ': ' || (SELECT string_agg(id::text, ' ') FROM (
    SELECT s.id FROM st s ORDER BY s.v <-> hnsw_test.gauss(42, qi, 16)::vector(16) LIMIT 10) x)
FROM generate_series(1, 20) qi ORDER BY qi;
SQL
    }
    a=$(standby_answers "$primary" "$p1")
    b=$(standby_answers "$standby" "$p2")
    [ "$a" = "$b" ] && [ "$(grep -cE '^[0-9]+: [0-9]+( [0-9]+){9}$' <<<"$a")" -eq 20 ]
    ok $? "standby: 20 index scans return the same 10 ids in the same order on both" \
        "primary:" "$(head -n 5 <<<"$a")" "standby:" "$(head -n 5 <<<"$b")"
    check_verify "standby: on the standby" st_idx "$standby" "$p2"
    check_verify "standby: on the primary" st_idx "$primary" "$p1"
    pg_cluster_stop "$standby"
    pg_cluster_stop "$primary"
}

# ---------------------------------------------------------------------------
# 6. a build whose graph outgrows maintenance_work_mem: 10,000 vectors of 64
# dimensions (near a 16-dimensional subspace) with 1MB
test_memory() {
    local out
    out=$(q 2>&1 <<SQL
CREATE TABLE mem (id int, v vector(64));
CREATE TABLE mem_q (id int, v vector(64));
INSERT INTO mem SELECT i, hnsw_test.embed(51, i, 64) FROM generate_series(1, 10000) i;
INSERT INTO mem_q SELECT i, hnsw_test.embed(52, i, 64) FROM generate_series(1, 50) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX mem_idx ON mem USING hnsw (v vector_l2_ops);
SQL
)
    ok $? "memory: CREATE INDEX on 10,000 rows of vector(64) with maintenance_work_mem 1MB" "$out"
    grep -qi 'maintenance_work_mem' <<<"$out"
    ok $? "memory: a notice says the graph outgrew maintenance_work_mem" "output: $out"
    check_recall "memory: small maintenance_work_mem" mem mem_idx mem_q '<->' 100
    check_verify "memory: small maintenance_work_mem" mem_idx
    q >/dev/null 2>&1 <<<"DROP TABLE mem, mem_q"
}

# ---------------------------------------------------------------------------
# 7a. an unlogged table
test_unlogged() {
    local out
    out=$(q 2>&1 <<SQL
CREATE UNLOGGED TABLE ul (id int, v vector(20));
CREATE TABLE ul_q (id int, v vector(20));
INSERT INTO ul SELECT i, hnsw_test.gauss(61, i, 20) FROM generate_series(1, 8000) i;
INSERT INTO ul_q SELECT i, hnsw_test.gauss(62, i, 20) FROM generate_series(1, 50) i;
CREATE INDEX ul_idx ON ul USING hnsw (v vector_cosine_ops);
INSERT INTO ul SELECT i, hnsw_test.gauss(61, i, 20) FROM generate_series(8001, 10000) i;
SELECT relpersistence FROM pg_class WHERE relname = 'ul_idx';
SQL
)
    expect "unlogged: an unlogged index on an unlogged table, 8,000 rows at the build and 2,000 after" u "$out"
    check_recall "unlogged" ul ul_idx ul_q '<=>' 100
    check_verify "unlogged" ul_idx
    q >/dev/null 2>&1 <<<"DROP TABLE ul, ul_q"
}

# 7b. parallel builds over wide vectors that live in the TOAST table: the
# heap alone is far below min_parallel_table_scan_size, so PostgreSQL's rule
# would ask for no worker; the build counts the TOAST pages and goes parallel
# without any ALTER TABLE ... SET (parallel_workers).  Also a parallel build
# that outgrows maintenance_work_mem, and one under CONCURRENTLY.
test_parallel() {
    local out
    # an iterative scan goes on until it has returned every node it can reach
    check_all_indexed() {
        out=$(q 2>&1 <<SQL
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SELECT hnsw_test.plan_uses('par_idx', 'SELECT id FROM par ORDER BY v <-> (SELECT v FROM par_q WHERE id = 1) LIMIT 5000');
SELECT count(DISTINCT id) FROM (SELECT id FROM par ORDER BY v <-> (SELECT v FROM par_q WHERE id = 1) LIMIT 5000) s;
SQL
)
        expect "$1: an iterative index scan returns all 3,000 rows" "t
3000" "$out"
    }
    out=$(q 2>&1 <<SQL
CREATE TABLE par (id int, v vector(1000));
CREATE TABLE par_q (id int, v vector(1000));
INSERT INTO par SELECT i, hnsw_test.embed(71, i, 1000) FROM generate_series(1, 3000) i;
INSERT INTO par_q SELECT i, hnsw_test.embed(72, i, 1000) FROM generate_series(1, 30) i;
SELECT pg_relation_size('par') < 1024 * 1024 AND pg_total_relation_size('par') > 12 * 1024 * 1024;
SQL
)
    expect "parallel: 3,000 rows of vector(1000), under 1 MB of heap and over 12 MB of TOAST" t "$out"

    # 12 MB of TOAST is three times 4 MB: two workers by the log-3 rule
    out=$(q 2>&1 <<SQL
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = '4MB';
SET maintenance_work_mem = '64MB';
SET client_min_messages = debug1;
CREATE INDEX par_idx ON par USING hnsw (v vector_l2_ops);
SQL
)
    grep -qE 'hnsw build of "par_idx": [12] of 2 parallel workers launched' <<<"$out"
    ok $? "parallel: CREATE INDEX asks for 2 workers for TOASTed vectors, and they start" "$out"
    check_recall "parallel build" par par_idx par_q '<->' 100
    check_verify "parallel build" par_idx
    check_all_indexed "parallel build"

    out=$(q 2>&1 <<SQL
DROP INDEX par_idx;
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = '4MB';
SET maintenance_work_mem = '1MB';
SET client_min_messages = debug1;
CREATE INDEX par_idx ON par USING hnsw (v vector_l2_ops);
SQL
)
    grep -qE 'hnsw build of "par_idx": [12] of 2 parallel workers launched' <<<"$out" &&
        [ "$(grep -c 'no longer fits into maintenance_work_mem' <<<"$out")" = 1 ]
    ok $? "parallel: a parallel build over maintenance_work_mem says so once and goes on on disk" "$out"
    check_recall "parallel build on disk" par par_idx par_q '<->' 100
    check_verify "parallel build on disk" par_idx
    check_all_indexed "parallel build on disk"

    out=$(q 2>&1 <<SQL
DROP INDEX par_idx;
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = '4MB';
SET client_min_messages = debug1;
CREATE INDEX CONCURRENTLY par_idx ON par USING hnsw (v vector_l2_ops);
SQL
)
    grep -qE 'hnsw build of "par_idx": [12] of 2 parallel workers launched' <<<"$out"
    ok $? "parallel: CREATE INDEX CONCURRENTLY builds in parallel" "$out"
    check_recall "parallel build, concurrently" par par_idx par_q '<->' 100
    check_verify "parallel build, concurrently" par_idx

    # no workers where PostgreSQL forbids them or the user says none
    out=$(q 2>&1 <<SQL
SET max_parallel_maintenance_workers = 0;
SET min_parallel_table_scan_size = '4MB';
SET client_min_messages = debug1;
CREATE INDEX par_idx0 ON par USING hnsw (v vector_l2_ops);
SET max_parallel_maintenance_workers = 2;
CREATE TEMP TABLE par_temp AS SELECT * FROM par;
CREATE INDEX ON par_temp USING hnsw (v vector_l2_ops);
SQL
)
    ! grep -q 'parallel workers launched' <<<"$out"
    ok $? "parallel: no workers with max_parallel_maintenance_workers = 0 or for a temporary table" "$out"
    q >/dev/null 2>&1 <<<"DROP TABLE par, par_q"
}

# 7c. VACUUM while another session inserts: every pass of VACUUM runs with
# inserts in flight, and the slots it frees are reused at once; no list may
# keep a link to a node VACUUM took out (it would point into a reused slot)
test_vacuum() {
    local out ins st
    out=$(q 2>&1 <<SQL
CREATE TABLE vac (id int, v vector(16));
CREATE TABLE vac_q (id int, v vector(16));
INSERT INTO vac SELECT i, hnsw_test.gauss(81, i, 16) FROM generate_series(1, 8000) i;
INSERT INTO vac_q SELECT i, hnsw_test.gauss(82, i, 16) FROM generate_series(1, 50) i;
CREATE INDEX vac_idx ON vac USING hnsw (v vector_l2_ops);
ALTER TABLE vac SET (autovacuum_enabled = off);
DELETE FROM vac WHERE id % 4 <> 0;
SQL
)
    ok $? "vacuum: 8,000 rows indexed, 6,000 of them deleted" "$out"
    for round in 1 2 3; do
        seq $((10000 * round)) $((10000 * round + 1499)) |
            awk '{ print "INSERT INTO vac VALUES (" $1 ", hnsw_test.gauss(81, " $1 ", 16));" }' >"$work/vac_ins.sql"
        q -f "$work/vac_ins.sql" >"$work/vac_ins.log" 2>&1 &
        ins=$!
        out=$(q 2>&1 <<<"VACUUM vac")
        st=$?
        wait "$ins" || st=1
        ok $st "vacuum: round $round, VACUUM while 1,500 single-row inserts run" "$out" "$(tail -n 3 "$work/vac_ins.log")"
        check_verify "vacuum: round $round" vac_idx
        q >/dev/null 2>&1 <<<"DELETE FROM vac WHERE id % 3 = $round % 3 AND id >= 10000"
    done
    out=$(q 2>&1 <<<"VACUUM vac")
    ok $? "vacuum: a last VACUUM" "$out"
    check_verify "vacuum: after the last VACUUM" vac_idx
    check_recall "vacuum" vac vac_idx vac_q '<->' 100
    # thousands of slots were freed, most into the chain beyond the
    # metapage's list: 3,000 new rows take them before the index grows
    out=$(q -F ' ' 2>&1 <<SQL
SELECT pg_relation_size('vac_idx'), hnsw_test.free_slots('vac_idx');
INSERT INTO vac SELECT i, hnsw_test.gauss(81, i, 16) FROM generate_series(50000, 52999) i;
SELECT pg_relation_size('vac_idx'), hnsw_test.free_slots('vac_idx');
SQL
)
    check_reuse "vacuum: 3,000 inserts after the last VACUUM" $? "$out"
    check_verify "vacuum: after reusing the freed slots" vac_idx
    q >/dev/null 2>&1 <<<"DROP TABLE vac, vac_q"
}

# 7d. space reuse, in a database of its own so that no other test's snapshot
# keeps deleted rows alive: VACUUM frees all 5,000 dead nodes (more than the
# metapage's list of 1,500: the rest go to the chain through free slots), and
# 4,500 new rows fit in them without growing the index
test_reuse() {
    local rdb=vecdb_hnsw_reuse out
    out=$(psql_at "$main_host" "$main_port" postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $rdb" -c "CREATE DATABASE $rdb" 2>&1 >/dev/null &&
        psql_at "$main_host" "$main_port" "$rdb" -c "CREATE EXTENSION vecdb" \
            -f "$VECDB_ROOT/tests/hnsw/helpers.sql" 2>&1 >/dev/null) ||
        { ok 1 "reuse: a database of its own" "$out"; return; }
    out=$(psql_at "$main_host" "$main_port" "$rdb" -F ' ' 2>&1 <<SQL
CREATE TABLE ru (id int, v vector(8));
INSERT INTO ru SELECT i, hnsw_test.gauss(91, i, 8) FROM generate_series(1, 6000) i;
CREATE INDEX ru_idx ON ru USING hnsw (v vector_l2_ops);
ALTER TABLE ru SET (autovacuum_enabled = off);
DELETE FROM ru WHERE id % 6 <> 0;
VACUUM ru;
SELECT hnsw_test.free_slots('ru_idx') >= 5000, pg_relation_size('ru_idx');
INSERT INTO ru SELECT i, hnsw_test.gauss(92, i, 8) FROM generate_series(10001, 14500) i;
SELECT hnsw_test.free_slots('ru_idx') > 0, pg_relation_size('ru_idx');
SELECT count(*) FROM vecdb.hnsw_verify('ru_idx');
SQL
    )
    expect "reuse: VACUUM frees all 5,000 dead nodes, and 4,500 inserts reuse them without growing the index (size before and after the inserts; problems)" \
        "t $(echo "$out" | sed -n 1p | cut -d' ' -f2)
t $(echo "$out" | sed -n 1p | cut -d' ' -f2)
0" "$out"
    psql_at "$main_host" "$main_port" postgres -c "DROP DATABASE IF EXISTS $rdb" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
mine="crash standby primary"
trap cleanup EXIT
trap "exit 130" INT TERM

mkdir -p "$work/res"
res=$work/res/00-setup
out=$(setup_db "$main_host" "$main_port" 2>&1)
ok $? "a database with vecdb and the test helpers" "$out"
out=$(q 2>&1 <<<"SELECT amname FROM pg_am WHERE amname = 'hnsw'")
expect "the hnsw access method exists" hnsw "$out"
echo "# end" >>"$res"

# run_test NAME FUNCTION [ARGS]: in the background, at most $jobs at a time
run_test() {
    local name=$1
    shift
    while [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do wait -n; done
    (
        res=$work/res/$name
        mine=""
        trap cleanup EXIT
        start=$SECONDS
        "$@"
        note "took $((SECONDS - start)) s"
        echo "# end" >>"$res"
    ) &
}
want duplicates && run_test 10-duplicates test_duplicates
want concurrent && run_test 20-concurrent test_concurrent
want crash && run_test 30-crash test_crash
want standby && run_test 40-standby test_standby
want memory && run_test 50-memory test_memory
want unlogged && run_test 60-unlogged test_unlogged
want parallel && run_test 70-parallel test_parallel
want vacuum && run_test 75-vacuum test_vacuum
want reuse && run_test 76-reuse test_reuse
if want recall; then
    i=0
    while read -r opc typ op dim ef; do
        i=$((i + 1))
        run_test "$(printf '8%02d' $i)-recall-$opc" test_recall "$opc" "$typ" "$op" "$dim" "$ef"
    done <<<"$opclasses"
fi
wait

# number the results in a stable order; a test that did not get to its end
# (killed, crashed) fails once more
n=0
for f in "$work"/res/*; do
    [ -f "$f" ] || continue
    if ! grep -qx '# end' "$f"; then echo "not ok - ${f##*/} did not finish" >>"$f"; fi
    while IFS= read -r line; do
        case "$line" in
            "# end") ;;
            "ok - "*) n=$((n + 1)); echo "ok $n ${line#ok }" ;;
            "not ok - "*) n=$((n + 1)); echo "not ok $n ${line#not ok }" ;;
            *) echo "$line" ;;
        esac
    done <"$f"
done
echo "1..$n"

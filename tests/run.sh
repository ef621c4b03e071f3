#!/usr/bin/env bash
# `make test`: build, start a throwaway PostgreSQL cluster, run every suite,
# stop the cluster (also on failure or Ctrl-C), print one summary line
# "N passed, N failed" and exit non-zero if anything failed.
#
#   VECDB_SUITES="docs kernels regress pgtap upgrade docker hnsw gateway"   run only these suites
#   VECDB_KEEP_TMP=1                       keep the temporary directory
set -uo pipefail

VECDB_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export VECDB_ROOT
. "$VECDB_ROOT/tests/lib/pg.sh"

suites=${VECDB_SUITES:-docs kernels regress pgtap upgrade docker hnsw gateway}
passed=0
failed=0
todos=0

scratch_dir vecdb-test

want() { case " $suites " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
banner() { printf '\n== %s\n' "$*"; }

# tally_tap FILE STATUS: add a TAP stream's results; a runner that failed
# without any failing assertion (a crash, a bad plan) counts as one failure
# (a "not ok ... # TODO" line is an expected failure, as TAP defines it:
# counted and shown apart, not as a failure)
tally_tap() {
    local file=$1 status=$2 ok notok todo
    ok=$(grep -cE '^ *ok [0-9]+' "$file")
    notok=$(grep -E '^ *not ok [0-9]+' "$file" | grep -cv '# TODO')
    todo=$(grep -E '^ *not ok [0-9]+' "$file" | grep -c '# TODO')
    if [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then notok=1; fi
    passed=$((passed + ok))
    failed=$((failed + notok))
    todos=$((todos + todo))
    echo "-- $ok passed, $notok failed$([ "$todo" -gt 0 ] && echo ", $todo known failures (TODO)")"
}

if want docs; then
    banner "documentation: every SQL example is part of a regression test"
    perl "$VECDB_ROOT/tests/lib/docs_examples.pl" "$VECDB_ROOT" >"$work/docs.tap"
    status=$?
    grep -E '^not ok' "$work/docs.tap"
    tally_tap "$work/docs.tap" $status
fi

if want kernels; then
    banner "distance kernels: every SIMD variant against the portable one"
    cc -O2 -Wall -Wextra -Werror -I"$VECDB_ROOT/extension/src" -I"$VECDB_ROOT/tests/lib" \
        "$VECDB_ROOT/tests/kernels/test_kernels.c" \
        "$VECDB_ROOT/extension/src/distance.c" "$VECDB_ROOT/extension/src/distance_x86.c" \
        -lm -o "$work/test_kernels"
    status=$?
    if [ $status -eq 0 ]; then
        "$work/test_kernels" >"$work/kernels.tap"
        status=$?
    else
        : >"$work/kernels.tap"
    fi
    grep -E '^(not ok|#)|skip' "$work/kernels.tap"
    tally_tap "$work/kernels.tap" $status
fi

if want regress || want pgtap || want upgrade || want docker || want hnsw || want gateway; then
    banner "starting a throwaway PostgreSQL $(pg_major) cluster"
    if ! pg_install_prefix "$work/inst" || ! pg_cluster_start "$work/pg" "$(free_port)" "fsync = off"; then
        echo "could not start PostgreSQL" >&2
        failed=$((failed + 1))
        suites=""
    else
        echo "cluster on port $PGPORT, socket in $PGHOST"
    fi
fi

if want regress; then
    banner "pg_regress: sql/*.sql against expected/*.out"
    tests=$(cd "$VECDB_ROOT/sql" && ls *.sql | sed 's/\.sql$//')
    mkdir -p "$work/regress"
    "$("$(pg_config_path)" --pgxs | xargs dirname)/../test/regress/pg_regress" \
        --inputdir="$VECDB_ROOT" --outputdir="$work/regress" --bindir="$PG_BIN" \
        --host="$PGHOST" --port="$PGPORT" --user=postgres \
        --dbname=vecdb_regression --load-extension=vecdb $tests >"$work/regress.out" 2>&1
    status=$?
    cat "$work/regress.out"
    if [ -s "$work/regress/regression.diffs" ]; then
        banner "regression.diffs (first 300 lines)"
        head -n 300 "$work/regress/regression.diffs"
    fi
    ok=$(grep -cE '\.\.\. ok' "$work/regress.out")
    bad=$(grep -cE '\.\.\. FAILED|failed \(ignored\)' "$work/regress.out")
    if [ $status -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    echo "-- $ok passed, $bad failed"
fi

if want pgtap; then
    banner "pgTAP: tests/pgtap/*.sql"
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
        -c "CREATE DATABASE vecdb_tap" >/dev/null &&
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d vecdb_tap \
        -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION vecdb" >/dev/null
    status=$?
    if [ $status -eq 0 ]; then
        pg_prove --verbose --psql-bin "$PG_BIN/psql" -d vecdb_tap "$VECDB_ROOT"/tests/pgtap/*.sql \
            >"$work/pgtap.out" 2>&1
        status=$?
    else
        : >"$work/pgtap.out"
    fi
    grep -vE '^ *ok [0-9]+' "$work/pgtap.out"
    tally_tap "$work/pgtap.out" $status
fi

if want upgrade; then
    banner "upgrade: ALTER EXTENSION vecdb UPDATE from the previous release, pg_dump -> pg_restore into a new cluster, backups during writes"
    "$VECDB_ROOT/tests/upgrade/test_upgrade.sh" "$work/upgrade" >"$work/upgrade.tap"
    status=$?
    cat "$work/upgrade.tap"
    tally_tap "$work/upgrade.tap" $status
fi

if want docker; then
    banner "docker/entrypoint.sh: a primary and a standby, as the image starts them"
    "$VECDB_ROOT/tests/docker/test_entrypoint.sh" "$work/docker" >"$work/docker.tap"
    status=$?
    cat "$work/docker.tap"
    tally_tap "$work/docker.tap" $status
fi

if want hnsw; then
    banner "hnsw: recall of every operator class, duplicates, concurrency, crash recovery, a standby"
    "$VECDB_ROOT/tests/hnsw/test_hnsw.sh" "$work/hnsw" >"$work/hnsw.tap"
    status=$?
    cat "$work/hnsw.tap"
    tally_tap "$work/hnsw.tap" $status
fi

if want gateway; then
    banner "gateway: the vecdb program built with ASan/UBSan: unit tests, then black-box tests over real sockets"
    if make -s -C "$VECDB_ROOT/gateway" SANITIZE=1 vecdb-asan test_unit-asan >"$work/gateway-build.log" 2>&1; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$VECDB_ROOT/gateway/test_unit-asan" >"$work/gateway-unit.tap" 2>&1
        status=$?
        grep -vE '^ok [0-9]+' "$work/gateway-unit.tap"
        tally_tap "$work/gateway-unit.tap" $status
        VECDB_BIN="$VECDB_ROOT/gateway/vecdb-asan" "$VECDB_ROOT/tests/gateway/test_gateway.sh" "$work/gateway" >"$work/gateway.tap"
        status=$?
        cat "$work/gateway.tap"
        tally_tap "$work/gateway.tap" $status
    else
        tail -n 40 "$work/gateway-build.log"
        echo "-- the gateway does not build"
        failed=$((failed + 1))
    fi
fi

if [ -f "$work/pg/server.log" ] && grep -qE 'PANIC|server process .* was terminated' "$work/pg/server.log"; then
    banner "the server log shows a crash"
    grep -E -B2 -A5 'PANIC|was terminated' "$work/pg/server.log" | head -n 60
    failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed$([ "$todos" -gt 0 ] && echo ", $todos known failures (TODO)")"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

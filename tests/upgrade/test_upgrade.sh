#!/usr/bin/env bash
# Upgrades in place, whole-database dumps, consistent backups.  Prints TAP.
#
#   test_upgrade.sh WORKDIR
#
# PG_BIN and VECDB_ROOT must be set, and PGHOST/PGPORT name the cluster
# tests/run.sh started, whose installation has every script of the extension
# (`make install` puts the frozen old versions and the upgrade scripts there).
#
# 1. upgrade: a database created with the previous release (PREVIOUS_VERSION
#    in extension/Makefile, 0.1.0 for 0.2.0) holds
#    vector, halfvec and bit tables with hnsw indexes; a session opened before
#    the upgrade stays connected; ALTER EXTENSION vecdb UPDATE; the old data,
#    indexes and queries answer as before, the session that was open uses the
#    new store API, and the upgraded extension's objects are exactly a fresh
#    install's (pg_dump --binary-upgrade lists every member with its
#    definition, grants and comments).
# 2. dump: a database with stores, data, indexes and backups goes through
#    pg_dump -Fc and pg_restore into a new cluster of its own (initdb'd here,
#    so nothing of the first cluster, not even its roles, helps); every
#    store's rows, search results, indexes, the catalog rows and the backups
#    are the same there, and a backup restores.
# 3. snapshot: backups taken while a session moves units between the rows
#    of a store are each one consistent snapshot.
#
#   UPGRADE_TESTS="upgrade dump snapshot"   run only these (default: all)
#   UPGRADE_TIMEOUT=120            seconds one psql may run
set -uo pipefail
. "$VECDB_ROOT/tests/lib/pg.sh"

work=$1
mkdir -p "$work" && chmod 755 "$work"
tests=${UPGRADE_TESTS:-upgrade dump snapshot}
limit=${UPGRADE_TIMEOUT:-120}
main_host=$PGHOST main_port=$PGPORT
# the release before the current version, as extension/Makefile builds the
# upgrade script from it
previous=$(sed -n 's/^PREVIOUS_VERSION = //p' "$VECDB_ROOT/extension/Makefile")
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$VECDB_ROOT/extension/vecdb.control")
export PGUSER=postgres PGTZ=UTC
unset PGDATABASE

want() { case " $tests " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

n=0
# ok STATUS DESCRIPTION [DIAGNOSTIC...]
ok() {
    local status=$1 desc=$2 line
    shift 2
    n=$((n + 1))
    if [ "$status" -eq 0 ]; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fi
    if [ "$status" -ne 0 ]; then
        for line in "$@"; do printf '%s\n' "$line" | head -n 60 | sed 's/^/#   /'; done
    fi
    return "$status"
}
# expect DESCRIPTION WANT GOT: ok when GOT is WANT
expect() {
    [ "$3" = "$2" ]
    ok $? "$1" "expected: $2" "got: $3"
}
# same DESCRIPTION A B: ok when A and B are equal, not empty and no error (diff shown otherwise)
same() {
    [ -n "$2" ] && [ "$2" = "$3" ] && ! grep -qE 'ERROR|error:' <<<"$2"
    ok $? "$1" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -n 40)" "(left: $(wc -l <<<"$2") lines, right: $(wc -l <<<"$3") lines)"
}

# psql_at HOST PORT DB [psql args]: statements from stdin, tuples only, stop at
# the first error, within the time limit
psql_at() {
    local host=$1 port=$2 d=$3
    shift 3
    timeout -k 5 "$limit" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$host" -p "$port" -d "$d" "$@"
}

# new_db HOST PORT DB [VERSION]: a new database with the extension (at
# VERSION, default the current one) and the helpers
new_db() {
    local version=""
    [ -n "${4:-}" ] && version=" VERSION '$4'"
    psql_at "$1" "$2" postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $3" -c "CREATE DATABASE $3" >/dev/null &&
    psql_at "$1" "$2" "$3" -c "CREATE EXTENSION vecdb$version" -f "$VECDB_ROOT/tests/upgrade/helpers.sql" >/dev/null
}

# schema_of HOST PORT DB: every object of the database with its definition,
# grants and comments, as pg_dump --binary-upgrade writes them (which lists
# extension members one by one), without what names a particular database
# (OIDs, transaction ids, WAL positions, the random \restrict key)
schema_of() {
    timeout -k 5 "$limit" "$PG_BIN/pg_dump" --binary-upgrade --schema-only -h "$1" -p "$2" -d "$3" |
        sed -E "/^\\\\(un)?restrict /d; /binary_upgrade_set_next_|relfrozenxid|^WHERE oid = '[0-9]/s/'[^']*'/'X'/g;
                /binary_upgrade_create_empty_extension/s/'\{[0-9,]*\}'/'{config table OIDs}'/"
    # the config tables by name, as the OIDs above are not comparable
    psql_at "$1" "$2" "$3" <<<"SELECT 'config tables: ' || extconfig::regclass[]::text || ' ' || extcondition::text FROM pg_extension WHERE extname = 'vecdb'"
}

# The session opened before the upgrade: a psql coprocess fed one script at
# a time; session_run prints what it answered
session_open() {
    coproc SESSION { exec timeout -k 5 600 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=0 -h "$1" -p "$2" -d "$3" 2>&1; }
}
session_run() {
    local line out=""
    printf '%s\n\\echo __end__\n' "$1" >&"${SESSION[1]}" || return 1
    while IFS= read -r -t "$limit" line <&"${SESSION[0]}"; do
        if [ "$line" = __end__ ]; then printf '%s' "$out"; return 0; fi
        out+="$line"$'\n'
    done
    printf '%s' "$out"
    return 1
}
session_close() {
    if [ -n "${SESSION_PID:-}" ]; then
        exec {SESSION[1]}>&- 2>/dev/null
        wait "$SESSION_PID" 2>/dev/null
    fi
}

restore_dir=$work/restored
bg_pids=()
cleanup() {
    local p
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
    session_close
    pg_cluster_stop "$restore_dir"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# ---------------------------------------------------------------------------
# 1. ALTER EXTENSION vecdb UPDATE in a database that is in use

# answers DB: the 10 nearest ids of 10 queries on each table, through its
# index (the plan is checked first)
answers() {
    psql_at "$main_host" "$main_port" "$1" 2>&1 <<'SQL'
SET enable_seqscan = off;
SELECT upgrade_test.uses_index('items_v_idx', 'SELECT id FROM items ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SELECT upgrade_test.uses_index('hitems_v_idx', 'SELECT id FROM hitems ORDER BY v <=> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SELECT upgrade_test.uses_index('bitems_v_idx', 'SELECT id FROM bitems ORDER BY v <~> repeat(''10'', 32)::bit(64) LIMIT 10');
SELECT 'items ' || q || ': ' || (SELECT string_agg(id::text, ' ') FROM (
    SELECT id FROM items ORDER BY v <-> upgrade_test.vec(2, q, 8)::vector(8) LIMIT 10) x)
  FROM generate_series(1, 10) q ORDER BY q;
SELECT 'hitems ' || q || ': ' || (SELECT string_agg(id::text, ' ') FROM (
    SELECT id FROM hitems ORDER BY v <=> upgrade_test.vec(2, q, 8)::halfvec(8) LIMIT 10) x)
  FROM generate_series(1, 10) q ORDER BY q;
SELECT 'bitems ' || q || ': ' || (SELECT string_agg(id::text, ' ') FROM (
    SELECT id FROM bitems ORDER BY v <~> upgrade_test.bits(4, q, 64)::bit(64), id LIMIT 10) x)
  FROM generate_series(1, 10) q ORDER BY q;
SQL
}

test_upgrade() {
    local db=vecdb_upgrade fresh=vecdb_upgrade_fresh empty=vecdb_upgrade_empty out before after pid

    out=$(new_db "$main_host" "$main_port" $db $previous 2>&1)
    ok $? "upgrade: CREATE EXTENSION vecdb VERSION '$previous'" "$out"
    expect "upgrade: the database has $previous, without the store API" "$previous f" \
        "$(psql_at "$main_host" "$main_port" $db -F ' ' 2>&1 <<<"SELECT extversion, to_regclass('vecdb.stores') IS NOT NULL FROM pg_extension WHERE extname = 'vecdb'")"
    expect "upgrade: $previous -> $current is an update path" "$previous--$current" \
        "$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT path FROM pg_extension_update_paths('vecdb') WHERE source = '$previous' AND target = '$current'")"

    out=$(psql_at "$main_host" "$main_port" $db 2>&1 <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v vector(8));
CREATE TABLE hitems (id int PRIMARY KEY, v halfvec(8));
CREATE TABLE bitems (id int PRIMARY KEY, v bit(64));
INSERT INTO items SELECT i, upgrade_test.vec(1, i, 8) FROM generate_series(1, 3000) i;
INSERT INTO hitems SELECT i, upgrade_test.vec(3, i, 8) FROM generate_series(1, 3000) i;
INSERT INTO bitems SELECT i, upgrade_test.bits(4, i, 64) FROM generate_series(1, 3000) i;
CREATE INDEX items_v_idx ON items USING hnsw (v vector_l2_ops);
CREATE INDEX hitems_v_idx ON hitems USING hnsw (v halfvec_cosine_ops) WITH (m = 8);
CREATE INDEX bitems_v_idx ON bitems USING hnsw (v bit_hamming_ops);
SQL
)
    ok $? "upgrade: vector, halfvec and bit tables of 3,000 rows with hnsw indexes on $previous" "$out"
    before=$(answers $db)
    [ "$(grep -c ': [0-9]' <<<"$before")" -eq 30 ]
    ok $? "upgrade: 30 index scans on $previous" "$before"

    session_open "$main_host" "$main_port" $db
    out=$(session_run "SELECT pg_backend_pid(); SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5) x;")
    pid=$(head -n 1 <<<"$out")
    [ "$(sed -n 2p <<<"$out")" = 5 ]
    ok $? "upgrade: a session opened before the upgrade has used the $previous functions" "$out"

    out=$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"ALTER EXTENSION vecdb UPDATE")
    ok $? "upgrade: ALTER EXTENSION vecdb UPDATE" "$out"
    expect "upgrade: the database has $current" "$current" \
        "$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT extversion FROM pg_extension WHERE extname = 'vecdb'")"
    out=$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"ALTER EXTENSION vecdb UPDATE")
    grep -q "already installed" <<<"$out"
    ok $? "upgrade: a second ALTER EXTENSION vecdb UPDATE has nothing to do" "$out"

    after=$(answers $db)
    same "upgrade: the same 30 index scans return the same ids in the same order after the upgrade" "$before" "$after"

    out=$(psql_at "$main_host" "$main_port" $db -F ' ' 2>&1 <<'SQL'
INSERT INTO items SELECT i, upgrade_test.vec(1, i, 8) FROM generate_series(3001, 3500) i;
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE (SELECT i2.id FROM items i2 ORDER BY i2.v <-> i.v LIMIT 1) = i.id) FROM items i WHERE id > 3000;
SELECT count(*) FROM vecdb.hnsw_verify('items_v_idx');
SQL
)
    expect "upgrade: 500 rows inserted after the upgrade are each found first by an index scan for its vector; hnsw_verify is clean" \
        "500
0" "$out"

    out=$(session_run "SELECT pg_backend_pid();
SELECT vecdb.create_store('after_upgrade', 8, 'l2');
SELECT vecdb.upsert('after_upgrade', 'i' || id, v, jsonb_build_object('n', id), NULL) FROM items WHERE id <= 200;
SELECT id FROM vecdb.search('after_upgrade', upgrade_test.vec(1, 17, 8)::vector(8), 3) LIMIT 1;
SELECT name, row_count FROM vecdb.backup_store('after_upgrade', 'after_upgrade_b');
SELECT vecdb.restore_store('after_upgrade_b', 'after_upgrade_copy');
SELECT vecdb.store_checksum('after_upgrade') = vecdb.store_checksum('after_upgrade_copy');")
    # its backend id first, the checksums' equality last, and no error between
    [ "$(sed -n '1p;$p' <<<"$out" | paste -sd ' ')" = "$pid t" ] && ! grep -q ERROR <<<"$out"
    ok $? "upgrade: the session opened before the upgrade (the same backend) creates a store, upserts, searches, backs up and restores" \
        "$out"
    # the full answers of that session, to be precise about what it did
    out=$(psql_at "$main_host" "$main_port" $db -F ' ' 2>&1 <<'SQL'
SELECT count(*) FROM vecdb_data.after_upgrade;
SELECT id FROM vecdb.search('after_upgrade', upgrade_test.vec(1, 17, 8)::vector(8), 3) LIMIT 1;
SELECT name, store, row_count FROM vecdb.list_backups();
SELECT count(*) FROM vecdb_data.after_upgrade_copy;
SQL
)
    expect "upgrade: the store made after the upgrade has its 200 rows, finds its own vector, and its backup and copy" \
        "200
i17
after_upgrade_b after_upgrade 200
200" "$out"
    session_close

    # the objects of an upgraded extension are a fresh install's
    out=$(new_db "$main_host" "$main_port" $empty $previous 2>&1 &&
        psql_at "$main_host" "$main_port" $empty 2>&1 <<<"ALTER EXTENSION vecdb UPDATE" &&
        new_db "$main_host" "$main_port" $fresh 2>&1)
    ok $? "upgrade: a database upgraded from $previous and one created with $current, nothing else in them" "$out"
    before=$(schema_of "$main_host" "$main_port" $empty 2>&1)
    after=$(schema_of "$main_host" "$main_port" $fresh 2>&1)
    grep -q "CREATE FUNCTION vecdb.restore_store" <<<"$after"
    ok $? "upgrade: pg_dump --binary-upgrade lists the extension's members" "$(head -n 20 <<<"$after")"
    same "upgrade: the upgraded extension's objects, grants, comments and config tables equal a fresh $current install's" "$before" "$after"

    psql_at "$main_host" "$main_port" postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "DROP DATABASE IF EXISTS $empty" -c "DROP DATABASE IF EXISTS $fresh" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# 2. pg_dump -Fc of a database with stores and backups, pg_restore into a
# new cluster

# facts DB [HOST PORT]: everything that must survive the dump, one fact a line
facts() {
    psql_at "${2:-$main_host}" "${3:-$main_port}" "$1" -F ' | ' 2>&1 <<'SQL'
SELECT 'store', name, dims, metric, storage, index_options, embedding_provider, embedding_model, options, created_at
  FROM vecdb.stores ORDER BY name;
SELECT 'backup', name, store, dims, metric, storage, index_options, options, row_count, checksum, created_at
  FROM vecdb.backups ORDER BY name;
SELECT 'config table', tbl, row_count, digest FROM upgrade_test.config_rows() ORDER BY tbl;
SELECT 'rows', name, (SELECT count(*) FROM vecdb.export_store(name)), vecdb.store_checksum(name)
  FROM vecdb.stores ORDER BY name;
SELECT 'export', s.name, md5(string_agg(line, E'\n' ORDER BY ord))
  FROM vecdb.stores s, vecdb.export_store(s.name) WITH ORDINALITY AS e(line, ord) GROUP BY s.name ORDER BY s.name;
SELECT 'times', 'docs', md5(string_agg(id || created_at || updated_at, ',' ORDER BY id COLLATE "C")) FROM vecdb_data.docs;
SELECT 'index', c.relname, am.amname, pg_get_indexdef(i.indexrelid), i.indisvalid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
  JOIN pg_namespace ns ON ns.oid = c.relnamespace
 WHERE ns.nspname IN ('vecdb_data', 'public') ORDER BY c.relname;
SELECT 'search', s.name, q, string_agg(r.id || ' ' || round(r.distance::numeric, 4), ', ' ORDER BY r.distance, r.id)
  FROM vecdb.stores s, generate_series(1, 5) q,
       vecdb.search(s.name, upgrade_test.vec(9, q, s.dims)::vector, 5) r
 GROUP BY s.name, q ORDER BY s.name, q;
SELECT 'backup rows', name, (SELECT count(*) FROM vecdb_backup.docs_monday) FROM vecdb.backups WHERE name = 'docs_monday';
SELECT 'plain', q, (SELECT string_agg(id::text, ' ') FROM (SELECT id FROM plain ORDER BY v <-> upgrade_test.vec(9, q, 8)::vector(8) LIMIT 5) x)
  FROM generate_series(1, 5) q ORDER BY q;
SELECT 'acl', c.relname, c.relacl FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
 WHERE ns.nspname IN ('vecdb_data', 'vecdb_backup') AND c.relkind = 'r' ORDER BY c.relname;
SQL
}

test_dump() {
    local db=vecdb_dump out before after port
    out=$(new_db "$main_host" "$main_port" $db 2>&1 && psql_at "$main_host" "$main_port" $db 2>&1 <<'SQL'
SELECT vecdb.create_store('docs', 16, 'cosine');
SELECT vecdb.create_store('half', 8, 'euclidean', '{"storage": "halfvec", "m": 8, "ef_construction": 32}');
SELECT vecdb.create_store('taxi', 4, 'manhattan');
SELECT vecdb.create_store('empty', 3, 'inner_product');
SELECT count(vecdb.upsert('docs', 'doc-' || i, upgrade_test.vec(1, i, 16)::vector(16),
                          jsonb_build_object('n', i, 'tag', CASE WHEN i % 3 = 0 THEN 'fizz' ELSE 'plain' END),
                          'text «' || i || '» with "quotes", \backslash and a tab	here'))
  FROM generate_series(1, 1000) i;
SELECT count(vecdb.upsert('half', 'h' || i, upgrade_test.vec(2, i, 8)::vector(8), '{}', NULL)) FROM generate_series(1, 500) i;
SELECT count(vecdb.upsert('taxi', 't' || i, upgrade_test.vec(3, i, 4)::vector(4), jsonb_build_object('i', i), 'x')) FROM generate_series(1, 50) i;
SELECT name FROM vecdb.backup_store('docs', 'docs_monday');
SELECT name FROM vecdb.backup_store('empty', 'empty_b');
-- the store moves on after its backup
SELECT count(vecdb.delete('docs', 'doc-' || i)) FROM generate_series(1, 100) i;
SELECT vecdb.upsert('docs', 'doc-1000', upgrade_test.vec(5, 1, 16)::vector(16), '{"changed": true}', 'changed');
-- a pgvector-style table of the user's own
CREATE TABLE plain (id int PRIMARY KEY, v vector(8));
INSERT INTO plain SELECT i, upgrade_test.vec(6, i, 8) FROM generate_series(1, 500) i;
CREATE INDEX plain_v_idx ON plain USING hnsw (v vector_l2_ops);
SQL
)
    ok $? "dump: a database with 4 stores (cosine, halfvec l2, l1, empty inner product), 2 backups and a table of its own" "$out"
    before=$(facts $db)
    [ "$(grep -c '^search |' <<<"$before")" -eq 15 ] && [ "$(grep -c '^index |' <<<"$before")" -ge 9 ] &&
        grep -q '^config table | vecdb.backups | 2 |' <<<"$before"
    ok $? "dump: the facts to compare (15 searches, 9 indexes, rows of every config table, checksums) are read" "$before"

    # docs/backup.md's Python program recomputes a checksum from an export
    if command -v python3 >/dev/null; then
        out=$(sed -n '/^```python$/,/^```$/p' "$VECDB_ROOT/docs/backup.md" | sed '1d;$d' | sed "s/'articles'/'docs'/" |
            PATH="$PG_BIN:$PATH" PGHOST=$main_host PGPORT=$main_port PGDATABASE=$db timeout -k 5 "$limit" python3 - 2>&1)
        expect "dump: docs/backup.md's Python program computes the store's checksum from its export" \
            "$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT vecdb.store_checksum('docs')")" "$out"
    else
        n=$((n + 1))
        echo "ok $n - dump: docs/backup.md's Python program # SKIP no python3"
    fi

    out=$(timeout -k 5 "$limit" "$PG_BIN/pg_dump" -Fc -h "$main_host" -p "$main_port" -d $db -f "$work/vecdb.dump" 2>&1)
    ok $? "dump: pg_dump -Fc" "$out"

    port=$(free_port)
    rm -rf "$restore_dir"
    out=$( (pg_cluster_start "$restore_dir" "$port" "fsync = off") 2>&1)
    ok $? "dump: a new cluster (initdb, no vecdb roles)" "$out" || return
    expect "dump: the new cluster has no vecdb roles before the restore" 0 \
        "$(psql_at "$restore_dir" "$port" postgres 2>&1 <<<"SELECT count(*) FROM pg_roles WHERE rolname LIKE 'vecdb%'")"
    out=$(psql_at "$restore_dir" "$port" postgres -c "CREATE DATABASE $db" 2>&1 &&
        timeout -k 5 "$limit" "$PG_BIN/pg_restore" --exit-on-error -h "$restore_dir" -p "$port" -d $db "$work/vecdb.dump" 2>&1)
    [ $? -eq 0 ] && [ -z "$out" ]
    ok $? "dump: pg_restore into a new database of the new cluster, without an error or warning" "$out"

    after=$(facts $db "$restore_dir" "$port")
    same "dump: stores, backups, every config table, rows and checksums, exports, timestamps, indexes, search results, grants are the same after pg_restore" \
        "$before" "$after"

    out=$(psql_at "$restore_dir" "$port" $db 2>&1 <<'SQL'
SET enable_seqscan = off;
SELECT upgrade_test.uses_index('docs_embedding_idx', 'SELECT id FROM vecdb_data.docs ORDER BY embedding <=> ''[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'' LIMIT 5');
SELECT upgrade_test.uses_index('half_embedding_idx', 'SELECT id FROM vecdb_data.half ORDER BY embedding <-> ''[1,2,3,4,5,6,7,8]''::halfvec LIMIT 5');
SELECT upgrade_test.uses_index('plain_v_idx', 'SELECT id FROM plain ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 5');
SQL
)
    ok $? "dump: after pg_restore the hnsw indexes are scanned" "$out"

    out=$(psql_at "$restore_dir" "$port" $db -F ' ' 2>&1 <<'SQL'
SELECT vecdb.restore_store('docs_monday', 'docs_again');
SELECT vecdb.store_checksum('docs_again') = checksum FROM vecdb.backups WHERE name = 'docs_monday';
SELECT count(*) FROM vecdb.search('docs_again', upgrade_test.vec(9, 1, 16)::vector(16), 7);
SQL
)
    expect "dump: a backup made before pg_dump restores in the new cluster (its checksum verified), and searches" \
        "1000
t
7" "$out"

    out=$(psql_at "$restore_dir" "$port" $db -F ' ' 2>&1 <<'SQL'
SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'vecdb%';
SET ROLE vecdb_reader;
SELECT count(*) FROM vecdb.search('docs', upgrade_test.vec(9, 2, 16)::vector(16), 3);
SELECT count(*) FROM vecdb.export_store('taxi');
RESET ROLE;
SET ROLE vecdb_writer;
SELECT vecdb.upsert('taxi', 'new', '[1,2,3,4]', '{}', NULL) IS NOT NULL;
SELECT vecdb.import_store('taxi', '{"id": "imported", "vector": [4, 3, 2, 1]}');
SQL
)
    expect "dump: after pg_restore the roles exist and can read (reader) and write (writer)" \
        "vecdb_admin vecdb_reader vecdb_writer
3
50
t
1" "$out"
    pg_cluster_stop "$restore_dir"
    psql_at "$main_host" "$main_port" postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# 3. backups are consistent snapshots: a session moves units between the
# rows of a store in many small transactions (the total never changes) while
# backups are taken; every backup has the whole total, and they differ

test_snapshot() {
    local db=vecdb_snapshot out i sums checksums previous writer
    out=$(new_db "$main_host" "$main_port" $db 2>&1 && psql_at "$main_host" "$main_port" $db 2>&1 <<'SQL'
SELECT name FROM vecdb.create_store('ledger', 2, 'l2');
SELECT count(vecdb.upsert('ledger', 'r' || i, ARRAY[i, 1]::real[]::vector, '{"n": 100}', NULL)) FROM generate_series(1, 100) i;
SQL
)
    ok $? "snapshot: a store of 100 rows holding 100 units each" "$out"
    # transaction t moves one unit from row t % 100 + 1 to row (7 t) % 100 + 1
    # and writes t into the receiving row, so that no state of the store comes
    # back; the writer runs until the backups are taken
    for i in $(seq 1 50000); do
        printf "BEGIN;\nUPDATE vecdb_data.ledger SET metadata = metadata || jsonb_build_object('n', (metadata->>'n')::int - 1) WHERE id = 'r%d';\n" $((i % 100 + 1))
        printf "UPDATE vecdb_data.ledger SET metadata = jsonb_build_object('n', (metadata->>'n')::int + 1, 't', %d) WHERE id = 'r%d';\nCOMMIT;\n" $i $((7 * i % 100 + 1))
    done >"$work/ledger.sql"
    # not through psql_at, so that $! is timeout's, which passes a kill on to psql
    timeout -k 5 "$limit" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$main_host" -p "$main_port" -d $db \
        -f "$work/ledger.sql" >"$work/ledger.log" 2>&1 &
    writer=$!
    bg_pids+=("$writer")
    # each backup after the store has changed since the one before
    previous=""
    for i in 1 2 3 4 5; do
        for _ in $(seq 1 100); do
            [ "$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT vecdb.store_checksum('ledger')")" != "$previous" ] && break
            sleep 0.1
        done
        previous=$(psql_at "$main_host" "$main_port" $db 2>>"$work/ledger_backups.log" <<<"SELECT checksum FROM vecdb.backup_store('ledger', 'ledger_$i')")
    done
    kill -0 "$writer" 2>/dev/null
    ok $? "snapshot: 5 backups taken while a session runs transactions that move units" "$(tail -n 5 "$work/ledger.log")" "$(cat "$work/ledger_backups.log")"
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    sums=""
    for i in 1 2 3 4 5; do
        sums+="$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT sum((metadata->>'n')::int) FROM vecdb_backup.ledger_$i") "
    done
    expect "snapshot: every backup holds the 10,000 units (each is one snapshot of the store)" \
        "10000 10000 10000 10000 10000 " "$sums"
    checksums=$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT count(DISTINCT checksum) FROM vecdb.backups WHERE store = 'ledger'")
    [ "$checksums" = 5 ]
    ok $? "snapshot: the 5 backups differ from each other: they were taken while the store changed" "distinct checksums: $checksums"
    expect "snapshot: a backup taken during the writes restores with its checksum verified" 100 \
        "$(psql_at "$main_host" "$main_port" $db 2>&1 <<<"SELECT vecdb.restore_store('ledger_3', 'ledger_again')")"
    psql_at "$main_host" "$main_port" postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
}

want upgrade && test_upgrade
want dump && test_dump
want snapshot && test_snapshot
echo "1..$n"

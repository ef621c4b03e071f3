#!/usr/bin/env bash
# The container entry point, without a container engine: start a primary and a
# streaming standby with docker/entrypoint.sh exactly as the image does (as
# root it drops to postgres), against the test installation in $PG_BIN.
# Prints TAP.  Usage: test_entrypoint.sh WORKDIR   (PG_BIN and VECDB_ROOT set)
set -uo pipefail
. "$VECDB_ROOT/tests/lib/pg.sh"

work=$1
mkdir -p "$work" && chmod 755 "$work"
primary=$work/primary
standby=$work/standby
p1=$(free_port)
p2=$(free_port)
n=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

bg_pids=()
stop_all() {
    local d p
    for d in "$standby" "$primary"; do
        [ -f "$d/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1
    done
    # an entry point still waiting for its primary: end it and what it started
    for p in "${bg_pids[@]}"; do
        pkill -TERM -P "$p" 2>/dev/null
        kill -TERM "$p" 2>/dev/null
    done
    bg_pids=()
}
trap stop_all EXIT
trap "exit 130" INT TERM

start() {  # start DATADIR PORT LOG [env...]
    local dir=$1 port=$2 log=$3
    shift 3
    env "$@" PGDATA="$dir" VECDB_PORT="$port" VECDB_PG_BIN="$PG_BIN" POSTGRES_PASSWORD=s3cret \
        "$VECDB_ROOT/docker/entrypoint.sh" >"$log" 2>&1 &
    bg_pids+=($!)
    for _ in $(seq 1 120); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
        sleep 0.5
    done
    cat "$log" >&2
    return 1
}

q() {  # q PORT SQL: as postgres over TCP with the password
    PGPASSWORD=s3cret "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$1" -U postgres -d vecdb -c "$2" 2>&1
}

start "$primary" "$p1" "$work/primary.log"
ok $? "primary starts from an empty data directory"
[ "$(q "$p1" "SELECT '[1,2]'::vector <-> '[4,6]'")" = "5" ]
ok $? "database vecdb has the extension, reachable over TCP with the password"
PGPASSWORD=wrong "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$p1" -U postgres -d vecdb -c "SELECT 1" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "a wrong password is refused"
if [ "$(id -u)" -eq 0 ]; then owner=postgres; else owner=$(id -un); fi
[ "$(stat -c %a "$primary")" = "700" ] && [ "$(stat -c %U "$primary")" = "$owner" ]
ok $? "the data directory is private to the server's user"

q "$p1" "CREATE TABLE items (id int PRIMARY KEY, v vector(2)); INSERT INTO items VALUES (1, '[1,1]')" >/dev/null
start "$standby" "$p2" "$work/standby.log" VECDB_PRIMARY_HOST=127.0.0.1 VECDB_PRIMARY_PORT="$p1"
ok $? "standby clones the primary and starts"
[ "$(q "$p2" "SELECT pg_is_in_recovery()")" = "t" ]
ok $? "standby is in recovery"
q "$p1" "INSERT INTO items VALUES (2, '[3,4]')" >/dev/null
got=""
for _ in $(seq 1 60); do
    got=$(q "$p2" "SELECT string_agg(v::text, ' ' ORDER BY id) FROM items")
    [ "$got" = "[1,1] [3,4]" ] && break
    sleep 0.25
done
[ "$got" = "[1,1] [3,4]" ]
ok $? "a write on the primary reaches the standby"
out=$(q "$p2" "INSERT INTO items VALUES (3, '[0,0]')")
case "$out" in *"read-only transaction"*) true ;; *) false ;; esac
ok $? "the standby refuses writes"

stop_all
# a restart keeps the data and does not initialise again
start "$primary" "$p1" "$work/primary2.log"
[ "$(q "$p1" "SELECT count(*) FROM items")" = "2" ]
ok $? "restarting the primary keeps its data"

echo "1..$n"

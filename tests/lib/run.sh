#!/usr/bin/env bash
# `make run` / `make stop`: a persistent local PostgreSQL with vecdb installed.
#
#   tests/lib/run.sh start    install (into a private prefix), start, create db "vecdb"
#   tests/lib/run.sh stop     stop it; the data stays for the next start
#   tests/lib/run.sh status
#
# State lives in .run/ in the checkout (ignored by git), or in $VECDB_RUN_DIR.
set -euo pipefail

VECDB_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export VECDB_ROOT
. "$VECDB_ROOT/tests/lib/pg.sh"

dir=${VECDB_RUN_DIR:-$VECDB_ROOT/.run}
PG_BIN="$dir/inst/usr/lib/postgresql/$(pg_major)/bin"

running() { [ -f "$dir/data/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

show() {
    local port
    port=$(cat "$dir/port")
    cat <<MSG
vecdb is running: PostgreSQL $(pg_major) with the vecdb extension, database "vecdb".
  data:    $dir/data   (log: $dir/server.log)
  connect: psql "host=$dir port=$port user=postgres dbname=vecdb"
       or: psql -h 127.0.0.1 -p $port -U postgres vecdb
  stop:    make stop
MSG
}

case "${1:-}" in
start)
    if running; then show; exit 0; fi
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir/.."; then
        echo "run: the postgres OS user cannot reach $dir; set VECDB_RUN_DIR to a directory it can (e.g. /var/tmp/vecdb-run)" >&2
        exit 1
    fi
    pg_install_prefix "$dir/inst"
    [ -f "$dir/port" ] || free_port >"$dir/port"
    pg_cluster_start "$dir" "$(cat "$dir/port")"
    if ! "$PG_BIN/psql" -X -qAt -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'vecdb'" | grep -q 1; then
        "$PG_BIN/psql" -X -q -d postgres -c "CREATE DATABASE vecdb"
    fi
    # a rebuilt extension with a new version is taken up by ALTER EXTENSION ... UPDATE
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d vecdb \
        -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION IF NOT EXISTS vecdb" -c "ALTER EXTENSION vecdb UPDATE"
    show
    ;;
stop)
    if running; then
        pg_cluster_stop "$dir"
        echo "vecdb stopped (data kept in $dir/data)"
    else
        echo "vecdb is not running"
    fi
    ;;
status)
    if running; then show; else echo "vecdb is not running"; exit 3; fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

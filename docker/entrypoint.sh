#!/usr/bin/env bash
# Container entry point: PostgreSQL with vecdb, as a primary or a streaming standby.
#
# Primary (default): on first start initdb, password authentication for remote
# connections (POSTGRES_PASSWORD is required), a replication role, database
# vecdb with the extension.  Standby: set VECDB_PRIMARY_HOST; on first start
# the data directory is cloned with pg_basebackup -R and follows the primary.
#
#   POSTGRES_PASSWORD       password of the postgres superuser (required)
#   VECDB_REPLICATION_PASSWORD  password of role "replicator" (default: POSTGRES_PASSWORD)
#   VECDB_PRIMARY_HOST, VECDB_PRIMARY_PORT   make this container a standby
#   VECDB_PORT              port to listen on (default 5432)
#   VECDB_PG_BIN            PostgreSQL bin directory (default: the newest installed)
set -euo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
port=${VECDB_PORT:-5432}
bindir=${VECDB_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
repl_password=${VECDB_REPLICATION_PASSWORD:-$POSTGRES_PASSWORD}

# PostgreSQL refuses to run as root: re-run this script as postgres
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres: "$PGDATA"
    chmod 700 "$PGDATA"
    exec runuser -u postgres -- "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${VECDB_PRIMARY_HOST:-}" ]; then
        until PGPASSWORD=$repl_password "$bindir/pg_basebackup" -h "$VECDB_PRIMARY_HOST" \
                -p "${VECDB_PRIMARY_PORT:-5432}" -U replicator -D "$PGDATA" -R -X stream -c fast; do
            echo "entrypoint: waiting for the primary at $VECDB_PRIMARY_HOST" >&2
            rm -rf "${PGDATA:?}"/*
            sleep 2
        done
    else
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
        "$bindir/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" -A scram-sha-256 \
            --auth-local=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        rm -f "$pwfile"
        {
            echo "listen_addresses = '*'"
            echo "wal_level = replica"
            echo "max_wal_senders = 10"
            echo "hot_standby = on"
        } >>"$PGDATA/postgresql.conf"
        {
            echo "host all all all scram-sha-256"
            echo "host replication replicator all scram-sha-256"
        } >>"$PGDATA/pg_hba.conf"
        # first start on the socket only, to create roles, database and extension
        "$bindir/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -p $port -k /tmp" -w start >/dev/null
        "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h /tmp -p "$port" -U postgres -d postgres \
            -v pw="$repl_password" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
CREATE DATABASE vecdb;
\connect vecdb
CREATE EXTENSION vecdb;
SQL
        "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
fi

exec "$bindir/postgres" -D "$PGDATA" -p "$port" -c unix_socket_directories=/tmp "$@"

# Helpers that start throwaway PostgreSQL clusters for tests and `make run`.
# Source this file; every function prints errors to stderr and returns
# non-zero on failure.
#
# A cluster runs from a private copy of the PostgreSQL installation (Debian's
# binaries are relocatable: they find share/ and lib/ relative to bin/), with
# the extension installed into that copy by `make install DESTDIR=`.  Nothing
# is written into the system's PostgreSQL directories.  PostgreSQL refuses to
# run as root, so as root the server runs as the `postgres` OS user.

# The newest installed PostgreSQL major version
pg_major() {
    ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null |
        sed -E 's|.*/postgresql/([0-9]+)/bin/postgres|\1|' | sort -n | tail -n 1
}

# The pg_config of that major (used by every make of the extension)
pg_config_path() {
    echo "/usr/lib/postgresql/$(pg_major)/bin/pg_config"
}

# Run a command as the OS user that owns test clusters
as_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A TCP port on 127.0.0.1 that nothing listens on now
free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 0)
            or die "no free port: $!\n";
        print $s->sockport, "\n";'
}

# pg_install_prefix DIR: copy PostgreSQL to DIR and install the extension there.
# Sets PG_BIN to the copy's bin directory.
pg_install_prefix() {
    local dir=$1 major
    major=$(pg_major)
    mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql"
    cp -a "/usr/lib/postgresql/$major" "$dir/usr/lib/postgresql/" &&
    cp -a "/usr/share/postgresql/$major" "$dir/usr/share/postgresql/" || return 1
    make -s -C "$VECDB_ROOT/extension" install DESTDIR="$dir" PG_CONFIG="$(pg_config_path)" >/dev/null || return 1
    PG_BIN="$dir/usr/lib/postgresql/$major/bin"
    export PG_BIN
}

# pg_cluster_start DIR PORT [setting=value ...]: initdb (first time) and start a
# cluster in DIR/data with its socket in DIR, listening on 127.0.0.1:PORT.
# Sets PGHOST, PGPORT, PGUSER for the clients.
pg_cluster_start() {
    local dir=$1 port=$2 opt
    shift 2
    mkdir -p "$dir" && chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg_user "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
        {
            echo "listen_addresses = '127.0.0.1'"
            echo "unix_socket_directories = '$dir'"
            echo "port = $port"
            echo "max_connections = 40"
            echo "shared_buffers = 256MB"
            echo "dynamic_shared_memory_type = posix"
            for opt in "$@"; do echo "$opt"; done
        } | as_pg_user tee -a "$dir/data/postgresql.conf" >/dev/null
    else
        as_pg_user sed -i -E "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
    fi
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -n 30 "$dir/server.log" >&2; return 1; }
    export PGHOST=$dir PGPORT=$port PGUSER=postgres
}

# pg_cluster_stop DIR: stop the cluster if it runs (fast shutdown)
pg_cluster_stop() {
    local dir=$1
    [ -n "${PG_BIN:-}" ] && [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# scratch_dir NAME: make $work, a private temporary directory for a run; on
# exit stop the cluster in $work/pg and remove $work (kept with
# VECDB_KEEP_TMP=1); Ctrl-C exits 130 through the same path
scratch_dir() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$work"
    trap scratch_cleanup EXIT
    trap 'echo "interrupted" >&2; exit 130' INT TERM
}

scratch_cleanup() {
    pg_cluster_stop "$work/pg"
    if [ -n "${VECDB_KEEP_TMP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}

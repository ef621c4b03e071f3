#!/usr/bin/env bash
# Installs, with apt, what building and testing vecdb needs.  Idempotent: when
# everything is present it only asks dpkg and returns in well under a second.
#
#   tests/lib/deps.sh            packages for the extension and its tests
#   tests/lib/deps.sh bench      ... plus what `make bench` uses
#
# The PostgreSQL major is the newest server installed (none: Debian's default
# `postgresql`), so nothing here names a version.
set -euo pipefail

say() { printf 'deps: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@";
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@";
    else say "need root (or sudo) to run: $*"; exit 1; fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=0
apt_install() {
    local missing=() p
    for p in "$@"; do installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $apt_updated -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        apt_updated=1
    fi
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pg_major() {
    ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/bin/postgres|\1|' | sort -n | tail -n 1
}

if [ -z "$(pg_major)" ]; then
    apt_install postgresql
fi
major=$(pg_major)
[ -n "$major" ] || { say "no PostgreSQL server found after installing one"; exit 1; }

apt_install build-essential util-linux perl \
    "postgresql-server-dev-$major" "postgresql-$major-pgtap" libtap-parser-sourcehandler-pgtap-perl

# the gateway (gateway/Makefile) and its tests (curl, node for the OAuth clients)
apt_install pkg-config libevent-dev libjson-c-dev libssl-dev zlib1g-dev libpq-dev curl procps nodejs
command -v npm >/dev/null 2>&1 || apt_install npm

for what in "$@"; do
    case "$what" in
        bench) apt_install dataset-fashion-mnist libhnswlib-dev gnuplot-nox libpq-dev g++ ;;
        *) say "unknown group '$what'"; exit 2 ;;
    esac
done

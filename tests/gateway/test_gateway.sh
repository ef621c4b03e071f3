#!/usr/bin/env bash
# Black-box tests of the `vecdb` gateway over real sockets against a real
# PostgreSQL.  Prints TAP.
#
#   test_gateway.sh WORKDIR
#
# VECDB_ROOT, PG_BIN, PGHOST and PGPORT name the cluster tests/run.sh started
# (the extension is installed in PG_BIN's prefix).  Gateways A and B serve
# one database of that cluster (gateway L too, for the limits test: the
# registration quota and the pool's bounded queue, which a psql session
# holding a lock fills); the restart test starts a cluster of its own;
# the embedded test lets the gateway create and supervise its own.  Every
# gateway and cluster started here is stopped on exit, also on failure.
#
#   VECDB_BIN=gateway/vecdb-asan    the program under test (default gateway/vecdb)
#   GATEWAY_TESTS="cli http oauth client limits reload restart embedded"   only these
set -uo pipefail
. "$VECDB_ROOT/tests/lib/pg.sh"

work=$1
mkdir -p "$work" && chmod 755 "$work"
bin=${VECDB_BIN:-$VECDB_ROOT/gateway/vecdb}
tests=${GATEWAY_TESTS:-cli http oauth client limits reload restart embedded}
here=$VECDB_ROOT/tests/gateway
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
main_host=$PGHOST main_port=$PGPORT
db=vecdb_gateway
conninfo="host=$main_host port=$main_port user=postgres dbname=$db"
res=$work/results
: >"$res"

want() { case " $tests " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

ok() {  # ok STATUS DESCRIPTION [DIAGNOSTIC...]
    local status=$1 desc=$2 line
    shift 2
    if [ "$status" -eq 0 ]; then echo "ok - $desc"; else echo "not ok - $desc"; fi >>"$res"
    if [ "$status" -ne 0 ]; then
        for line in "$@"; do printf '%s\n' "$line" | head -n 30 | sed 's/^/#   /' >>"$res"; done
    fi
    return "$status"
}
note() { printf '%s\n' "$@" | sed 's/^/# /' >>"$res"; }
expect() {  # expect DESCRIPTION WANT GOT
    [ "$3" = "$2" ]
    ok $? "$1" "expected: $2" "got: $3"
}
# matches DESCRIPTION REGEX TEXT
matches() {
    printf '%s' "$3" | grep -qE -- "$2"
    ok $? "$1" "expected to match: $2" "got: $(printf '%s' "$3" | head -c 600)"
}

q() { "$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -h "$main_host" -p "$main_port" -U postgres "$@"; }

# ------------------------------------------------------------ processes

declare -A gw_pid

# start_gw NAME REST_PORT ARGS...: `vecdb serve ARGS` in the background,
# stdout in NAME.out, stderr (the log) in NAME.log; waits for /healthz
start_gw() {
    local name=$1 port=$2 i
    shift 2
    "$bin" serve "$@" >"$work/$name.out" 2>"$work/$name.log" &
    gw_pid[$name]=$!
    for i in $(seq 900); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then return 0; fi
        if ! kill -0 "${gw_pid[$name]}" 2>/dev/null; then
            note "gateway $name exited at start:" "$(tail -n 20 "$work/$name.log")"
            unset "gw_pid[$name]"
            return 1
        fi
        sleep 0.1
    done
    note "gateway $name did not answer /healthz in 90 s"
    return 1
}

# stop_gw NAME: SIGTERM, wait (60 s, then SIGKILL); returns its exit status
stop_gw() {
    local pid=${gw_pid[$1]:-} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid"
    local st=$?
    unset "gw_pid[$1]"
    return $st
}

lock_pid=""
cleanup() {
    local n
    [ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null
    for n in "${!gw_pid[@]}"; do stop_gw "$n"; done
    pg_cluster_stop "$work/pg2"
}
trap cleanup EXIT

# wait_for DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds; prints the
# seconds it took
wait_for() {
    local t0=$SECONDS limit=$2 i
    shift 2
    for i in $(seq $((limit * 10))); do
        if "$@"; then echo $((SECONDS - t0)); return 0; fi
        sleep 0.1
    done
    return 1
}

status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ready() { [ "$(status_of "http://127.0.0.1:$1/readyz")" = 200 ]; }

# the first-start credentials a gateway wrote into its data directory
cred() { sed -n "s/^$2=//p" "$1/admin-credentials" | head -n 1; }

token_for() {  # token_for OAUTH_PORT ID SECRET SCOPE
    curl -s -u "$2:$3" "http://127.0.0.1:$1/oauth/token" -d "grant_type=client_credentials&scope=$4" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# --------------------------------------------------------------- the CLI

if want cli; then
    out=$("$bin" version 2>&1)
    st=$?
    matches "vecdb version prints the version (exit $st)" '^vecdb [0-9]+\.[0-9]+\.[0-9]+ \(libevent' "$out"
    for cmd in serve token config keys stop version; do
        out=$("$bin" "$cmd" --help 2>&1)
        st=$?
        [ $st -eq 0 ] && printf '%s' "$out" | grep -q "Usage: vecdb $cmd"
        ok $? "vecdb $cmd --help describes the command" "exit $st" "$out"
    done
    out=$("$bin" 2>&1)
    st=$?
    [ $st -eq 2 ] && printf '%s' "$out" | grep -q 'Commands:'
    ok $? "vecdb without a command: usage, exit 2" "exit $st"
    out=$("$bin" frobnicate 2>&1)
    st=$?
    [ $st -eq 2 ] && printf '%s' "$out" | grep -q "unknown command 'frobnicate'"
    ok $? "an unknown command: exit 2 with a message" "exit $st" "$out"

    check_refused() {  # check_refused DESC MESSAGE-REGEX COMMAND...
        local desc=$1 want=$2 out st
        shift 2
        out=$("$@" 2>&1)
        st=$?
        [ $st -eq 2 ] && printf '%s' "$out" | grep -qE -- "$want"
        ok $? "$desc: exit 2, '$want'" "exit $st" "$out"
    }
    check_refused "serve with an unknown flag" "unknown option '--bogus'" "$bin" serve --bogus 1
    check_refused "serve with a bad port" "invalid setting rest_port \(--rest-port\): 'abc' is not a whole number" \
        "$bin" serve --rest-port abc
    check_refused "serve with a bad environment value" "invalid setting log_format \(VECDB_LOG_FORMAT\): 'xml' is not one of text, json" \
        env VECDB_LOG_FORMAT=xml "$bin" serve
    printf 'pool_size = 3\nfrobnicate = yes\n' >"$work/bad.conf"
    check_refused "serve with an unknown key in the config file" "bad.conf line 2: unknown setting 'frobnicate'" \
        "$bin" serve --config "$work/bad.conf"
    check_refused "serve with a missing config file" "cannot read config file" "$bin" serve --config "$work/none.conf"
    check_refused "token without credentials" "needs --client-id and --client-secret" "$bin" token --scope read

    printf 'pool_size = 3\n' >"$work/prec.conf"
    src() { "$bin" config "$@" | sed -n 's/^pool_size *= \([^ ]*\) *# \(.*\)$/\1 \2/p'; }
    expect "precedence: the default (pool_size)" "4 default" "$(src)"
    expect "precedence: the file beats the default" "3 file" "$(src --config "$work/prec.conf")"
    expect "precedence: the environment beats the file" "5 environment" \
        "$(VECDB_POOL_SIZE=5 src --config "$work/prec.conf")"
    expect "precedence: a flag beats the environment" "7 flag" \
        "$(VECDB_POOL_SIZE=5 src --config "$work/prec.conf" --pool-size 7)"
    expect "precedence: VECDB_CONFIG names the file" "3 file" "$(VECDB_CONFIG=$work/prec.conf src)"
    out=$(VECDB_DB="host=x password=hunter2" "$bin" config)
    ! printf '%s' "$out" | grep -q hunter2 && printf '%s' "$out" | grep -q 'db *= (set, not shown) *# environment'
    ok $? "vecdb config never shows db (it may hold a password)" "$out"
fi

# ------------------------------------------------------- the test database

need_db=0
for t in http oauth client limits reload; do want $t && need_db=1; done
if [ $need_db -eq 1 ]; then
    q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null &&
        q -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION vecdb" >/dev/null
    ok $? "the test database has the extension" || exit 1
    # the roles come with the store API (extension/sql/50_store.sql); make
    # them if this build does not have it yet
    q -d $db -c "DO \$\$ DECLARE r text; BEGIN FOREACH r IN ARRAY ARRAY['vecdb_reader','vecdb_writer','vecdb_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN EXECUTE format('CREATE ROLE %I NOLOGIN', r); END IF;
        END LOOP; END \$\$" >/dev/null

    q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${db}_bare" \
        -c "CREATE DATABASE ${db}_bare" >/dev/null
    out=$("$bin" serve --db "host=$main_host port=$main_port user=postgres dbname=${db}_bare" \
        --rest-port "$(free_port)" --oauth-port "$(free_port)" --data-dir "$work/bare" 2>&1)
    st=$?
    [ $st -eq 1 ] && printf '%s' "$out" | grep -q "the vecdb extension is not installed in database '${db}_bare'"
    ok $? "--db on a database without the extension: exit 1 saying what to do" "exit $st" "$out"

    ra=$(free_port) oa=$(free_port) rb=$(free_port) ob=$(free_port)
    cat >"$work/a.conf" <<EOF
# gateway A's config file (the reload test rewrites it)
log_level = info
EOF
    start_gw a "$ra" --config "$work/a.conf" --db "$conninfo" --rest-port "$ra" --oauth-port "$oa" \
        --data-dir "$work/a" --workers 2 --auth-fail-limit 1000 --registration-limit 1000 --max-body-size 64kB
    ok $? "gateway A starts on an existing database (--db)" || exit 1
    admin_secret=$(cred "$work/a" admin_client_secret)
    admin_password=$(cred "$work/a" admin_password)
    [ -n "$admin_secret" ] && [ "$(stat -c %a "$work/a/admin-credentials")" = 600 ] &&
        grep -qF -- "admin_client_secret=$admin_secret" "$work/a.out"
    ok $? "first start: generated admin credentials, printed once and in a 0600 file"
    # (-F --: a base64url secret may start with "-", and grep's error, status
    # 2, would have passed the negated test)
    [ "${#admin_secret}" -ge 40 ] && { grep -qF -- "$admin_secret" "$work/a.log"; [ $? -eq 1 ]; }
    ok $? "the generated secret is long and not in the log"
    start_gw b "$rb" --db "$conninfo" --rest-port "$rb" --oauth-port "$ob" --data-dir "$work/b" --workers 1 \
        --public-url "http://127.0.0.1:$ra" --issuer-url "http://127.0.0.1:$oa" --auth-fail-limit 3 --log-format json --registration admin
    ok $? "gateway B starts on the same database, behind the same URLs"
    ! grep -q 'admin_client_secret' "$work/b.out"
    ok $? "gateway B finds the admin client and prints no credentials"
fi

# ---------------------------------------------------------- HTTP basics

if want http; then
    A=http://127.0.0.1:$ra
    out=$(curl -s -i "$A/healthz")
    matches "/healthz: 200 {\"status\":\"ok\"}" '^HTTP/1.1 200.*' "$out"
    expect "/healthz body" '{"status":"ok"}' "$(curl -s "$A/healthz")"
    expect "/readyz: the pool reaches PostgreSQL" '{"status":"ready"}' "$(curl -s "$A/readyz")"
    out=$(curl -s -i "$A/nowhere")
    matches "an unknown path: 404 problem+json" 'HTTP/1.1 404.*' "$out"
    matches "an unknown path: Content-Type application/problem+json" 'Content-Type: application/problem\+json' "$out"
    out=$(curl -s -i -X DELETE "$A/healthz")
    matches "a wrong method: 405 with Allow" 'Allow: GET, HEAD' "$out"
    out=$(curl -s -i -H 'X-Request-Id: test-req-42' "$A/healthz")
    matches "a client's X-Request-Id is echoed" 'X-Request-Id: test-req-42' "$out"
    grep -q '\[test-req-42\] request listener=rest method=GET path=/healthz status=200' "$work/a.log"
    ok $? "the access log carries the request id"
    out=$(curl -s -i -H 'X-Request-Id: bad id with spaces' "$A/healthz")
    matches "an unusable X-Request-Id is replaced by a generated one" 'X-Request-Id: [0-9a-f]{16}' "$out"
    expect "keep-alive: two requests, one connection" "1 0" \
        "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$A/healthz" "$A/healthz" | sed 's/ $//')"
    head -c 100000 /dev/zero | tr '\0' x >"$work/big.body"
    expect "a 100 kB body over max_body_size (64kB): 413" 413 \
        "$(status_of -X POST --data-binary @"$work/big.body" "http://127.0.0.1:$oa/oauth/token")"
    expect "a 20 kB header over max_header_size: 400" 400 \
        "$(status_of -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' x)" "$A/healthz")"
    expect "still serving after all that" 200 "$(status_of "$A/healthz")"
fi

# --------------------------------------------------------------- OAuth

if want oauth; then
    q -d $db -c "SELECT private_key FROM vecdb_auth.signing_keys WHERE retired_at IS NULL" >"$work/key.pem"
    OAUTH_A=http://127.0.0.1:$oa REST_A=http://127.0.0.1:$ra OAUTH_B=http://127.0.0.1:$ob REST_B=http://127.0.0.1:$rb \
        ADMIN_ID=admin ADMIN_SECRET=$admin_secret ADMIN_USER=admin ADMIN_PASSWORD=$admin_password \
        PSQL_BIN="$PG_BIN/psql" TEST_DB=$db PGHOST=$main_host PGPORT=$main_port PGUSER=postgres \
        KEY_PEM_FILE="$work/key.pem" SEEN_FILE="$work/seen.txt" \
        timeout 300 node "$here/oauth.mjs" >>"$res" 2>"$work/oauth.err"
    st=$?
    [ $st -eq 0 ] || note "oauth.mjs exit $st" "$(tail -n 20 "$work/oauth.err")"
    found=""
    while IFS= read -r secret; do
        [ -n "$secret" ] || continue
        grep -qF -- "$secret" "$work/a.log" "$work/b.log" && found="$found ${secret:0:12}..."
    done <"$work/seen.txt"
    [ -z "$found" ] && [ -s "$work/seen.txt" ]
    ok $? "the logs contain none of the $(wc -l <"$work/seen.txt") secrets and tokens the tests used" "found:$found"
    bad_json=$(node -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
        let bad = 0;
        for (const l of lines) {
            try { const o = JSON.parse(l); if (!o.ts || !o.level || !o.msg) bad++;
                  if (o.msg === "request" && (!/^[0-9a-f]{16}$/.test(o.request_id) || typeof o.status !== "number")) bad++; }
            catch { bad++; }
        }
        console.log(`${bad}/${lines.length}`);' "$work/b.log")
    matches "log_format json: every line of gateway B's log is a JSON record, requests with their id ($bad_json bad)" '^0/[1-9]' "$bad_json"
fi

# key rotation: a new key signs at once on every gateway, the old one still verifies
if want oauth; then
    kid_of() { node -e 'console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[0], "base64url")).kid)' "$1"; }
    old_tok=$(token_for "$oa" admin "$admin_secret" read)
    old_kid=$(kid_of "$old_tok")
    out=$("$bin" keys rotate --db "$conninfo" 2>&1)
    st=$?
    new_kid=$(printf '%s' "$out" | sed -n 's/^signing with new key //p')
    [ $st -eq 0 ] && [ -n "$new_kid" ] && [ "$new_kid" != "$old_kid" ]
    ok $? "vecdb keys rotate: a new signing key" "exit $st: $out"
    wait_for "jwks" 2 bash -c "curl -s http://127.0.0.1:$ob/.well-known/jwks.json | grep -q '\"$new_kid\"' &&
        curl -s http://127.0.0.1:$oa/.well-known/jwks.json | grep -q '\"$new_kid\"'" >/dev/null
    ok $? "rotation: gateways A and B publish the new key within 2 s (NOTIFY)"
    new_tok=$(token_for "$oa" admin "$admin_secret" read)
    expect "rotation: gateway A signs with the new key" "$new_kid" "$(kid_of "$new_tok")"
    expect "rotation: a token of the new key works on gateway B" 200 \
        "$(status_of -H "Authorization: Bearer $new_tok" "http://127.0.0.1:$rb/api/v1/whoami")"
    expect "rotation: a token of the retired key still works" 200 \
        "$(status_of -H "Authorization: Bearer $old_tok" "http://127.0.0.1:$rb/api/v1/whoami")"
    curl -s "http://127.0.0.1:$oa/.well-known/jwks.json" | grep -q "\"$old_kid\""
    ok $? "rotation: the retired key stays in the JWKS"
    out=$("$bin" keys rotate 2>&1)
    st=$?
    [ $st -eq 2 ] && printf '%s' "$out" | grep -q 'needs --db'
    ok $? "vecdb keys rotate without --db: exit 2" "exit $st: $out"
fi

if want client; then
    if [ ! -d "$here/client/node_modules/oauth4webapi" ]; then
        (cd "$here/client" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1)
        ok $? "npm ci installs the pinned oauth4webapi" "$(tail -n 20 "$work/npm.log")"
    fi
    OAUTH_A=http://127.0.0.1:$oa REST_A=http://127.0.0.1:$ra ADMIN_ID=admin ADMIN_SECRET=$admin_secret \
        ADMIN_USER=admin ADMIN_PASSWORD=$admin_password timeout 120 node "$here/client/client.mjs" >>"$res" 2>"$work/client.err"
    st=$?
    [ $st -eq 0 ] || note "client.mjs exit $st" "$(tail -n 20 "$work/client.err")"
fi

# ------------------------------------ registration quota, the pool's queue

if want limits; then
    # gateway L: one worker with one connection, one waiting request at
    # most, 3 anonymous registrations per address and hour; behind an https
    # issuer URL with a path (a proxy's)
    rl=$(free_port) ol=$(free_port)
    start_gw l "$rl" --db "$conninfo" --rest-port "$rl" --oauth-port "$ol" --data-dir "$work/l" --workers 1 \
        --pool-size 1 --queue-limit 1 --queue-timeout 60s --log-level debug --registration-limit 3 --registration-window 1h \
        --issuer-url https://auth.example/vecdb
    ok $? "gateway L starts (pool_size 1, queue_limit 1, registration_limit 3)"
    L=http://127.0.0.1:$ol
    clients() { q -d $db -c "SELECT count(*) FROM vecdb_auth.clients"; }
    register() {  # register [CURL-ARGS...]: "STATUS BODY" of an open registration
        curl -s -w ' %{http_code}' "$@" "$L/oauth/register" -H 'Content-Type: application/json' \
            -d '{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}'
    }
    out=$(curl -s -w ' %{http_code}' "$L/oauth/register" -H 'Content-Type: application/json' -d '{"client_name":"x"}')
    matches "registration quota: an invalid registration is 400 and uses none of it" '"error":"invalid_redirect_uri".* 400$' "$out"
    for i in 1 2 3; do
        out=$(register)
        matches "registration quota: open registration $i of 3 from 127.0.0.1: 201" ' 201$' "$out"
        [ $i -eq 1 ] && lclient=$(printf '%s' "$out" | sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p')
    done
    out=$(curl -s -i "$L/oauth/authorize?response_type=code&client_id=$lclient&redirect_uri=https://app.example/cb&scope=read&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
    printf '%s' "$out" | grep -qE '^Set-Cookie: vecdb_csrf=[A-Za-z0-9_-]{22}; Path=/vecdb/oauth/authorize; Max-Age=1800; HttpOnly; SameSite=Lax; Secure'$'\r''?$' &&
        printf '%s' "$out" | grep -q 'action="https://auth.example/vecdb/oauth/authorize"'
    ok $? "login page behind an https issuer URL with a path: the cookie is Secure, on that path" "$(printf '%s' "$out" | grep -iE '^(HTTP|set-cookie)')"
    before=$(clients)
    out=$(register -i)
    printf '%s' "$out" | grep -q '^HTTP/1.1 429' &&
        printf '%s' "$out" | grep -qE '^Retry-After: ([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)'$'\r''?$' &&
        printf '%s' "$out" | grep -q '"error":"temporarily_unavailable"'
    ok $? "registration quota: the 4th in the window is 429 temporarily_unavailable with Retry-After (<= 1 h)" "$out"
    expect "registration quota: ... and no client was created" "$before" "$(clients)"
    grep -q 'too many registrations from 127.0.0.1' "$work/l.log"
    ok $? "registration quota: the refusal is logged"
    matches "registration quota: another address (127.0.0.2) still registers: 201" ' 201$' "$(register --interface 127.0.0.2)"
    matches "registration quota: a read token does not lift it: 429" ' 429$' \
        "$(register -H "Authorization: Bearer $(token_for "$ol" admin "$admin_secret" read)")"
    ltok=$(token_for "$ol" admin "$admin_secret" "read write admin")
    matches "registration quota: a registration with an admin token is not counted: 201" ' 201$' \
        "$(register -H "Authorization: Bearer $ltok")"
    matches "registration quota: gateway A keeps its own count" ' 201$' \
        "$(curl -s -w ' %{http_code}' "http://127.0.0.1:$oa/oauth/register" -H 'Content-Type: application/json' \
            -d '{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}')"

    # the pool's bounded queue: a psql session locks vecdb_auth.clients, so
    # the first token request holds L's one connection and the second waits;
    # a third request finds the queue full and gets 503 at once, while the
    # first two still wait (queue_timeout is 60 s)
    rtok=$(token_for "$ol" admin "$admin_secret" read)
    rm -f "$work/lock.fifo" && mkfifo "$work/lock.fifo"
    PGAPPNAME=vecdb_test_lock "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$main_host" -p "$main_port" -U postgres -d $db \
        <"$work/lock.fifo" >"$work/lock.out" 2>&1 &
    lock_pid=$!
    exec 5>"$work/lock.fifo"
    printf 'BEGIN;\nLOCK TABLE vecdb_auth.clients IN ACCESS EXCLUSIVE MODE;\n' >&5
    lock_held() {
        [ "$(q -d $db -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name = 'vecdb_test_lock' AND l.relation = 'vecdb_auth.clients'::regclass AND l.granted")" = 1 ]
    }
    waiting_for_lock() {
        [ "$(q -d $db -c "SELECT count(*) FROM pg_locks WHERE relation = 'vecdb_auth.clients'::regclass AND NOT granted")" -ge 1 ]
    }
    wait_for "lock" 30 lock_held >/dev/null
    ok $? "queue: a psql session holds a lock on vecdb_auth.clients" "$(cat "$work/lock.out")"
    curl -s -o /dev/null -w '%{http_code}' --max-time 90 -H 'X-Request-Id: queue-1' -u "admin:$admin_secret" \
        "$L/oauth/token" -d grant_type=client_credentials >"$work/q1.code" &
    q1=$!
    wait_for "q1" 30 waiting_for_lock >/dev/null
    ok $? "queue: the first request holds the pool's one connection, waiting for the lock"
    curl -s -o /dev/null -w '%{http_code}' --max-time 90 -H 'X-Request-Id: queue-2' -u "admin:$admin_secret" \
        "$L/oauth/token" -d grant_type=client_credentials >"$work/q2.code" &
    q2=$!
    # the worker logs a request when it takes it up, then queues its
    # statement in the same callback; L has one worker, so any later request
    # is read after that
    wait_for "q2" 30 grep -q 'debug \[queue-2\] POST /oauth/token' "$work/l.log" >/dev/null
    ok $? "queue: the second request waits in the queue (queue_limit 1)"
    out=$(curl -s -i --max-time 30 -H 'X-Request-Id: queue-3' -u "admin:$admin_secret" "$L/oauth/token" -d grant_type=client_credentials)
    printf '%s' "$out" | grep -q '^HTTP/1.1 503' && printf '%s' "$out" | grep -qE '^Retry-After: 1'$'\r''?$' &&
        printf '%s' "$out" | grep -q '"error":"temporarily_unavailable"'
    ok $? "queue: a third token request gets 503 temporarily_unavailable with Retry-After" "$out"
    out=$(curl -s -i --max-time 30 -H "Authorization: Bearer $rtok" "http://127.0.0.1:$rl/api/v1/whoami")
    printf '%s' "$out" | grep -q '^HTTP/1.1 503' && printf '%s' "$out" | grep -qE '^Retry-After: 1'$'\r''?$' &&
        printf '%s' "$out" | grep -q 'Content-Type: application/problem+json' &&
        printf '%s' "$out" | grep -q '"detail":"the database is busy or unreachable; try again"'
    ok $? "queue: a REST request meanwhile gets 503 problem+json with Retry-After" "$out"
    kill -0 "$q1" 2>/dev/null && kill -0 "$q2" 2>/dev/null
    ok $? "queue: ... refused at once: the two requests before them are still waiting (queue_timeout 60 s)"
    [ "$(grep -c 'too many requests are waiting for the database' "$work/l.log")" -eq 2 ]
    ok $? "queue: the log says why, for both refused requests" "$(grep -i 'database' "$work/l.log" | tail -n 5)"
    printf 'COMMIT;\n' >&5
    exec 5>&-
    wait "$lock_pid"
    lock_pid=""
    wait "$q1" "$q2"
    expect "queue: once the lock is gone, the two waiting requests get their tokens" "200 200" \
        "$(cat "$work/q1.code") $(cat "$work/q2.code")"
    expect "queue: and new requests are served again" 200 \
        "$(status_of -u "admin:$admin_secret" "$L/oauth/token" -d grant_type=client_credentials)"
    stop_gw l
    st=$?
    ok $st "gateway L exits 0 on SIGTERM (exit $st)" "$(tail -n 5 "$work/l.log")"
fi

# --------------------------------------------------------------- SIGHUP

if want reload; then
    printf 'log_level = debug\ntoken_lifetime = 2h\npool_size = 9\n' >"$work/a.conf"
    kill -HUP "${gw_pid[a]}"
    wait_for "reload" 10 grep -q 'SIGHUP: settings reloaded' "$work/a.log" >/dev/null
    ok $? "SIGHUP reloads the config file"
    grep -q 'reload: pool_size changed; it takes effect after a restart' "$work/a.log"
    ok $? "SIGHUP: a setting that needs a restart is reported as such"
    curl -s -H 'X-Request-Id: after-hup' "http://127.0.0.1:$ra/healthz" >/dev/null
    grep -q 'debug \[after-hup\] GET /healthz' "$work/a.log"
    ok $? "SIGHUP: log_level debug takes effect at once"
    out=$(curl -s -u "admin:$admin_secret" "http://127.0.0.1:$oa/oauth/token" -d grant_type=client_credentials)
    matches "SIGHUP: token_lifetime 2h takes effect at once" '"expires_in":(7200|7199)' "$out"
    printf 'log_level = loud\n' >"$work/a.conf"
    kill -HUP "${gw_pid[a]}"
    wait_for "bad reload" 10 grep -q "the settings were not reloaded: invalid setting log_level" "$work/a.log" >/dev/null
    ok $? "SIGHUP with a bad file: an error, the old settings stay"
    expect "... and the gateway keeps serving" 200 "$(status_of "http://127.0.0.1:$ra/readyz")"
fi

if [ $need_db -eq 1 ]; then
    stop_gw a
    st=$?
    ok $st "gateway A drains and exits 0 on SIGTERM (exit $st)" "$(tail -n 5 "$work/a.log")"
    stop_gw b
    st=$?
    ok $st "gateway B exits 0 on SIGTERM (exit $st)" "$(tail -n 5 "$work/b.log")"
fi

# --------------------------------- PostgreSQL restarted under a gateway

if want restart; then
    p2=$(free_port)
    if pg_cluster_start "$work/pg2" "$p2" "fsync = off" >/dev/null 2>&1; then
        export PGHOST=$main_host PGPORT=$main_port  # pg_cluster_start pointed them at pg2
        "$PG_BIN/psql" -X -q -h "$work/pg2" -p "$p2" -U postgres -d postgres -c "CREATE DATABASE vecdb" >/dev/null &&
            "$PG_BIN/psql" -X -q -h "$work/pg2" -p "$p2" -U postgres -d vecdb \
                -c "SET client_min_messages = warning" -c "CREATE EXTENSION vecdb" >/dev/null
        rc=$(free_port) oc=$(free_port)
        start_gw c "$rc" --db "host=$work/pg2 port=$p2 user=postgres dbname=vecdb" --rest-port "$rc" \
            --oauth-port "$oc" --data-dir "$work/c" --workers 1 --pool-size 2 --queue-timeout 1500ms --http-timeout 2s \
            --registration off
        ok $? "gateway C starts on a cluster of the test's own"
        out=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$oc/oauth/register" -H 'Content-Type: application/json' \
            -d '{"redirect_uris":["https://a.example/cb"]}')
        matches "registration = off: 403 access_denied" '"error":"access_denied".* 403$' "$out"
        # a request that never ends is cut off after http_timeout (2 s)
        t0=$(date +%s.%N)
        exec 3<>"/dev/tcp/127.0.0.1/$rc"
        printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
        timeout 15 cat <&3 >/dev/null
        exec 3<&-
        took=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
        awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 8) }'
        ok $? "an unfinished request is closed after http_timeout (${took}s)"

        csecret=$(cred "$work/c" admin_client_secret)
        [ -n "$(token_for "$oc" admin "$csecret" read)" ]
        ok $? "gateway C issues tokens"

        as_pg_user "$PG_BIN/pg_ctl" -D "$work/pg2/data" -m fast -w restart >/dev/null 2>&1
        took=$(wait_for "ready" 30 ready "$rc")
        ok $? "PostgreSQL restarted under the gateway: /readyz is 200 again (${took:-never} s)"
        [ -n "$(token_for "$oc" admin "$csecret" read)" ]
        ok $? "after the restart tokens are issued again (statements prepared anew)"

        as_pg_user "$PG_BIN/pg_ctl" -D "$work/pg2/data" -m fast -w stop >/dev/null 2>&1
        t0=$(date +%s.%N)
        out=$(curl -s -i "http://127.0.0.1:$rc/readyz")
        took=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
        printf '%s' "$out" | grep -q '^HTTP/1.1 503' && awk -v t="$took" 'BEGIN { exit !(t < 4) }'
        ok $? "PostgreSQL down: /readyz is 503 after the bounded wait (${took}s, queue_timeout 1.5 s)" "$out"
        out=$(curl -s -u "admin:$csecret" "http://127.0.0.1:$oc/oauth/token" -d grant_type=client_credentials -w ' %{http_code}')
        matches "PostgreSQL down: the token endpoint answers 503 temporarily_unavailable" 'temporarily_unavailable.* 503$' "$out"

        # SIGTERM while a request waits: it is answered, new connections are refused
        curl -s -o "$work/drain.body" -w '%{http_code}' "http://127.0.0.1:$rc/readyz" >"$work/drain.code" &
        inflight=$!
        sleep 0.4
        kill -TERM "${gw_pid[c]}"
        sleep 0.3
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rc/healthz"
        refused=$?
        wait $inflight
        expect "drain: the request in flight at SIGTERM gets its answer" 503 "$(cat "$work/drain.code")"
        [ $refused -eq 7 ]
        ok $? "drain: new connections are refused at once (curl exit $refused)"
        stop_gw c
        st=$?
        ok $st "drain: gateway C exits 0 after its last request (exit $st)"
    else
        ok 1 "a cluster of the test's own starts" "$(tail -n 20 "$work/pg2/server.log" 2>/dev/null)"
    fi
fi

# ------------------------------------------------------- embedded mode

if want embedded; then
    re=$(free_port) oe=$(free_port)
    emb=$work/emb
    if [ "$(id -u)" -eq 0 ]; then
        out=$("$bin" serve --data-dir "$work/emb-nouser" --pg-bin "$PG_BIN" --pg-user no_such_user_42 \
            --rest-port "$re" --oauth-port "$oe" 2>&1)
        st=$?
        [ $st -eq 1 ] && printf '%s' "$out" | grep -q "pg_user 'no_such_user_42' does not exist"
        ok $? "embedded as root with a pg_user that does not exist: exit 1 saying so" "exit $st" "$out"
    fi
    VECDB_ADMIN_CLIENT_SECRET=admin_secret_2024 start_gw e "$re" --data-dir "$emb" --pg-bin "$PG_BIN" \
        --rest-port "$re" --oauth-port "$oe" --workers 1
    ok $? "embedded: vecdb serve without --db creates and starts its own PostgreSQL" "$(tail -n 20 "$work/e.log")"
    took=$(wait_for "ready" 30 ready "$re")
    ok $? "embedded: /readyz is 200 (${took:-never} s)"
    pm=$(head -n 1 "$emb/pgdata/postmaster.pid" 2>/dev/null)
    expect "embedded: the socket is in the data directory, TCP on 127.0.0.1 only" "$emb 127.0.0.1" \
        "$(sed -n '5p;6p' "$emb/pgdata/postmaster.pid" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
    if [ "$(id -u)" -eq 0 ]; then
        expect "embedded: as root, PostgreSQL runs as the postgres user" postgres "$(ps -o user= -p "$pm" | tr -d ' ')"
    fi
    pgport=$(sed -n '4p' "$emb/pgdata/postmaster.pid")
    ! "$PG_BIN/psql" -X -w -h 127.0.0.1 -p "$pgport" -U postgres -d vecdb -c 'SELECT 1' >/dev/null 2>&1 &&
        PGPASSWORD=$(cat "$emb/pg-password") "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$pgport" -U postgres -d vecdb \
            -c 'SELECT 1' 2>/dev/null | grep -q 1
    ok $? "embedded: TCP needs the password from pg-password (the unix socket is the gateway's)"
    expect "embedded: the extension is created" 1 \
        "$(PGPASSWORD=$(cat "$emb/pg-password") "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$pgport" -U postgres -d vecdb \
            -c "SELECT count(*) FROM pg_extension WHERE extname = 'vecdb'" 2>&1)"

    # the product description's example, verbatim
    out=$(curl -s -X POST "http://127.0.0.1:$oe/oauth/token" \
        -d "grant_type=client_credentials&client_id=admin&client_secret=admin_secret_2024&scope=read write")
    matches "embedded: VECDB_ADMIN_CLIENT_SECRET reproduces the product's admin/admin_secret_2024 example" \
        '"access_token":"ey[^"]+","token_type":"Bearer","expires_in":3600,"scope":"read write"' "$out"
    tok=$("$bin" token --client-id admin --client-secret admin_secret_2024 --scope "read write" --url "http://127.0.0.1:$oe" 2>&1)
    st=$?
    out=$(curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$re/api/v1/whoami")
    [ $st -eq 0 ] && printf '%s' "$out" | grep -q '"role":"vecdb_writer"'
    ok $? "vecdb token prints a token that works with curl" "exit $st: $tok" "$out"
    out=$("$bin" token --client-id admin --client-secret wrong --url "http://127.0.0.1:$oe" 2>&1)
    st=$?
    [ $st -eq 1 ] && printf '%s' "$out" | grep -q 'HTTP 401): invalid_client'
    ok $? "vecdb token with a wrong secret: exit 1 naming the error" "exit $st" "$out"

    kill -9 "$pm"
    took=$(wait_for "restart" 60 bash -c "[ -f '$emb/pgdata/postmaster.pid' ] && [ \"\$(head -n 1 '$emb/pgdata/postmaster.pid')\" != '$pm' ] && curl -sf -o /dev/null http://127.0.0.1:$re/readyz")
    ok $? "embedded: kill -9 of PostgreSQL: the gateway restarts it and /readyz recovers (${took:-never} s)" \
        "$(grep -i postgres "$work/e.log" | tail -n 5)"
    grep -q 'PostgreSQL was killed by signal 9 .*; restarting it in' "$work/e.log"
    ok $? "embedded: the log says PostgreSQL died and is restarted"
    [ -n "$(token_for "$oe" admin admin_secret_2024 read)" ]
    ok $? "embedded: tokens are issued after the restart"
    pm=$(head -n 1 "$emb/pgdata/postmaster.pid")
    stop_gw e
    st=$?
    ! kill -0 "$pm" 2>/dev/null
    gone=$?
    [ $st -eq 0 ] && [ $gone -eq 0 ]
    ok $? "embedded: SIGTERM stops the gateway (exit $st) and its PostgreSQL" "$(tail -n 5 "$work/e.log")"

    start_gw e2 "$re" --data-dir "$emb" --pg-bin "$PG_BIN" --rest-port "$re" --oauth-port "$oe" --workers 1
    ok $? "embedded: a second start reuses the cluster"
    ! grep -q 'first start' "$work/e2.out"
    ok $? "embedded: a second start prints no credentials"
    [ -n "$(token_for "$oe" admin admin_secret_2024 read)" ]
    ok $? "embedded: the admin secret of the first start still works"
    pm=$(head -n 1 "$emb/pgdata/postmaster.pid")
    out=$("$bin" stop --data-dir "$emb" 2>&1)
    st=$?
    wait "${gw_pid[e2]}"
    est=$?
    unset "gw_pid[e2]"
    [ $st -eq 0 ] && [ $est -eq 0 ] && ! kill -0 "$pm" 2>/dev/null && printf '%s' "$out" | grep -q 'vecdb stopped'
    ok $? "vecdb stop --data-dir stops the gateway and its PostgreSQL" "stop: exit $st: $out" "gateway exit $est"
fi

# ----------------------------------------------------------- sanitizers

reports=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work"/*.log 2>/dev/null)
[ -z "$reports" ]
ok $? "no sanitizer report in any gateway's log" "$(for f in $reports; do grep -A15 -E 'Sanitizer|runtime error' "$f" | head -n 30; done)"

awk '/^(ok|not ok) /{ n++; sub(/^(ok|not ok)/, "& " n) } { print } END { print "1.." n }' "$res"
! grep -q '^not ok' "$res"

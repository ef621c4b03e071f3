/*
 * bootstrap.c - start-up work on the database, before the event loops run.
 *
 * This is the only place that uses blocking libpq: nothing is served yet, so
 * nothing can stall.  Several gateways may start at once against one
 * database, so each creation runs in a transaction that first takes an
 * advisory lock and then looks again (the first one creates the key and the
 * admin credentials; the others find them).
 *
 * The admin client's secret and the admin user's password exist in clear
 * only here: generated (or taken from the settings) on first start, printed
 * once on stdout and written to DATA_DIR/admin-credentials (mode 0600), then
 * stored as hashes.  They are never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "bootstrap.h"
#include "jwt.h"
#include "log.h"
#include "secret.h"

#define BOOTSTRAP_LOCK "7206348117305741"

static void fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == '\n')
        err[--n] = '\0';
}

bool bootstrap_wait_for_db(const char *conninfo, int timeout_s, char *err, size_t errsize)
{
    time_t deadline = time(NULL) + timeout_s;
    for (;;) {
        PGconn *c = PQconnectdb(conninfo);
        bool ok = PQstatus(c) == CONNECTION_OK;
        if (!ok && time(NULL) >= deadline)
            fail(err, errsize, "cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        if (ok)
            return true;
        if (time(NULL) >= deadline)
            return false;
        usleep(200 * 1000);
    }
}

/* run sql with params; the result or NULL with err filled */
static PGresult *run(PGconn *c, const char *sql, int n, const char *const *params, char *err,
                     size_t errsize)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail(err, errsize, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

static bool run_ok(PGconn *c, const char *sql, int n, const char *const *params, char *err,
                   size_t errsize)
{
    PGresult *r = run(c, sql, n, params, err, errsize);
    PQclear(r);
    return r != NULL;
}

/* the extension: created in embedded mode, required otherwise */
static bool ensure_extension(PGconn *c, bool create, char *err, size_t errsize)
{
    if (create) {
        if (!run_ok(c, "SET client_min_messages = warning", 0, NULL, err, errsize) ||
            !run_ok(c, "CREATE EXTENSION IF NOT EXISTS vecdb", 0, NULL, err, errsize) ||
            !run_ok(c, "ALTER EXTENSION vecdb UPDATE", 0, NULL, err, errsize)) {
            char inner[512];
            snprintf(inner, sizeof(inner), "%s", err);
            fail(err, errsize,
                 "cannot create the vecdb extension: %s (is it installed into this PostgreSQL? "
                 "`make install`)",
                 inner);
            return false;
        }
    }
    PGresult *r =
        run(c,
            "SELECT e.extversion, n.nspname IS NOT NULL AS has_auth FROM pg_extension e "
            "LEFT JOIN pg_namespace n ON n.nspname = 'vecdb_auth' WHERE e.extname = 'vecdb'",
            0, NULL, err, errsize);
    if (!r)
        return false;
    bool ok = PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't';
    if (PQntuples(r) == 0)
        fail(err, errsize,
             "the vecdb extension is not installed in database '%s': run CREATE EXTENSION vecdb "
             "there (or start vecdb without --db to use its embedded PostgreSQL)",
             PQdb(c));
    else if (!ok)
        fail(err, errsize,
             "the vecdb extension in database '%s' is version %s, without the OAuth tables "
             "(schema vecdb_auth): run ALTER EXTENSION vecdb UPDATE",
             PQdb(c), PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

static bool ensure_signing_key(PGconn *c, char *err, size_t errsize)
{
    PGresult *r = run(c, "SELECT 1 FROM vecdb_auth.signing_keys WHERE retired_at IS NULL", 0, NULL,
                      err, errsize);
    if (!r)
        return false;
    int n = PQntuples(r);
    PQclear(r);
    if (n > 0)
        return true;
    EVP_PKEY *k = jwt_generate_key();
    char *pem = jwt_private_pem(k);
    char *kid = jwt_thumbprint(k);
    const char *params[] = {kid, pem};
    bool ok = run_ok(c,
                     "INSERT INTO vecdb_auth.signing_keys (kid, private_key) VALUES ($1, $2) "
                     "ON CONFLICT DO NOTHING",
                     2, params, err, errsize);
    if (ok)
        log_info("created signing key %s", kid);
    OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(kid);
    EVP_PKEY_free(k);
    return ok;
}

/* write the first-start credentials to a 0600 file in the data directory */
static void save_credentials(const struct config *cfg, const char *what)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin-credentials", cfg->data_dir);
    mkdir(cfg->data_dir, 0700);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_warning("cannot write %s: %s (the credentials were printed once above)", path,
                    strerror(errno));
        return;
    }
    fchmod(fd, 0600);
    ssize_t unused = write(fd, what, strlen(what));
    (void)unused;
    close(fd);
    log_info("first-start credentials written to %s (mode 0600)", path);
}

static bool ensure_admin(PGconn *c, const struct config *cfg, char *err, size_t errsize)
{
    const char *id = cfg->admin_client_id;
    const char *user = cfg->admin_user;
    const char *p1[] = {id};
    PGresult *r =
        run(c, "SELECT 1 FROM vecdb_auth.clients WHERE client_id = $1", 1, p1, err, errsize);
    if (!r)
        return false;
    bool have_client = PQntuples(r) > 0;
    PQclear(r);
    const char *p2[] = {user};
    r = run(c, "SELECT 1 FROM vecdb_auth.users WHERE username = $1", 1, p2, err, errsize);
    if (!r)
        return false;
    bool have_user = PQntuples(r) > 0;
    PQclear(r);
    if (have_client && have_user)
        return true;

    char note[2048];
    size_t n = snprintf(note, sizeof(note), "# vecdb first start, %s\n", PQdb(c));
    if (!have_client) {
        char *generated = cfg->admin_client_secret ? NULL : secret_random(32);
        const char *secret = generated ? generated : cfg->admin_client_secret;
        char *hash = secret_hash(secret, generated == NULL);
        const char *params[] = {id, hash};
        bool ok = run_ok(c,
                         "INSERT INTO vecdb_auth.clients (client_id, secret_hash, client_name, "
                         "scopes, grant_types, created_by) VALUES ($1, $2, 'admin', "
                         "'{read,write,admin}', '{client_credentials,refresh_token}', 'bootstrap')",
                         2, params, err, errsize);
        free(hash);
        if (!ok) {
            free(generated);
            return false;
        }
        n += snprintf(note + n, sizeof(note) - n, "admin_client_id=%s\nadmin_client_secret=%s\n",
                      id, secret);
        log_info("created the admin client '%s'%s", id,
                 generated ? " with a generated secret" : " with the configured secret");
        if (generated)
            OPENSSL_cleanse(generated, strlen(generated));
        free(generated);
    }
    if (!have_user) {
        char *generated = cfg->admin_password ? NULL : secret_random(18);
        const char *password = generated ? generated : cfg->admin_password;
        char *hash = secret_hash(password, true);
        const char *params[] = {user, hash};
        bool ok = run_ok(c,
                         "INSERT INTO vecdb_auth.users (username, password_hash, scopes) "
                         "VALUES ($1, $2, '{read,write,admin}')",
                         2, params, err, errsize);
        free(hash);
        if (!ok) {
            free(generated);
            return false;
        }
        n += snprintf(note + n, sizeof(note) - n, "admin_user=%s\nadmin_password=%s\n", user,
                      password);
        log_info("created the admin user '%s'%s", user,
                 generated ? " with a generated password" : " with the configured password");
        if (generated)
            OPENSSL_cleanse(generated, strlen(generated));
        free(generated);
    }
    /* shown once: the only place the secrets appear in clear */
    printf("\n%s# (shown once; also in %s/admin-credentials)\n\n", note, cfg->data_dir);
    fflush(stdout);
    save_credentials(cfg, note);
    OPENSSL_cleanse(note, sizeof(note));
    return true;
}

bool bootstrap_database(const struct config *cfg, const char *conninfo, bool create_extension,
                        struct authstate *st, char *err, size_t errsize)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fail(err, errsize, "cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return false;
    }
    bool ok =
        ensure_extension(c, create_extension, err, errsize) &&
        run_ok(c, "BEGIN", 0, NULL, err, errsize) &&
        run_ok(c, "SELECT pg_advisory_xact_lock(" BOOTSTRAP_LOCK ")", 0, NULL, err, errsize) &&
        ensure_signing_key(c, err, errsize) && ensure_admin(c, cfg, err, errsize) &&
        run_ok(c, "SELECT vecdb_auth.prune()", 0, NULL, err, errsize) &&
        run_ok(c, "COMMIT", 0, NULL, err, errsize);
    if (ok) {
        PGresult *keys = run(c,
                             "SELECT kid, private_key, retired_at IS NOT NULL AS retired FROM "
                             "vecdb_auth.signing_keys ORDER BY retired_at IS NOT NULL, "
                             "created_at DESC, kid",
                             0, NULL, err, errsize);
        PGresult *revoked =
            keys ? run(c,
                       "SELECT jti, floor(extract(epoch FROM expires_at))::bigint "
                       "AS exp FROM vecdb_auth.revoked_tokens WHERE expires_at > now()",
                       0, NULL, err, errsize)
                 : NULL;
        ok = keys && revoked && authstate_load_keys(st, keys);
        if (keys && revoked && !ok)
            fail(err, errsize, "no usable signing key in vecdb_auth.signing_keys");
        if (revoked)
            authstate_load_revocations(st, revoked);
        PQclear(keys);
        PQclear(revoked);
    }
    PQfinish(c);
    return ok;
}

bool bootstrap_rotate_key(const char *conninfo, char *kid_out, size_t kidsize, char *err,
                          size_t errsize)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fail(err, errsize, "cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return false;
    }
    EVP_PKEY *k = jwt_generate_key();
    char *pem = jwt_private_pem(k);
    char *kid = jwt_thumbprint(k);
    const char *params[] = {kid, pem};
    bool ok =
        run_ok(c, "BEGIN", 0, NULL, err, errsize) &&
        run_ok(c, "UPDATE vecdb_auth.signing_keys SET retired_at = now() WHERE retired_at IS NULL",
               0, NULL, err, errsize) &&
        run_ok(c, "INSERT INTO vecdb_auth.signing_keys (kid, private_key) VALUES ($1, $2)", 2,
               params, err, errsize) &&
        run_ok(c, "COMMIT", 0, NULL, err, errsize);
    if (ok)
        snprintf(kid_out, kidsize, "%s", kid);
    OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(kid);
    EVP_PKEY_free(k);
    PQfinish(c);
    return ok;
}

/*
 * rest.c - the REST port: health, readiness, and the authenticated request
 * path every REST endpoint follows.
 *
 * An authenticated request checks its bearer token here (signature, expiry,
 * issuer, audience, revocation: authstate_verify), maps its scopes to a
 * PostgreSQL role, and runs its statement in one transaction under
 * SET LOCAL ROLE, so PostgreSQL enforces what the scopes allow even if a
 * handler forgot to.  Failures follow RFC 6750: 401 with a WWW-Authenticate
 * naming the error for a missing or bad token, 403 for missing scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authstate.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "rest.h"
#include "worker.h"

static void healthz(struct request *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    http_reply_json(r, 200, o);
}

static const struct db_stmt stmt_ready = {"rest_ready", "SELECT 1", 0};

static void ready_done(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    if (res->status != DB_OK) {
        log_msg(LOG_WARNING, r->id, "not ready: %s", res->message);
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "Service Unavailable", "the database is not reachable");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ready"));
    http_reply_json(r, 200, o);
}

static void readyz(struct request *r)
{
    db_exec(r->worker->pool, &stmt_ready, NULL, 0, NULL, ready_done, r);
}

bool rest_authenticate(struct request *r, struct token_info *info)
{
    const char *token = http_bearer(r);
    const char *why = NULL;
    char hdr[512];
    if (!token) {
        http_set_header(r, "WWW-Authenticate", "Bearer realm=\"vecdb\"");
        http_reply_problem(r, 401, "Unauthorized",
                           "this endpoint needs an access token: Authorization: Bearer TOKEN");
        return false;
    }
    if (!authstate_verify(r->worker->gw->auth, token, info, &why)) {
        log_msg(LOG_INFO, r->id, "token refused: %s", why);
        snprintf(hdr, sizeof(hdr),
                 "Bearer realm=\"vecdb\", error=\"invalid_token\", "
                 "error_description=\"%s\"",
                 why);
        http_set_header(r, "WWW-Authenticate", hdr);
        http_reply_problem(r, 401, "Unauthorized", why);
        return false;
    }
    return true;
}

void rest_reply_db_error(struct request *r, const struct db_result *res)
{
    switch (res->status) {
    case DB_OK:
        break;
    case DB_UNAVAILABLE:
    case DB_LOST:
        log_msg(LOG_WARNING, r->id, "database: %s", res->message);
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "Service Unavailable",
                           res->status == DB_LOST
                               ? "the database connection was lost; the outcome is unknown"
                               : "the database is busy or unreachable; try again");
        return;
    case DB_ERROR:
        log_msg(LOG_WARNING, r->id, "database error %s: %s", res->sqlstate ? res->sqlstate : "?",
                res->message);
        if (res->sqlstate && strcmp(res->sqlstate, "42501") == 0) {
            http_reply_problem(r, 403, "Forbidden", "the token's scopes do not allow this");
            return;
        }
        http_reply_problem(r, 500, "Internal Server Error", "the database reported an error");
        return;
    }
}

/* whoami: the token's identity, and the role PostgreSQL runs its requests as */
struct whoami {
    struct token_info info;
};

static const struct db_stmt stmt_whoami = {"rest_whoami", "SELECT current_user AS role", 0};

static void whoami_done(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct whoami *w = r->state;
    if (res->status != DB_OK) {
        rest_reply_db_error(r, res);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "sub", json_object_new_string(w->info.sub));
    json_object_object_add(o, "client_id", json_object_new_string(w->info.client_id));
    json_object_object_add(o, "scope", json_object_new_string(scope_format(w->info.scopes)));
    json_object_object_add(o, "role", json_object_new_string(db_value(res->res, 0, "role")));
    json_object_object_add(o, "exp", json_object_new_int64(w->info.exp));
    http_reply_json(r, 200, o);
}

static void whoami(struct request *r)
{
    struct whoami *w = calloc(1, sizeof(*w));
    r->state = w;
    r->free_state = free;
    if (!rest_authenticate(r, &w->info))
        return;
    const char *role = scope_role(scope_expand(w->info.scopes));
    if (!role) {
        http_set_header(r, "WWW-Authenticate",
                        "Bearer realm=\"vecdb\", error=\"insufficient_scope\", scope=\"read\"");
        http_reply_problem(r, 403, "Forbidden", "the token has no scope");
        return;
    }
    db_exec(r->worker->pool, &stmt_whoami, role, 0, NULL, whoami_done, r);
}

static const struct route rest_routes[] = {
    {M_GET, "/healthz", healthz, 0},
    {M_GET, "/readyz", readyz, 0},
    {M_GET, "/api/v1/whoami", whoami, 0},
    {0, NULL, NULL, 0},
};

const struct listener_def rest_listener = {"rest", rest_routes};

/*
 * oauth.c - the OAuth 2.1 authorization server: routes, metadata, JWKS,
 * client authentication and the token endpoint.
 *
 * Token endpoint (RFC 6749 §3.2, OAuth 2.1 draft §3.2):
 *
 *   client_credentials   the client acts for itself: sub = client_id
 *   refresh_token        rotation: the presented token is used up and a new
 *                        one of the same family returned; presenting a used
 *                        token again revokes the family (reuse detection)
 *   authorization_code   one-time code + PKCE S256 verifier + the exact
 *                        redirect_uri of the authorization request
 *
 * Scopes are read, write, admin; admin implies the others.  A request may
 * ask for at most what the client (or, for a code, the user) has: asking
 * for more is invalid_scope, never a silent cut.  `resource` (RFC 8707)
 * becomes the token's audience; it must be the public URL or a path under
 * it.  Errors are RFC 6749 §5.2 JSON; a failed client authentication is 401
 * and counts against the client's and the address's failure limits.
 *
 * Every access token issued with a refresh token names the refresh-token
 * family in its `sid` claim, so that revoking the family (RFC 7009 on the
 * refresh token, reuse detection, a replayed code) revokes its access
 * tokens on every gateway with one row: vecdb_auth.revoke_family().
 *
 * Client authentication (token, revocation, introspection): HTTP Basic
 * (client_secret_basic) or client_id and client_secret in the form body
 * (client_secret_post), never both; a public client (none) sends its
 * client_id only.  A client registered through RFC 7591 is held to the
 * token_endpoint_auth_method it registered (default client_secret_basic);
 * the clients the operator made (the first start's admin client) may use
 * either secret method, since the product's documented examples send the
 * admin secret in the body.
 *
 * Each handler is a chain of callbacks over one struct oauth_req (embedded
 * at the head of the handler's own state), freed with the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "oauth.h"
#include "offload.h"
#include "ratelimit.h"
#include "secret.h"
#include "worker.h"

const struct db_stmt stmt_client = {
    "oauth_client",
    "SELECT client_id, secret_hash, client_name, scopes, grant_types, redirect_uris, "
    "token_endpoint_auth_method, created_by, floor(extract(epoch FROM created_at))::bigint AS "
    "created FROM vecdb_auth.clients WHERE client_id = $1",
    1};

const struct db_stmt stmt_refresh_get = {
    "oauth_refresh_get",
    "SELECT id, family, secret_hash, client_id, subject, scope, resource, "
    "used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS "
    "expired, floor(extract(epoch FROM expires_at))::bigint AS exp "
    "FROM vecdb_auth.refresh_tokens WHERE id = $1",
    1};

/* the family's refresh tokens and, through its sid, its access tokens */
const struct db_stmt stmt_revoke_family = {"oauth_revoke_family",
                                           "SELECT vecdb_auth.revoke_family($1)", 1};

const struct db_stmt stmt_revoke_jti = {
    "oauth_revoke_jti",
    "INSERT INTO vecdb_auth.revoked_tokens (jti, expires_at) VALUES ($1, to_timestamp($2::bigint)) "
    "ON CONFLICT (jti) DO NOTHING",
    2};

static const struct db_stmt stmt_refresh_insert = {
    "oauth_refresh_insert",
    "INSERT INTO vecdb_auth.refresh_tokens (id, family, secret_hash, client_id, subject, scope, "
    "resource, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => "
    "$8::int))",
    8};

static const struct db_stmt stmt_refresh_rotate = {
    "oauth_refresh_rotate",
    "SELECT vecdb_auth.rotate_refresh_token($1, $2, $3, $4, now() + make_interval(secs => "
    "$5::int)) AS outcome",
    5};

static const struct db_stmt stmt_code_use = {
    "oauth_code_use", "SELECT * FROM vecdb_auth.use_authorization_code($1, $2)", 2};

/* ------------------------------------------------------------- shared */

struct authstate *oauth_auth(struct request *r)
{
    return r->worker->gw->auth;
}

const struct config *oauth_cfg(struct request *r)
{
    return r->worker->gw->cfg;
}

void client_clear(struct client *c)
{
    free(c->name);
    free(c->redirect_uris);
    memset(c, 0, sizeof(*c));
}

unsigned grants_from_array(const char *pgarray)
{
    unsigned g = 0;
    if (!pgarray)
        return 0;
    if (strstr(pgarray, "client_credentials"))
        g |= GRANT_CLIENT_CREDENTIALS;
    if (strstr(pgarray, "authorization_code"))
        g |= GRANT_AUTHORIZATION_CODE;
    if (strstr(pgarray, "refresh_token"))
        g |= GRANT_REFRESH_TOKEN;
    return g;
}

void client_from_row(struct client *c, const PGresult *res, int row)
{
    client_clear(c);
    snprintf(c->client_id, sizeof(c->client_id), "%s", db_value(res, row, "client_id"));
    c->confidential = db_value(res, row, "secret_hash") != NULL;
    c->scopes = scope_from_array(db_value(res, row, "scopes"));
    c->grants = grants_from_array(db_value(res, row, "grant_types"));
    const char *name = db_value(res, row, "client_name");
    c->name = name ? strdup(name) : NULL;
    const char *uris = db_value(res, row, "redirect_uris");
    c->redirect_uris = strdup(uris ? uris : "{}");
    snprintf(c->auth_method, sizeof(c->auth_method), "%s",
             db_value(res, row, "token_endpoint_auth_method"));
    const char *created_by = db_value(res, row, "created_by");
    c->registered = created_by && strcmp(created_by, "registration") == 0;
    const char *created = db_value(res, row, "created");
    c->created = created ? atol(created) : 0;
}

/*
 * The elements of a text[] literal: PostgreSQL quotes an element that has
 * commas, quotes, braces, backslashes or spaces ("...", with \" and \\).
 * Calls fn for each element until it returns true.
 */
static bool each_array_element(const char *lit, bool (*fn)(const char *elem, void *arg), void *arg)
{
    if (!lit || *lit != '{')
        return false;
    const char *p = lit + 1;
    char *buf = malloc(strlen(lit) + 1);
    bool stop = false;
    while (*p && *p != '}' && !stop) {
        size_t n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                buf[n++] = *p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                buf[n++] = *p++;
        }
        buf[n] = '\0';
        stop = fn(buf, arg);
        if (*p == ',')
            p++;
    }
    free(buf);
    return stop;
}

struct uri_match {
    const char *want;
    int count;
    char *only;
};

static bool match_uri(const char *elem, void *arg)
{
    struct uri_match *m = arg;
    m->count++;
    if (m->count == 1)
        m->only = strdup(elem);
    return m->want && strcmp(elem, m->want) == 0;
}

bool client_redirect_ok(const struct client *c, const char *uri, char **chosen)
{
    struct uri_match m = {uri, 0, NULL};
    bool found = each_array_element(c->redirect_uris, match_uri, &m);
    if (uri) {
        free(m.only);
        *chosen = found ? strdup(uri) : NULL;
        return found;
    }
    if (m.count == 1) {
        *chosen = m.only;
        return true;
    }
    free(m.only);
    *chosen = NULL;
    return false;
}

static void oauth_req_free(void *p)
{
    struct oauth_req *o = p;
    form_free(&o->form);
    client_clear(&o->client);
    if (o->presented_secret)
        OPENSSL_cleanse(o->presented_secret, strlen(o->presented_secret));
    free(o->presented_id);
    free(o->presented_secret);
    free(o->stored_hash);
    free(o);
}

struct oauth_req *oauth_req_new(struct request *r, size_t size)
{
    struct oauth_req *o = calloc(1, size);
    r->state = o;
    r->free_state = oauth_req_free;
    return o;
}

bool oauth_parse_form_body(struct request *r, struct oauth_req *o)
{
    const char *ct = http_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct[33] != '\0' && ct[33] != ';')) {
        http_reply_oauth_error(r, 400, "invalid_request",
                               "the body must be application/x-www-form-urlencoded");
        return false;
    }
    const char *body = http_body(r, NULL);
    const char *dup = NULL;
    if (!body || !form_parse(body, &o->form, &dup)) {
        char msg[128];
        if (dup)
            snprintf(msg, sizeof(msg), "parameter '%s' is given more than once", dup);
        else
            snprintf(msg, sizeof(msg), "the form body is not valid");
        http_reply_oauth_error(r, 400, "invalid_request", msg);
        return false;
    }
    return true;
}

bool oauth_split_refresh(const char *token, char **id, char **secret)
{
    const char *dot = strchr(token, '.');
    if (!dot || dot == token || !dot[1] || strchr(dot + 1, '.') || strlen(token) > 200)
        return false;
    *id = strndup(token, dot - token);
    *secret = strdup(dot + 1);
    return true;
}

/* -------------------------------------------------------- rate limits */

bool oauth_rate_limited(struct request *r, const char *key)
{
    const struct config *cfg = oauth_cfg(r);
    int retry;
    if (!ratelimit_blocked(key, CFG_GET(cfg->auth_fail_limit), CFG_GET(cfg->auth_fail_window),
                           &retry))
        return false;
    char secs[16];
    snprintf(secs, sizeof(secs), "%d", retry);
    log_msg(LOG_WARNING, r->id, "too many failed authentications for %s", key);
    http_set_header(r, "Retry-After", secs);
    http_reply_oauth_error(r, 429, "temporarily_unavailable",
                           "too many failed attempts; try again after Retry-After seconds");
    return true;
}

void oauth_count_failure(struct request *r, const char *key)
{
    ratelimit_fail(key, CFG_GET(oauth_cfg(r)->auth_fail_window));
}

/* ------------------------------------------------ client authentication */

/* a failed client authentication: counted, logged with why, answered 401
 * with description (NULL: the generic one, which says nothing about which
 * part was wrong) */
static void client_auth_failed(struct request *r, const char *why, const char *description)
{
    struct oauth_req *o = r->state;
    char key[200];
    snprintf(key, sizeof(key), "client:%s", o->presented_id ? o->presented_id : "");
    oauth_count_failure(r, key);
    snprintf(key, sizeof(key), "addr:%s", r->peer);
    oauth_count_failure(r, key);
    log_msg(LOG_INFO, r->id, "client authentication failed for '%s': %s",
            o->presented_id ? o->presented_id : "", why);
    http_reply_oauth_error(r, 401, "invalid_client",
                           description ? description : "client authentication failed");
}

/*
 * Is the client authenticating the way it must: a registered confidential
 * client by the method it registered; the operator's clients by either.
 * Checked after the secret, so only a caller who knows the secret learns
 * which method the client has.  False: answered.
 */
static bool auth_method_ok(struct request *r)
{
    struct oauth_req *o = r->state;
    const char *m = o->client.auth_method;
    if (!o->client.registered)
        return true;
    if (strcmp(m, "client_secret_basic") == 0 && !o->used_basic) {
        client_auth_failed(r, "client_secret_post used by a client_secret_basic client",
                           "this client is registered with token_endpoint_auth_method "
                           "client_secret_basic: send its credentials with HTTP Basic, not "
                           "in the body");
        return false;
    }
    if (strcmp(m, "client_secret_post") == 0 && o->used_basic) {
        client_auth_failed(r, "client_secret_basic used by a client_secret_post client",
                           "this client is registered with token_endpoint_auth_method "
                           "client_secret_post: send client_id and client_secret in the body, "
                           "not with HTTP Basic");
        return false;
    }
    return true;
}

static void verify_work(void *arg)
{
    struct request *r = arg;
    struct oauth_req *o = r->state;
    o->verified = secret_verify(o->presented_secret, o->stored_hash);
}

static void verify_done(void *arg)
{
    struct request *r = arg;
    struct oauth_req *o = r->state;
    if (!o->verified) {
        client_auth_failed(r, "wrong secret", NULL);
        return;
    }
    if (!auth_method_ok(r))
        return;
    o->next(r);
}

struct client_lookup {
    bool allow_public;
};

static void client_loaded(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct oauth_req *o = r->state;
    if (res->status != DB_OK) {
        log_msg(LOG_WARNING, r->id, "client lookup failed: %s", res->message);
        http_set_header(r, "Retry-After", "1");
        http_reply_oauth_error(r, 503, "temporarily_unavailable", "the database is not reachable");
        return;
    }
    if (PQntuples(res->res) != 1) {
        client_auth_failed(r, "unknown client", NULL);
        return;
    }
    client_from_row(&o->client, res->res, 0);
    const char *hash = db_value(res->res, 0, "secret_hash");
    if (!hash) {
        /* a public client: it proves nothing here, PKCE proves it later */
        if (o->presented_secret) {
            client_auth_failed(r, "a public client sent a secret",
                               "this client is public (token_endpoint_auth_method none): it "
                               "sends its client_id only, no secret");
            return;
        }
        if (!o->verified) { /* verified doubles as "public clients allowed" */
            http_reply_oauth_error(r, 401, "invalid_client",
                                   "a public client cannot use this endpoint or grant");
            return;
        }
        o->next(r);
        return;
    }
    if (!o->presented_secret) {
        client_auth_failed(r, "no secret", NULL);
        return;
    }
    o->stored_hash = strdup(hash);
    if (secret_is_slow(hash)) {
        offload_run(r->worker->base, verify_work, verify_done, r);
    } else {
        verify_work(r);
        verify_done(r);
    }
}

void oauth_authenticate_client(struct request *r, bool allow_public)
{
    struct oauth_req *o = r->state;
    char *bid = NULL, *bsecret = NULL;
    bool malformed;
    bool basic = http_basic_auth(r, &bid, &bsecret, &malformed);
    if (basic && malformed) {
        http_reply_oauth_error(r, 401, "invalid_client", "the Authorization header is malformed");
        return;
    }
    const char *fid = form_get(&o->form, "client_id");
    const char *fsecret = form_get(&o->form, "client_secret");
    if (basic) {
        if (fsecret || (fid && strcmp(fid, bid) != 0)) {
            free(bid);
            free(bsecret);
            http_reply_oauth_error(r, 400, "invalid_request",
                                   "use one client authentication method, not two");
            return;
        }
        o->presented_id = bid;
        o->presented_secret = bsecret;
        o->used_basic = true;
    } else {
        if (!fid) {
            http_reply_oauth_error(r, 401, "invalid_client",
                                   "client authentication is required (HTTP Basic or client_id "
                                   "and client_secret in the body)");
            return;
        }
        o->presented_id = strdup(fid);
        o->presented_secret = fsecret ? strdup(fsecret) : NULL;
    }
    char key[200];
    snprintf(key, sizeof(key), "addr:%s", r->peer);
    if (oauth_rate_limited(r, key))
        return;
    snprintf(key, sizeof(key), "client:%s", o->presented_id);
    if (oauth_rate_limited(r, key))
        return;
    o->verified = allow_public;
    const char *params[] = {o->presented_id};
    db_exec(r->worker->pool, &stmt_client, NULL, 1, params, client_loaded, r);
}

/* ------------------------------------------------------ token issuance */

char *oauth_issue_access_token(struct request *r, const char *subject, const char *client_id,
                               unsigned scopes, const char *audience, const char *family, long *exp)
{
    const struct config *cfg = oauth_cfg(r);
    long now = time(NULL);
    *exp = now + CFG_GET(cfg->token_lifetime);
    char *jti = secret_random(16);
    json_object *c = json_object_new_object();
    json_object_object_add(c, "iss", json_object_new_string(cfg->issuer_url));
    json_object_object_add(c, "sub", json_object_new_string(subject));
    json_object_object_add(c, "aud", json_object_new_string(audience ? audience : cfg->public_url));
    json_object_object_add(c, "client_id", json_object_new_string(client_id));
    json_object_object_add(c, "scope", json_object_new_string(scope_format(scopes)));
    json_object_object_add(c, "iat", json_object_new_int64(now));
    json_object_object_add(c, "exp", json_object_new_int64(*exp));
    json_object_object_add(c, "jti", json_object_new_string(jti));
    if (family)
        json_object_object_add(c, "sid", json_object_new_string(family));
    char *token = authstate_sign(oauth_auth(r), c);
    json_object_put(c);
    log_msg(LOG_INFO, r->id, "issued access token %s to client %s for %s (%s)", jti, client_id,
            subject, scope_format(scopes));
    free(jti);
    return token;
}

/* the state of a /oauth/token request */
struct token_req {
    struct oauth_req o; /* first: the request's state is both */
    unsigned grant;
    unsigned scopes;
    char *subject;
    char *resource;
    char *family;
    char *refresh_id;
    char *refresh_token; /* the new one, in clear, for the reply */
    char *old_refresh_id;
    char *access_token;
    long exp;
};

static void token_req_free(void *p)
{
    struct token_req *t = p;
    free(t->subject);
    free(t->resource);
    free(t->family);
    free(t->refresh_id);
    if (t->refresh_token)
        OPENSSL_cleanse(t->refresh_token, strlen(t->refresh_token));
    free(t->refresh_token);
    free(t->old_refresh_id);
    free(t->access_token);
    form_free(&t->o.form);
    client_clear(&t->o.client);
    if (t->o.presented_secret)
        OPENSSL_cleanse(t->o.presented_secret, strlen(t->o.presented_secret));
    free(t->o.presented_id);
    free(t->o.presented_secret);
    free(t->o.stored_hash);
    free(t);
}

static void reply_db_unavailable(struct request *r, const struct db_result *res)
{
    log_msg(LOG_WARNING, r->id, "database: %s", res->message ? res->message : "?");
    http_set_header(r, "Retry-After", "1");
    http_reply_oauth_error(r, 503, "temporarily_unavailable",
                           "the authorization server's database is not reachable; try again");
}

static void token_reply(struct request *r)
{
    struct token_req *t = r->state;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(t->access_token));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int64(t->exp - time(NULL)));
    json_object_object_add(o, "scope", json_object_new_string(scope_format(t->scopes)));
    if (t->refresh_token)
        json_object_object_add(o, "refresh_token", json_object_new_string(t->refresh_token));
    http_set_header(r, "Pragma", "no-cache");
    http_reply_json(r, 200, o);
}

static void refresh_stored(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    if (res->status != DB_OK) {
        reply_db_unavailable(r, res);
        return;
    }
    token_reply(r);
}

/* make the new refresh token's id and secret; the hash goes to the database */
static char *new_refresh_token(struct token_req *t)
{
    char *secret = secret_random(32);
    t->refresh_id = secret_random(12);
    t->refresh_token = malloc(strlen(t->refresh_id) + strlen(secret) + 2);
    sprintf(t->refresh_token, "%s.%s", t->refresh_id, secret);
    char *hash = secret_hash(secret, false);
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    return hash;
}

/* sign the access token and, if the client may refresh, store a new
 * refresh-token family (or, for codes, the family the code recorded); the
 * access token names its family (sid), so revoking the family revokes it */
static void issue_tokens(struct request *r)
{
    struct token_req *t = r->state;
    if (!t->family && (t->o.client.grants & GRANT_REFRESH_TOKEN))
        t->family = secret_random(12);
    t->access_token = oauth_issue_access_token(r, t->subject, t->o.client.client_id, t->scopes,
                                               t->resource, t->family, &t->exp);
    if (!t->access_token) {
        http_reply_oauth_error(r, 500, "server_error", "no signing key");
        return;
    }
    if (!(t->o.client.grants & GRANT_REFRESH_TOKEN)) {
        token_reply(r);
        return;
    }
    char *hash = new_refresh_token(t);
    char lifetime[16];
    snprintf(lifetime, sizeof(lifetime), "%d", CFG_GET(oauth_cfg(r)->refresh_token_lifetime));
    const char *params[] = {t->refresh_id,         t->family,  hash,
                            t->o.client.client_id, t->subject, scope_format(t->scopes),
                            t->resource,           lifetime};
    db_exec(r->worker->pool, &stmt_refresh_insert, NULL, 8, params, refresh_stored, r);
    free(hash);
}

/* scope and resource parameters against what is allowed: false if answered */
static bool check_scope_and_resource(struct request *r, unsigned allowed, unsigned *granted)
{
    struct token_req *t = r->state;
    const char *scope = form_get(&t->o.form, "scope");
    char bad[80];
    unsigned want;
    if (!scope) {
        want = allowed;
    } else if (!scope_parse(scope, &want, bad, sizeof(bad))) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown scope '%s' (scopes: read, write, admin)", bad);
        http_reply_oauth_error(r, 400, "invalid_scope", msg);
        return false;
    }
    if (want & ~scope_expand(allowed)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "scope '%s' exceeds what was granted ('%s')", scope_format(want),
                 scope_format(allowed));
        http_reply_oauth_error(r, 400, "invalid_scope", msg);
        return false;
    }
    if (want == 0) {
        http_reply_oauth_error(r, 400, "invalid_scope", "no scope requested");
        return false;
    }
    *granted = want;
    const char *resource = form_get(&t->o.form, "resource");
    if (resource) {
        if (!authstate_resource_ok(oauth_auth(r), resource)) {
            char msg[300];
            snprintf(msg, sizeof(msg), "resource must be %s or a URL under it",
                     oauth_cfg(r)->public_url);
            http_reply_oauth_error(r, 400, "invalid_target", msg);
            return false;
        }
        free(t->resource);
        t->resource = strdup(resource);
    }
    return true;
}

/* client_credentials: the client acts for itself */
static void grant_client_credentials(struct request *r)
{
    struct token_req *t = r->state;
    if (!check_scope_and_resource(r, t->o.client.scopes, &t->scopes))
        return;
    t->subject = strdup(t->o.client.client_id);
    issue_tokens(r);
}

/* refresh_token: check the presented token, then rotate it */
static void refresh_rotated(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct token_req *t = r->state;
    if (res->status != DB_OK) {
        reply_db_unavailable(r, res);
        return;
    }
    const char *outcome = db_value(res->res, 0, "outcome");
    if (!outcome || strcmp(outcome, "rotated") != 0) {
        bool reused = outcome && strcmp(outcome, "reused") == 0;
        log_msg(LOG_WARNING, r->id, "refresh token %s %s", t->old_refresh_id,
                reused ? "reused: its family is revoked" : "no longer valid");
        http_reply_oauth_error(r, 400, "invalid_grant",
                               reused ? "the refresh token was already used; every token of its "
                                        "family is now revoked"
                                      : "the refresh token is not valid");
        return;
    }
    t->access_token = oauth_issue_access_token(r, t->subject, t->o.client.client_id, t->scopes,
                                               t->resource, t->family, &t->exp);
    if (!t->access_token) {
        http_reply_oauth_error(r, 500, "server_error", "no signing key");
        return;
    }
    token_reply(r);
}

static void refresh_loaded(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct token_req *t = r->state;
    if (res->status != DB_OK) {
        reply_db_unavailable(r, res);
        return;
    }
    const char *presented = form_get(&t->o.form, "refresh_token");
    char *id = NULL, *secret = NULL;
    oauth_split_refresh(presented, &id, &secret);
    bool found = PQntuples(res->res) == 1;
    bool secret_ok = found && secret_verify(secret, db_value(res->res, 0, "secret_hash"));
    OPENSSL_cleanse(secret, strlen(secret));
    free(id);
    free(secret);
    if (!secret_ok) {
        char key[200];
        snprintf(key, sizeof(key), "client:%s", t->o.client.client_id);
        oauth_count_failure(r, key);
        http_reply_oauth_error(r, 400, "invalid_grant", "the refresh token is not valid");
        return;
    }
    if (strcmp(db_value(res->res, 0, "client_id"), t->o.client.client_id) != 0) {
        http_reply_oauth_error(r, 400, "invalid_grant",
                               "the refresh token was issued to another client");
        return;
    }
    bool used = db_value(res->res, 0, "used")[0] == 't';
    bool revoked = db_value(res->res, 0, "revoked")[0] == 't';
    bool expired = db_value(res->res, 0, "expired")[0] == 't';
    if (revoked || (expired && !used)) {
        http_reply_oauth_error(r, 400, "invalid_grant",
                               revoked ? "the refresh token has been revoked"
                                       : "the refresh token has expired");
        return;
    }
    unsigned original = 0;
    char bad[80];
    scope_parse(db_value(res->res, 0, "scope"), &original, bad, sizeof(bad));
    t->subject = strdup(db_value(res->res, 0, "subject"));
    t->family = strdup(db_value(res->res, 0, "family"));
    const char *resource = db_value(res->res, 0, "resource");
    t->resource = resource ? strdup(resource) : NULL;
    if (!used && !check_scope_and_resource(r, original, &t->scopes))
        return;
    if (form_get(&t->o.form, "resource") && resource &&
        strcmp(form_get(&t->o.form, "resource"), resource) != 0) {
        http_reply_oauth_error(r, 400, "invalid_target",
                               "a refresh keeps the resource of the original grant");
        return;
    }
    /* a used token goes to the function too: it revokes the family */
    char *hash = new_refresh_token(t);
    char lifetime[16];
    snprintf(lifetime, sizeof(lifetime), "%d", CFG_GET(oauth_cfg(r)->refresh_token_lifetime));
    const char *params[] = {t->old_refresh_id, t->refresh_id, hash,
                            scope_format(t->scopes ? t->scopes : original), lifetime};
    db_exec(r->worker->pool, &stmt_refresh_rotate, NULL, 5, params, refresh_rotated, r);
    free(hash);
}

static void grant_refresh_token(struct request *r)
{
    struct token_req *t = r->state;
    const char *presented = form_get(&t->o.form, "refresh_token");
    char *id = NULL, *secret = NULL;
    if (!presented) {
        http_reply_oauth_error(r, 400, "invalid_request", "refresh_token is required");
        return;
    }
    if (!oauth_split_refresh(presented, &id, &secret)) {
        http_reply_oauth_error(r, 400, "invalid_grant", "the refresh token is not valid");
        return;
    }
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    t->old_refresh_id = id;
    const char *params[] = {id};
    db_exec(r->worker->pool, &stmt_refresh_get, NULL, 1, params, refresh_loaded, r);
}

/* authorization_code: use the code once, then check client, redirect URI
 * and the PKCE verifier */
static bool valid_verifier(const char *v)
{
    size_t n = strlen(v);
    if (n < 43 || n > 128)
        return false;
    for (; *v; v++) {
        char c = *v;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

static void code_used(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct token_req *t = r->state;
    if (res->status != DB_OK) {
        reply_db_unavailable(r, res);
        return;
    }
    const char *outcome = db_value(res->res, 0, "outcome");
    if (!outcome || strcmp(outcome, "ok") != 0) {
        bool replayed = outcome && strcmp(outcome, "replayed") == 0;
        if (replayed)
            log_msg(LOG_WARNING, r->id, "authorization code replayed by client %s",
                    t->o.client.client_id);
        http_reply_oauth_error(r, 400, "invalid_grant",
                               replayed ? "the authorization code was already used; the tokens "
                                          "issued for it are revoked"
                                        : "the authorization code is not valid or has expired");
        return;
    }
    if (strcmp(db_value(res->res, 0, "client_id"), t->o.client.client_id) != 0) {
        http_reply_oauth_error(r, 400, "invalid_grant",
                               "the authorization code was issued to another client");
        return;
    }
    const char *redirect = form_get(&t->o.form, "redirect_uri");
    if (!redirect || strcmp(redirect, db_value(res->res, 0, "redirect_uri")) != 0) {
        http_reply_oauth_error(r, 400, "invalid_grant",
                               "redirect_uri does not match the authorization request's");
        return;
    }
    const char *verifier = form_get(&t->o.form, "code_verifier");
    unsigned char md[32];
    unsigned int mdlen;
    EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL);
    char *computed = b64url_encode(md, 32);
    bool pkce_ok = const_time_streq(computed, db_value(res->res, 0, "code_challenge"));
    free(computed);
    if (!pkce_ok) {
        http_reply_oauth_error(r, 400, "invalid_grant", "the PKCE code_verifier does not match");
        return;
    }
    char bad[80];
    scope_parse(db_value(res->res, 0, "scope"), &t->scopes, bad, sizeof(bad));
    t->subject = strdup(db_value(res->res, 0, "username"));
    const char *resource = db_value(res->res, 0, "resource");
    const char *asked = form_get(&t->o.form, "resource");
    if (asked && (!resource || strcmp(asked, resource) != 0)) {
        http_reply_oauth_error(r, 400, "invalid_target",
                               "resource differs from the authorization request's");
        return;
    }
    t->resource = resource ? strdup(resource) : NULL;
    issue_tokens(r);
}

static void grant_authorization_code(struct request *r)
{
    struct token_req *t = r->state;
    const char *code = form_get(&t->o.form, "code");
    const char *verifier = form_get(&t->o.form, "code_verifier");
    if (!code || !form_get(&t->o.form, "redirect_uri")) {
        http_reply_oauth_error(r, 400, "invalid_request", "code and redirect_uri are required");
        return;
    }
    if (!verifier) {
        http_reply_oauth_error(r, 400, "invalid_request",
                               "code_verifier is required (PKCE with S256)");
        return;
    }
    if (!valid_verifier(verifier)) {
        http_reply_oauth_error(r, 400, "invalid_grant",
                               "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
        return;
    }
    char code_hash[65];
    sha256_hex(code, code_hash);
    t->family = secret_random(12);
    const char *params[] = {code_hash, t->family};
    db_exec(r->worker->pool, &stmt_code_use, NULL, 2, params, code_used, r);
}

static void token_client_authenticated(struct request *r)
{
    struct token_req *t = r->state;
    if (!(t->o.client.grants & t->grant)) {
        http_reply_oauth_error(r, 400, "unauthorized_client",
                               "this client may not use this grant type");
        return;
    }
    switch (t->grant) {
    case GRANT_CLIENT_CREDENTIALS:
        grant_client_credentials(r);
        break;
    case GRANT_REFRESH_TOKEN:
        grant_refresh_token(r);
        break;
    case GRANT_AUTHORIZATION_CODE:
        grant_authorization_code(r);
        break;
    }
}

static void token_endpoint(struct request *r)
{
    struct token_req *t = calloc(1, sizeof(*t));
    r->state = t;
    r->free_state = token_req_free;
    if (!oauth_parse_form_body(r, &t->o))
        return;
    const char *grant = form_get(&t->o.form, "grant_type");
    if (!grant) {
        http_reply_oauth_error(r, 400, "invalid_request", "grant_type is required");
        return;
    }
    if (strcmp(grant, "client_credentials") == 0)
        t->grant = GRANT_CLIENT_CREDENTIALS;
    else if (strcmp(grant, "refresh_token") == 0)
        t->grant = GRANT_REFRESH_TOKEN;
    else if (strcmp(grant, "authorization_code") == 0)
        t->grant = GRANT_AUTHORIZATION_CODE;
    else {
        http_reply_oauth_error(r, 400, "unsupported_grant_type",
                               "grant_type must be client_credentials, authorization_code or "
                               "refresh_token");
        return;
    }
    t->o.next = token_client_authenticated;
    oauth_authenticate_client(r, t->grant != GRANT_CLIENT_CREDENTIALS);
}

/* ------------------------------------------------------ metadata, JWKS */

static json_object *string_array(const char *const *items)
{
    json_object *a = json_object_new_array();
    for (; *items; items++)
        json_object_array_add(a, json_object_new_string(*items));
    return a;
}

static void metadata(struct request *r)
{
    const struct config *cfg = oauth_cfg(r);
    const char *iss = cfg->issuer_url;
    char url[1024];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "issuer", json_object_new_string(iss));
#define ENDPOINT(key, path)                                                                        \
    snprintf(url, sizeof(url), "%s%s", iss, path);                                                 \
    json_object_object_add(o, key, json_object_new_string(url))
    ENDPOINT("authorization_endpoint", "/oauth/authorize");
    ENDPOINT("token_endpoint", "/oauth/token");
    ENDPOINT("registration_endpoint", "/oauth/register");
    ENDPOINT("revocation_endpoint", "/oauth/revoke");
    ENDPOINT("introspection_endpoint", "/oauth/introspect");
    ENDPOINT("jwks_uri", "/.well-known/jwks.json");
#undef ENDPOINT
    static const char *const scopes[] = {"read", "write", "admin", NULL};
    static const char *const response_types[] = {"code", NULL};
    static const char *const response_modes[] = {"query", NULL};
    static const char *const grants[] = {"authorization_code", "client_credentials",
                                         "refresh_token", NULL};
    static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "none",
                                               NULL};
    static const char *const secret_methods[] = {"client_secret_basic", "client_secret_post", NULL};
    static const char *const pkce[] = {"S256", NULL};
    static const char *const algs[] = {"ES256", NULL};
    json_object_object_add(o, "scopes_supported", string_array(scopes));
    json_object_object_add(o, "response_types_supported", string_array(response_types));
    json_object_object_add(o, "response_modes_supported", string_array(response_modes));
    json_object_object_add(o, "grant_types_supported", string_array(grants));
    json_object_object_add(o, "token_endpoint_auth_methods_supported", string_array(auth_methods));
    json_object_object_add(o, "revocation_endpoint_auth_methods_supported",
                           string_array(auth_methods));
    json_object_object_add(o, "introspection_endpoint_auth_methods_supported",
                           string_array(secret_methods));
    json_object_object_add(o, "code_challenge_methods_supported", string_array(pkce));
    json_object_object_add(o, "authorization_response_iss_parameter_supported",
                           json_object_new_boolean(1));
    json_object_object_add(o, "token_endpoint_auth_signing_alg_values_supported",
                           string_array(algs));
    http_set_header(r, "Cache-Control", "max-age=300");
    http_reply_json(r, 200, o);
}

static void jwks(struct request *r)
{
    http_reply_json(r, 200, authstate_jwks(oauth_auth(r)));
}

static const struct route oauth_routes[] = {
    {M_GET, "/.well-known/oauth-authorization-server", metadata, R_CORS},
    {M_GET, "/.well-known/jwks.json", jwks, R_CORS},
    {M_POST, "/oauth/token", token_endpoint, R_CORS},
    {M_GET, "/oauth/authorize", oauth_authorize_get, 0},
    {M_POST, "/oauth/authorize", oauth_authorize_post, 0},
    {M_POST, "/oauth/register", oauth_register, R_CORS},
    {M_POST, "/oauth/revoke", oauth_revoke, R_CORS},
    {M_POST, "/oauth/introspect", oauth_introspect, 0},
    {M_GET, "/oauth/client_info", oauth_client_info, R_CORS},
    {0, NULL, NULL, 0},
};

const struct listener_def oauth_listener = {"oauth", oauth_routes};

/*
 * oauth_manage.c - dynamic client registration (RFC 7591), revocation
 * (RFC 7009), introspection (RFC 7662) and /oauth/client_info.
 *
 * Who may do what:
 *   register    open to anyone for clients that act for a user (authorization
 *               code, refresh token): the user's login bounds what they get;
 *               a client_credentials client acts for itself, so creating one
 *               needs a bearer token with the admin scope (RFC 7591 §3's
 *               "initial access token").  `registration = admin` needs that
 *               token always, `off` refuses registration.  Registrations
 *               without an admin token are limited per address
 *               (registration_limit per registration_window: 429 beyond).
 *   revoke      a client revokes its own tokens; an admin client any token
 *   introspect  confidential clients only; a client sees its own tokens, an
 *               admin client any token (others are reported inactive)
 *
 * A revoked access token gets a row in vecdb_auth.revoked_tokens, whose
 * trigger NOTIFYs every gateway; a revoked refresh token revokes its family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "oauth.h"
#include "ratelimit.h"
#include "secret.h"
#include "worker.h"

static const struct db_stmt stmt_client_insert = {
    "oauth_client_insert",
    "INSERT INTO vecdb_auth.clients (client_id, secret_hash, client_name, scopes, grant_types, "
    "redirect_uris, token_endpoint_auth_method, created_by) VALUES ($1, $2, $3, $4::text[], "
    "$5::text[], $6::text[], $7, $8) RETURNING floor(extract(epoch FROM created_at))::bigint AS "
    "created",
    8};

static void reply_unavailable(struct request *r, const struct db_result *res)
{
    log_msg(LOG_WARNING, r->id, "database: %s", res->message ? res->message : "?");
    http_set_header(r, "Retry-After", "1");
    http_reply_oauth_error(r, 503, "temporarily_unavailable",
                           "the authorization server's database is not reachable; try again");
}

/* ---------------------------------------------------------- register */

struct register_req {
    struct oauth_req o;
    json_object *body;
    char *client_id;
    char *secret;
    char *hash;
    char *name;
    char *method;
    unsigned scopes;
    unsigned grants;
    json_object *redirect_uris; /* borrowed from body */
};

static void register_free(void *p)
{
    struct register_req *g = p;
    json_object_put(g->body);
    free(g->client_id);
    if (g->secret)
        OPENSSL_cleanse(g->secret, strlen(g->secret));
    free(g->secret);
    free(g->hash);
    free(g->name);
    free(g->method);
    form_free(&g->o.form);
    client_clear(&g->o.client);
    free(g);
}

static void metadata_error(struct request *r, const char *error, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, arg);
    http_reply_oauth_error(r, 400, error, msg);
}

/* https anywhere; http only to loopback; other schemes only private-use
 * (reverse domain names, RFC 8252 §7.1); never a fragment */
static bool redirect_uri_ok(const char *u, const char **why)
{
    size_t n = strlen(u);
    if (n == 0 || n > 2000 || strpbrk(u, " \t\r\n#")) {
        *why = "must be an absolute URI without a fragment or spaces";
        return false;
    }
    const char *colon = strchr(u, ':');
    if (!colon || colon == u) {
        *why = "must be an absolute URI";
        return false;
    }
    for (const char *p = u; p < colon; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (p > u && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))) {
            *why = "has an invalid scheme";
            return false;
        }
    }
    size_t slen = colon - u;
    if (slen == 5 && strncasecmp(u, "https", 5) == 0)
        return strncmp(colon, "://", 3) == 0 && colon[3] && colon[3] != '/'
                   ? true
                   : (*why = "must have a host", false);
    if (slen == 4 && strncasecmp(u, "http", 4) == 0) {
        const char *host = colon + 3;
        if (strncmp(colon, "://", 3) == 0 &&
            (strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.0.0.1", 9) == 0 ||
             strncmp(host, "[::1]", 5) == 0)) {
            char after = host[host[0] == '[' ? 5 : 9];
            if (after == '\0' || after == ':' || after == '/' || after == '?')
                return true;
        }
        *why = "may use http only for a loopback host (localhost, 127.0.0.1, [::1]); use https";
        return false;
    }
    if (memchr(u, '.', slen))
        return true;
    *why = "must use https, loopback http, or a private-use scheme such as com.example.app:/cb";
    return false;
}

/* a text[] literal from a JSON array of strings */
static char *pg_array(json_object *arr)
{
    size_t cap = 16;
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
        cap += 2 * strlen(json_object_get_string(json_object_array_get_idx(arr, i))) + 4;
    char *out = malloc(cap);
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        if (i)
            out[o++] = ',';
        out[o++] = '"';
        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                out[o++] = '\\';
            out[o++] = *s;
        }
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

static json_object *grants_json(unsigned g)
{
    json_object *a = json_object_new_array();
    if (g & GRANT_AUTHORIZATION_CODE)
        json_object_array_add(a, json_object_new_string("authorization_code"));
    if (g & GRANT_CLIENT_CREDENTIALS)
        json_object_array_add(a, json_object_new_string("client_credentials"));
    if (g & GRANT_REFRESH_TOKEN)
        json_object_array_add(a, json_object_new_string("refresh_token"));
    return a;
}

static void client_inserted(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct register_req *g = r->state;
    if (res->status != DB_OK) {
        reply_unavailable(r, res);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "client_id", json_object_new_string(g->client_id));
    if (g->secret) {
        json_object_object_add(o, "client_secret", json_object_new_string(g->secret));
        json_object_object_add(o, "client_secret_expires_at", json_object_new_int64(0));
    }
    json_object_object_add(o, "client_id_issued_at",
                           json_object_new_int64(atol(db_value(res->res, 0, "created"))));
    json_object_object_add(o, "redirect_uris",
                           g->redirect_uris ? json_object_get(g->redirect_uris)
                                            : json_object_new_array());
    json_object_object_add(o, "grant_types", grants_json(g->grants));
    json_object *rt = json_object_new_array();
    if (g->grants & GRANT_AUTHORIZATION_CODE)
        json_object_array_add(rt, json_object_new_string("code"));
    json_object_object_add(o, "response_types", rt);
    json_object_object_add(o, "token_endpoint_auth_method", json_object_new_string(g->method));
    json_object_object_add(o, "scope", json_object_new_string(scope_format(g->scopes)));
    if (g->name)
        json_object_object_add(o, "client_name", json_object_new_string(g->name));
    log_msg(LOG_INFO, r->id, "registered client %s (%s, %s)", g->client_id, g->method,
            scope_format(g->scopes));
    http_reply_json(r, 201, o);
}

static void register_insert(struct request *r)
{
    struct register_req *g = r->state;
    g->client_id = secret_random(16);
    if (strcmp(g->method, "none") != 0) {
        g->secret = secret_random(32);
        g->hash = secret_hash(g->secret, false);
    }
    char *uris = pg_array(g->redirect_uris);
    json_object *ga = grants_json(g->grants);
    char *grants = pg_array(ga);
    json_object_put(ga);
    char scopes[64];
    snprintf(scopes, sizeof(scopes), "{%s}", scope_format(g->scopes));
    for (char *p = scopes; *p; p++)
        if (*p == ' ')
            *p = ',';
    const char *params[] = {g->client_id, g->hash, g->name,   scopes,
                            grants,       uris,    g->method, "registration"};
    db_exec(r->worker->pool, &stmt_client_insert, NULL, 8, params, client_inserted, r);
    free(uris);
    free(grants);
}

/* a string member or NULL; false (answered) if present with another type */
static bool optional_string(struct request *r, json_object *body, const char *name,
                            const char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(body, name, &v) || json_object_is_type(v, json_type_null))
        return true;
    if (!json_object_is_type(v, json_type_string)) {
        metadata_error(r, "invalid_client_metadata", "%s must be a string", name);
        return false;
    }
    *out = json_object_get_string(v);
    return true;
}

void oauth_register(struct request *r)
{
    struct register_req *g = calloc(1, sizeof(*g));
    r->state = g;
    r->free_state = register_free;
    const struct config *cfg = oauth_cfg(r);
    if (strcmp(cfg->registration, "off") == 0) {
        http_reply_oauth_error(r, 403, "access_denied", "dynamic client registration is off");
        return;
    }
    const char *ct = http_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_oauth_error(r, 400, "invalid_client_metadata",
                               "the body must be application/json");
        return;
    }
    size_t len;
    const char *text = http_body(r, &len);
    json_tokener *tok = json_tokener_new();
    g->body = text ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    bool parsed = g->body && json_tokener_get_error(tok) == json_tokener_success &&
                  json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (!parsed || !json_object_is_type(g->body, json_type_object)) {
        http_reply_oauth_error(r, 400, "invalid_client_metadata", "the body is not a JSON object");
        return;
    }

    /* grant_types (default authorization_code, RFC 7591 §2) */
    json_object *v;
    g->grants = 0;
    if (json_object_object_get_ex(g->body, "grant_types", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
            metadata_error(r, "invalid_client_metadata", "%s must be a non-empty array",
                           "grant_types");
            return;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            const char *gt = json_object_get_string(json_object_array_get_idx(v, i));
            if (gt && strcmp(gt, "authorization_code") == 0)
                g->grants |= GRANT_AUTHORIZATION_CODE;
            else if (gt && strcmp(gt, "refresh_token") == 0)
                g->grants |= GRANT_REFRESH_TOKEN;
            else if (gt && strcmp(gt, "client_credentials") == 0)
                g->grants |= GRANT_CLIENT_CREDENTIALS;
            else {
                metadata_error(r, "invalid_client_metadata",
                               "unsupported grant type '%s' (authorization_code, refresh_token, "
                               "client_credentials)",
                               gt ? gt : "?");
                return;
            }
        }
    } else {
        g->grants = GRANT_AUTHORIZATION_CODE;
    }
    if (json_object_object_get_ex(g->body, "response_types", &v) &&
        !json_object_is_type(v, json_type_null)) {
        bool ok = json_object_is_type(v, json_type_array);
        for (size_t i = 0; ok && i < json_object_array_length(v); i++) {
            const char *rt = json_object_get_string(json_object_array_get_idx(v, i));
            ok = rt && strcmp(rt, "code") == 0;
        }
        if (!ok) {
            metadata_error(r, "invalid_client_metadata", "%s",
                           "response_types may only contain \"code\"");
            return;
        }
        if (json_object_array_length(v) > 0 && !(g->grants & GRANT_AUTHORIZATION_CODE)) {
            metadata_error(r, "invalid_client_metadata", "%s",
                           "response type code needs grant type authorization_code");
            return;
        }
    }

    /* redirect_uris: required for authorization_code */
    if (json_object_object_get_ex(g->body, "redirect_uris", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 10) {
            metadata_error(r, "invalid_redirect_uri", "%s",
                           "redirect_uris must be an array of at most 10 URIs");
            return;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *u = json_object_array_get_idx(v, i);
            const char *why = "must be a string";
            if (!json_object_is_type(u, json_type_string) ||
                !redirect_uri_ok(json_object_get_string(u), &why)) {
                char msg[300];
                snprintf(msg, sizeof(msg), "redirect URI %zu %s", i + 1, why);
                http_reply_oauth_error(r, 400, "invalid_redirect_uri", msg);
                return;
            }
        }
        g->redirect_uris = v;
    }
    if ((g->grants & GRANT_AUTHORIZATION_CODE) &&
        (!g->redirect_uris || json_object_array_length(g->redirect_uris) == 0)) {
        http_reply_oauth_error(r, 400, "invalid_redirect_uri",
                               "redirect_uris is required for the authorization_code grant");
        return;
    }

    const char *method, *name, *scope;
    if (!optional_string(r, g->body, "token_endpoint_auth_method", &method) ||
        !optional_string(r, g->body, "client_name", &name) ||
        !optional_string(r, g->body, "scope", &scope))
        return;
    method = method ? method : "client_secret_basic";
    if (strcmp(method, "none") != 0 && strcmp(method, "client_secret_basic") != 0 &&
        strcmp(method, "client_secret_post") != 0) {
        metadata_error(r, "invalid_client_metadata",
                       "token_endpoint_auth_method '%s' is not supported (none, "
                       "client_secret_basic, client_secret_post)",
                       method);
        return;
    }
    if (strcmp(method, "none") == 0 && (g->grants & GRANT_CLIENT_CREDENTIALS)) {
        http_reply_oauth_error(r, 400, "invalid_client_metadata",
                               "a public client (token_endpoint_auth_method none) cannot use "
                               "client_credentials");
        return;
    }
    g->method = strdup(method);
    if (name && (strlen(name) > 200 || strpbrk(name, "\r\n<>"))) {
        http_reply_oauth_error(r, 400, "invalid_client_metadata",
                               "client_name must be at most 200 characters without < > or "
                               "line breaks");
        return;
    }
    g->name = name ? strdup(name) : NULL;
    char bad[80];
    if (scope && !scope_parse(scope, &g->scopes, bad, sizeof(bad))) {
        metadata_error(r, "invalid_client_metadata", "unknown scope '%s' (read, write, admin)",
                       bad);
        return;
    }
    if (!scope)
        g->scopes = SCOPE_READ | SCOPE_WRITE;
    if (!g->scopes) {
        http_reply_oauth_error(r, 400, "invalid_client_metadata", "scope is empty");
        return;
    }

    /* a client that acts for itself, or any client under `admin`, needs an
     * admin's initial access token; a registration without one counts
     * against its address's quota */
    const char *bearer = http_bearer(r);
    struct token_info info;
    const char *why = "no bearer token";
    bool token_ok = bearer && authstate_verify_any_audience(oauth_auth(r), bearer, &info, &why);
    bool admin = token_ok && (info.scopes & SCOPE_ADMIN);
    if ((g->grants & GRANT_CLIENT_CREDENTIALS) || strcmp(cfg->registration, "admin") == 0) {
        if (!token_ok) {
            char hdr[300];
            snprintf(hdr, sizeof(hdr),
                     "Bearer realm=\"vecdb\", error=\"invalid_token\", "
                     "error_description=\"%s\"",
                     why);
            http_set_header(r, "WWW-Authenticate", hdr);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "error", json_object_new_string("invalid_token"));
            json_object_object_add(
                o, "error_description",
                json_object_new_string(g->grants & GRANT_CLIENT_CREDENTIALS
                                           ? "registering a client_credentials client needs "
                                             "a bearer token with the admin scope"
                                           : "registration needs a bearer token with the admin "
                                             "scope"));
            http_reply_json(r, 401, o);
            return;
        }
        if (!admin) {
            http_set_header(
                r, "WWW-Authenticate",
                "Bearer realm=\"vecdb\", error=\"insufficient_scope\", scope=\"admin\"");
            http_reply_oauth_error(r, 403, "insufficient_scope",
                                   "registering this client needs the admin scope");
            return;
        }
    }
    if (!admin) {
        char key[100], secs[16];
        int retry;
        snprintf(key, sizeof(key), "register:%s", r->peer);
        if (!ratelimit_take(key, CFG_GET(cfg->registration_limit),
                            CFG_GET(cfg->registration_window), &retry)) {
            log_msg(LOG_WARNING, r->id, "too many registrations from %s", r->peer);
            snprintf(secs, sizeof(secs), "%d", retry);
            http_set_header(r, "Retry-After", secs);
            http_reply_oauth_error(r, 429, "temporarily_unavailable",
                                   "too many client registrations from this address; try again "
                                   "after Retry-After seconds");
            return;
        }
    }
    register_insert(r);
}

/* ------------------------------------------------ revoke / introspect */

struct token_op {
    struct oauth_req o;
    bool introspect;
    char *refresh_id;
    char *refresh_secret;
    char revoked[128]; /* "ID EXP" this request revokes, as the NOTIFY payload */
};

static void token_op_free(void *p)
{
    struct token_op *t = p;
    free(t->refresh_id);
    if (t->refresh_secret)
        OPENSSL_cleanse(t->refresh_secret, strlen(t->refresh_secret));
    free(t->refresh_secret);
    form_free(&t->o.form);
    client_clear(&t->o.client);
    if (t->o.presented_secret)
        OPENSSL_cleanse(t->o.presented_secret, strlen(t->o.presented_secret));
    free(t->o.presented_id);
    free(t->o.presented_secret);
    free(t->o.stored_hash);
    free(t);
}

static void reply_inactive(struct request *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "active", json_object_new_boolean(0));
    http_reply_json(r, 200, o);
}

/* The revocation is stored: this gateway refuses the token from now on (the
 * others when the NOTIFY reaches them), so its own introspection agrees */
static void revoked_ok(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct token_op *t = r->state;
    if (res->status != DB_OK) {
        reply_unavailable(r, res);
        return;
    }
    if (t->revoked[0])
        authstate_add_revocation(r->worker->gw->auth, t->revoked);
    http_reply(r, 200, NULL, NULL, 0);
}

/* may this client see or revoke a token of owner */
static bool owns(const struct client *c, const char *owner)
{
    return strcmp(c->client_id, owner) == 0 || (c->scopes & SCOPE_ADMIN);
}

static void refresh_found(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct token_op *t = r->state;
    if (res->status != DB_OK) {
        reply_unavailable(r, res);
        return;
    }
    bool valid = PQntuples(res->res) == 1 &&
                 secret_verify(t->refresh_secret, db_value(res->res, 0, "secret_hash"));
    if (!valid) {
        /* RFC 7009 §2.2: an invalid token is no error for revocation */
        if (t->introspect)
            reply_inactive(r);
        else
            http_reply(r, 200, NULL, NULL, 0);
        return;
    }
    const char *owner = db_value(res->res, 0, "client_id");
    if (!owns(&t->o.client, owner)) {
        if (t->introspect)
            reply_inactive(r);
        else
            http_reply_oauth_error(r, 400, "unauthorized_client",
                                   "the token was issued to another client");
        return;
    }
    if (!t->introspect) {
        const char *params[] = {db_value(res->res, 0, "family")};
        /* (the row lives 7 days: vecdb_auth.revoke_family) */
        snprintf(t->revoked, sizeof(t->revoked), "%s%.63s %ld", REVOKED_FAMILY_PREFIX, params[0],
                 (long) time(NULL) + 7 * 86400);
        log_msg(LOG_INFO, r->id, "client %s revokes refresh token family of %s",
                t->o.client.client_id, t->refresh_id);
        db_exec(r->worker->pool, &stmt_revoke_family, NULL, 1, params, revoked_ok, r);
        return;
    }
    bool active = db_value(res->res, 0, "used")[0] == 'f' &&
                  db_value(res->res, 0, "revoked")[0] == 'f' &&
                  db_value(res->res, 0, "expired")[0] == 'f';
    if (!active) {
        reply_inactive(r);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "active", json_object_new_boolean(1));
    json_object_object_add(o, "scope", json_object_new_string(db_value(res->res, 0, "scope")));
    json_object_object_add(o, "client_id", json_object_new_string(owner));
    json_object_object_add(o, "sub", json_object_new_string(db_value(res->res, 0, "subject")));
    json_object_object_add(o, "exp", json_object_new_int64(atol(db_value(res->res, 0, "exp"))));
    json_object_object_add(o, "iss", json_object_new_string(oauth_cfg(r)->issuer_url));
    json_object_object_add(o, "token_type", json_object_new_string("refresh_token"));
    http_reply_json(r, 200, o);
}

static void token_op_authenticated(struct request *r)
{
    struct token_op *t = r->state;
    const char *token = form_get(&t->o.form, "token");
    /* an access token is a JWT; anything else may be a refresh token */
    int dots = 0;
    for (const char *p = token; *p; p++)
        dots += *p == '.';
    if (dots == 2) {
        struct token_info info;
        const char *why;
        if (!authstate_verify_any_audience(oauth_auth(r), token, &info, &why)) {
            if (t->introspect)
                reply_inactive(r);
            else
                http_reply(r, 200, NULL, NULL, 0);
            return;
        }
        if (!owns(&t->o.client, info.client_id)) {
            if (t->introspect)
                reply_inactive(r);
            else
                http_reply_oauth_error(r, 400, "unauthorized_client",
                                       "the token was issued to another client");
            return;
        }
        if (!t->introspect) {
            char exp[32];
            snprintf(exp, sizeof(exp), "%ld", info.exp);
            const char *params[] = {info.jti, exp};
            snprintf(t->revoked, sizeof(t->revoked), "%.63s %ld", info.jti, info.exp);
            log_msg(LOG_INFO, r->id, "client %s revokes access token %s", t->o.client.client_id,
                    info.jti);
            db_exec(r->worker->pool, &stmt_revoke_jti, NULL, 2, params, revoked_ok, r);
            return;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "active", json_object_new_boolean(1));
        json_object_object_add(o, "scope", json_object_new_string(scope_format(info.scopes)));
        json_object_object_add(o, "client_id", json_object_new_string(info.client_id));
        json_object_object_add(o, "sub", json_object_new_string(info.sub));
        json_object_object_add(o, "aud", json_object_new_string(info.aud));
        json_object_object_add(o, "iss", json_object_new_string(oauth_cfg(r)->issuer_url));
        json_object_object_add(o, "exp", json_object_new_int64(info.exp));
        json_object_object_add(o, "iat", json_object_new_int64(info.iat));
        json_object_object_add(o, "jti", json_object_new_string(info.jti));
        json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
        http_reply_json(r, 200, o);
        return;
    }
    if (dots != 1 || !oauth_split_refresh(token, &t->refresh_id, &t->refresh_secret)) {
        if (t->introspect)
            reply_inactive(r);
        else
            http_reply(r, 200, NULL, NULL, 0);
        return;
    }
    const char *params[] = {t->refresh_id};
    db_exec(r->worker->pool, &stmt_refresh_get, NULL, 1, params, refresh_found, r);
}

static void token_op(struct request *r, bool introspect)
{
    struct token_op *t = calloc(1, sizeof(*t));
    r->state = t;
    r->free_state = token_op_free;
    t->introspect = introspect;
    if (!oauth_parse_form_body(r, &t->o))
        return;
    if (!form_get(&t->o.form, "token")) {
        http_reply_oauth_error(r, 400, "invalid_request", "token is required");
        return;
    }
    t->o.next = token_op_authenticated;
    oauth_authenticate_client(r, !introspect);
}

void oauth_revoke(struct request *r)
{
    token_op(r, false);
}

void oauth_introspect(struct request *r)
{
    token_op(r, true);
}

/* -------------------------------------------------------- client_info */

struct info_req {
    struct oauth_req o;
    struct token_info info;
};

static void info_free(void *p)
{
    struct info_req *i = p;
    client_clear(&i->o.client);
    free(i);
}

static void info_client_loaded(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct info_req *i = r->state;
    if (res->status != DB_OK) {
        reply_unavailable(r, res);
        return;
    }
    if (PQntuples(res->res) != 1) {
        http_reply_oauth_error(r, 401, "invalid_token", "the token's client no longer exists");
        return;
    }
    struct client c = {0};
    client_from_row(&c, res->res, 0);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "client_id", json_object_new_string(c.client_id));
    if (c.name)
        json_object_object_add(o, "client_name", json_object_new_string(c.name));
    json_object_object_add(o, "scope", json_object_new_string(scope_format(c.scopes)));
    json_object_object_add(o, "grant_types", grants_json(c.grants));
    json_object_object_add(o, "token_endpoint_auth_method", json_object_new_string(c.auth_method));
    json_object_object_add(o, "client_id_issued_at", json_object_new_int64(c.created));
    json_object *tok = json_object_new_object();
    json_object_object_add(tok, "sub", json_object_new_string(i->info.sub));
    json_object_object_add(tok, "scope", json_object_new_string(scope_format(i->info.scopes)));
    json_object_object_add(tok, "aud", json_object_new_string(i->info.aud));
    json_object_object_add(tok, "exp", json_object_new_int64(i->info.exp));
    json_object_object_add(o, "token", tok);
    client_clear(&c);
    http_reply_json(r, 200, o);
}

void oauth_client_info(struct request *r)
{
    struct info_req *i = calloc(1, sizeof(*i));
    r->state = i;
    r->free_state = info_free;
    const char *bearer = http_bearer(r);
    const char *why = "an access token is required: Authorization: Bearer TOKEN";
    if (!bearer || !authstate_verify_any_audience(oauth_auth(r), bearer, &i->info, &why)) {
        char hdr[300];
        snprintf(hdr, sizeof(hdr), "Bearer realm=\"vecdb\"%s%s%s",
                 bearer ? ", error=\"invalid_token\", error_description=\"" : "", bearer ? why : "",
                 bearer ? "\"" : "");
        http_set_header(r, "WWW-Authenticate", hdr);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string("invalid_token"));
        json_object_object_add(o, "error_description", json_object_new_string(why));
        http_reply_json(r, 401, o);
        return;
    }
    const char *params[] = {i->info.client_id};
    db_exec(r->worker->pool, &stmt_client, NULL, 1, params, info_client_loaded, r);
}

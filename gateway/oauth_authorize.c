/*
 * oauth_authorize.c - the authorization endpoint and its login/consent page.
 *
 * GET /oauth/authorize checks the request and shows a page that names the
 * client and the scopes it asks for, with a user name and password form.
 * POST /oauth/authorize (the form, carrying the request's parameters in
 * hidden fields, so the server keeps no session) first checks the form's
 * anti-forgery token (csrf.h: a cookie nonce and a MAC over it, the time and
 * the hidden parameters; a forged or stale form gets 403 and nothing else
 * happens), then checks everything again, checks the password (PBKDF2, off
 * the loop, rate-limited per user and per address), and redirects to the
 * client with a one-time code.  The pages cannot be framed, cached or
 * leak their URL through a Referer.
 *
 * Errors follow RFC 6749 §4.1.2.1: while the client or its redirect URI is
 * in doubt, the user sees an error page (a redirect could deliver the user
 * to an attacker); after that, errors go back to the client's redirect URI
 * with `error`, `state` and `iss` (RFC 9207).
 *
 * The code is 256 random bits; only its SHA-256 is stored, with the PKCE
 * challenge (S256 only), the exact redirect URI, the granted scope (what
 * was asked, which must be within both the client's and the user's scopes)
 * and the resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>

#include "csrf.h"
#include "log.h"
#include "oauth.h"
#include "offload.h"
#include "ratelimit.h"
#include "secret.h"
#include "worker.h"

static const struct db_stmt stmt_user = {
    "oauth_user",
    "SELECT username, password_hash, scopes FROM vecdb_auth.users WHERE username = $1", 1};

static const struct db_stmt stmt_code_insert = {
    "oauth_code_insert",
    "INSERT INTO vecdb_auth.authorization_codes (code_hash, client_id, username, redirect_uri, "
    "code_challenge, scope, resource, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now() + "
    "make_interval(secs => $8::int))",
    8};

struct authz_req {
    struct oauth_req o;
    bool post;
    char *redirect_uri; /* the checked one */
    unsigned scopes;    /* asked for */
    unsigned user_scopes;
    char *username;
    char *password;
    char *code;
    char *nonce; /* the anti-forgery cookie's */
    bool password_ok;
};

static void authz_free(void *p)
{
    struct authz_req *a = p;
    free(a->redirect_uri);
    free(a->username);
    if (a->password)
        OPENSSL_cleanse(a->password, strlen(a->password));
    free(a->password);
    if (a->code)
        OPENSSL_cleanse(a->code, strlen(a->code));
    free(a->code);
    free(a->nonce);
    form_free(&a->o.form);
    client_clear(&a->o.client);
    free(a->o.stored_hash);
    free(a);
}

/* ------------------------------------------------------------- pages */

static void html_escape(struct evbuffer *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            evbuffer_add_printf(b, "&lt;");
            break;
        case '>':
            evbuffer_add_printf(b, "&gt;");
            break;
        case '&':
            evbuffer_add_printf(b, "&amp;");
            break;
        case '"':
            evbuffer_add_printf(b, "&quot;");
            break;
        case '\'':
            evbuffer_add_printf(b, "&#39;");
            break;
        default:
            evbuffer_add(b, s, 1);
        }
    }
}

static const char page_head[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>vecdb - sign in</title><style>"
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem}"
    "main{max-width:26rem;margin:auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;"
    "box-shadow:0 1px 4px #0002}h1{font-size:1.3rem}label{display:block;margin:.8rem 0}"
    "input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.3rem}"
    "button{padding:.5rem 1.2rem;margin-right:.5rem}.error{color:#b00020}"
    "code{background:#eee;padding:0 .2rem}</style></head><body><main>";

static void send_page(struct request *r, int status, struct evbuffer *b)
{
    evbuffer_add_printf(b, "</main></body></html>\n");
    size_t n = evbuffer_get_length(b);
    char *text = malloc(n);
    evbuffer_remove(b, text, n);
    evbuffer_free(b);
    /* the page must not be framed (clickjacking) nor load anything */
    http_set_header(r, "X-Frame-Options", "DENY");
    http_set_header(r, "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    http_set_header(r, "Referrer-Policy", "no-referrer");
    http_set_header(r, "Cache-Control", "no-store");
    http_reply(r, status, "text/html; charset=utf-8", text, n);
    free(text);
}

/* an error the user sees (nothing is sent to the client) */
static void error_page(struct request *r, int status, const char *message)
{
    log_msg(LOG_INFO, r->id, "authorization request refused: %s", message);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, page_head, sizeof(page_head) - 1);
    evbuffer_add_printf(b, "<h1>Authorization request refused</h1><p class=\"error\">");
    html_escape(b, message);
    evbuffer_add_printf(b, "</p>");
    send_page(r, status, b);
}

static const char *const carried[] = {"response_type",
                                      "client_id",
                                      "redirect_uri",
                                      "scope",
                                      "state",
                                      "code_challenge",
                                      "code_challenge_method",
                                      "resource",
                                      NULL};

/* the carried parameters of the request's form, bound by the token */
static void carried_fields(struct authz_req *a, const char **values, struct csrf_fields *f)
{
    int i = 0;
    for (; carried[i]; i++)
        values[i] = form_get(&a->o.form, carried[i]);
    values[i] = NULL;
    f->names = carried;
    f->values = values;
}

/* the anti-forgery cookie for the form: the nonce, on the authorization
 * endpoint's path only, not for scripts, not sent with cross-site POSTs */
static void set_csrf_cookie(struct request *r, const char *nonce)
{
    const char *iss = oauth_cfg(r)->issuer_url;
    const char *host = strstr(iss, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    char cookie[600];
    snprintf(cookie, sizeof(cookie),
             CSRF_COOKIE "=%s; Path=%.400s/oauth/authorize; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             nonce, path ? path : "", CSRF_LIFETIME,
             strncmp(iss, "https://", 8) == 0 ? "; Secure" : "");
    http_set_header(r, "Set-Cookie", cookie);
}

static void login_page(struct request *r, int status, const char *error)
{
    struct authz_req *a = r->state;
    unsigned char keys[1][CSRF_KEY_BYTES];
    if (authstate_form_keys(oauth_auth(r), keys, 1) < 1) {
        error_page(r, 503, "The server has no signing key yet; try again.");
        return;
    }
    if (!a->nonce)
        a->nonce = csrf_new_nonce();
    const char *values[16];
    struct csrf_fields fields;
    carried_fields(a, values, &fields);
    char *token = csrf_token(keys[0], a->nonce, time(NULL), &fields);
    OPENSSL_cleanse(keys, sizeof(keys));
    set_csrf_cookie(r, a->nonce);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, page_head, sizeof(page_head) - 1);
    evbuffer_add_printf(b, "<h1>Sign in to vecdb</h1><p><b>");
    html_escape(b, a->o.client.name ? a->o.client.name : a->o.client.client_id);
    evbuffer_add_printf(b, "</b> (<code>");
    html_escape(b, a->o.client.client_id);
    evbuffer_add_printf(b, "</code>) asks for access with the scopes <b>");
    html_escape(b, scope_format(a->scopes));
    evbuffer_add_printf(b, "</b>. It will be sent back to <code>");
    html_escape(b, a->redirect_uri);
    evbuffer_add_printf(b, "</code>.</p>");
    if (error) {
        evbuffer_add_printf(b, "<p class=\"error\">");
        html_escape(b, error);
        evbuffer_add_printf(b, "</p>");
    }
    evbuffer_add_printf(b, "<form method=\"post\" action=\"");
    html_escape(b, oauth_cfg(r)->issuer_url);
    evbuffer_add_printf(b, "/oauth/authorize\">");
    for (int i = 0; carried[i]; i++) {
        const char *v = form_get(&a->o.form, carried[i]);
        if (!v)
            continue;
        evbuffer_add_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", carried[i]);
        html_escape(b, v);
        evbuffer_add_printf(b, "\">");
    }
    evbuffer_add_printf(b, "<input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"%s\">", token);
    free(token);
    evbuffer_add_printf(b, "<label>User name<input name=\"username\" autocomplete=\"username\" "
                           "required value=\"");
    html_escape(b, a->username);
    evbuffer_add_printf(b, "\"></label><label>Password<input type=\"password\" name=\"password\" "
                           "autocomplete=\"current-password\" required></label>"
                           "<button name=\"action\" value=\"approve\">Allow</button>"
                           "<button name=\"action\" value=\"deny\" formnovalidate>Deny</button>"
                           "</form>");
    send_page(r, status, b);
}

/* ---------------------------------------------------------- redirects */

/* redirect to the client with the parameters (name, value, ..., NULL) plus
 * state and iss */
static void redirect_to_client(struct request *r, const char *const *params)
{
    struct authz_req *a = r->state;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s%c", a->redirect_uri, strchr(a->redirect_uri, '?') ? '&' : '?');
    bool first = true;
    const char *state = form_get(&a->o.form, "state");
    const char *extra[] = {"state", state, "iss", oauth_cfg(r)->issuer_url, NULL};
    for (int pass = 0; pass < 2; pass++) {
        const char *const *p = pass == 0 ? params : extra;
        for (; p[0]; p += 2) {
            if (!p[1])
                continue;
            char *v = url_encode(p[1]);
            evbuffer_add_printf(b, "%s%s=%s", first ? "" : "&", p[0], v);
            free(v);
            first = false;
        }
    }
    size_t n = evbuffer_get_length(b);
    char *location = malloc(n + 1);
    evbuffer_remove(b, location, n);
    location[n] = '\0';
    evbuffer_free(b);
    http_reply_redirect(r, location);
    OPENSSL_cleanse(location, n);
    free(location);
}

static void redirect_error(struct request *r, const char *error, const char *description)
{
    log_msg(LOG_INFO, r->id, "authorization request: %s: %s", error, description);
    const char *params[] = {"error", error, "error_description", description, NULL};
    redirect_to_client(r, params);
}

/* ---------------------------------------------------------- the steps */

static void code_stored(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct authz_req *a = r->state;
    if (res->status != DB_OK) {
        log_msg(LOG_WARNING, r->id, "storing a code: %s", res->message);
        redirect_error(r, "temporarily_unavailable", "the database is not reachable");
        return;
    }
    log_msg(LOG_INFO, r->id, "user %s authorized client %s (%s)", a->username,
            a->o.client.client_id, scope_format(a->scopes));
    const char *params[] = {"code", a->code, NULL};
    redirect_to_client(r, params);
}

static void password_work(void *arg)
{
    struct request *r = arg;
    struct authz_req *a = r->state;
    if (a->o.stored_hash) {
        a->password_ok = secret_verify(a->password, a->o.stored_hash);
    } else {
        /* no such user: spend the same time, so timing does not say so */
        char *h = secret_hash(a->password, true);
        free(h);
        a->password_ok = false;
    }
}

static void password_done(void *arg)
{
    struct request *r = arg;
    struct authz_req *a = r->state;
    if (!a->password_ok) {
        char key[200];
        snprintf(key, sizeof(key), "user:%s", a->username);
        oauth_count_failure(r, key);
        snprintf(key, sizeof(key), "addr:%s", r->peer);
        oauth_count_failure(r, key);
        log_msg(LOG_INFO, r->id, "login failed for user '%s'", a->username);
        login_page(r, 403, "Wrong user name or password.");
        return;
    }
    unsigned granted = a->scopes & scope_expand(a->user_scopes);
    if (granted != a->scopes) {
        redirect_error(r, "access_denied", "the user does not have every requested scope");
        return;
    }
    a->code = secret_random(32);
    char code_hash[65], lifetime[16];
    sha256_hex(a->code, code_hash);
    snprintf(lifetime, sizeof(lifetime), "%d", CFG_GET(oauth_cfg(r)->auth_code_lifetime));
    const char *params[] = {code_hash,
                            a->o.client.client_id,
                            a->username,
                            a->redirect_uri,
                            form_get(&a->o.form, "code_challenge"),
                            scope_format(a->scopes),
                            form_get(&a->o.form, "resource"),
                            lifetime};
    db_exec(r->worker->pool, &stmt_code_insert, NULL, 8, params, code_stored, r);
}

static void user_loaded(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct authz_req *a = r->state;
    if (res->status != DB_OK) {
        log_msg(LOG_WARNING, r->id, "user lookup: %s", res->message);
        login_page(r, 503, "The database is not reachable; try again.");
        return;
    }
    if (PQntuples(res->res) == 1) {
        a->o.stored_hash = strdup(db_value(res->res, 0, "password_hash"));
        a->user_scopes = scope_from_array(db_value(res->res, 0, "scopes"));
    }
    offload_run(r->worker->base, password_work, password_done, r);
}

static bool valid_challenge(const char *c)
{
    if (strlen(c) != 43)
        return false;
    unsigned char buf[40];
    return b64url_decode(c, 43, buf, sizeof(buf)) == 32;
}

/* the client is known and the redirect URI settled: check the rest */
static void client_checked(struct request *r)
{
    struct authz_req *a = r->state;
    const struct form *f = &a->o.form;
    const char *response_type = form_get(f, "response_type");
    if (!response_type) {
        redirect_error(r, "invalid_request", "response_type is required");
        return;
    }
    if (strcmp(response_type, "code") != 0) {
        redirect_error(r, "unsupported_response_type", "only response_type=code is supported");
        return;
    }
    if (!(a->o.client.grants & GRANT_AUTHORIZATION_CODE)) {
        redirect_error(r, "unauthorized_client",
                       "this client may not use the authorization_code grant");
        return;
    }
    const char *challenge = form_get(f, "code_challenge");
    const char *method = form_get(f, "code_challenge_method");
    if (!challenge) {
        redirect_error(r, "invalid_request", "PKCE is required: code_challenge with S256");
        return;
    }
    if (!method || strcmp(method, "S256") != 0) {
        redirect_error(r, "invalid_request", "code_challenge_method must be S256");
        return;
    }
    if (!valid_challenge(challenge)) {
        redirect_error(r, "invalid_request",
                       "code_challenge must be the Base64url SHA-256 of the verifier (43 "
                       "characters)");
        return;
    }
    const char *scope = form_get(f, "scope");
    char bad[80];
    if (!scope) {
        a->scopes = a->o.client.scopes;
    } else if (!scope_parse(scope, &a->scopes, bad, sizeof(bad))) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown scope '%s'", bad);
        redirect_error(r, "invalid_scope", msg);
        return;
    }
    if (a->scopes == 0 || (a->scopes & ~scope_expand(a->o.client.scopes))) {
        redirect_error(r, "invalid_scope", "the requested scope exceeds the client's");
        return;
    }
    const char *resource = form_get(f, "resource");
    if (resource && !authstate_resource_ok(oauth_auth(r), resource)) {
        redirect_error(r, "invalid_target", "resource must be the public URL or a URL under it");
        return;
    }
    if (!a->post) {
        login_page(r, 200, NULL);
        return;
    }

    const char *action = form_get(f, "action");
    if (action && strcmp(action, "deny") == 0) {
        redirect_error(r, "access_denied", "the user denied the request");
        return;
    }
    const char *username = form_get(f, "username");
    const char *password = form_get(f, "password");
    a->username = strdup(username ? username : "");
    if (!username || !password) {
        login_page(r, 400, "Enter a user name and a password.");
        return;
    }
    a->password = strdup(password);
    char key[200];
    snprintf(key, sizeof(key), "addr:%s", r->peer);
    int retry;
    const struct config *cfg = oauth_cfg(r);
    bool blocked = ratelimit_blocked(key, CFG_GET(cfg->auth_fail_limit),
                                     CFG_GET(cfg->auth_fail_window), &retry);
    snprintf(key, sizeof(key), "user:%s", username);
    blocked = blocked || ratelimit_blocked(key, CFG_GET(cfg->auth_fail_limit),
                                           CFG_GET(cfg->auth_fail_window), &retry);
    if (blocked) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%d", retry);
        http_set_header(r, "Retry-After", secs);
        login_page(r, 429, "Too many failed attempts; wait a minute and try again.");
        return;
    }
    const char *params[] = {username};
    db_exec(r->worker->pool, &stmt_user, NULL, 1, params, user_loaded, r);
}

static void authz_client_loaded(void *arg, const struct db_result *res)
{
    struct request *r = arg;
    struct authz_req *a = r->state;
    if (res->status != DB_OK) {
        log_msg(LOG_WARNING, r->id, "client lookup: %s", res->message);
        error_page(r, 503, "The database is not reachable; try again.");
        return;
    }
    if (PQntuples(res->res) != 1) {
        error_page(r, 400, "Unknown client_id.");
        return;
    }
    client_from_row(&a->o.client, res->res, 0);
    const char *uri = form_get(&a->o.form, "redirect_uri");
    if (!client_redirect_ok(&a->o.client, uri, &a->redirect_uri)) {
        error_page(r, 400,
                   uri ? "redirect_uri is not one of the client's registered redirect URIs."
                       : "redirect_uri is required (the client has several or none).");
        return;
    }
    client_checked(r);
}

/* a POST: is it the form this server made for this browser, unchanged and
 * recent (csrf.h)?  Answers 403 if not: nothing is looked up or issued */
static bool form_is_genuine(struct request *r)
{
    struct authz_req *a = r->state;
    unsigned char keys[AUTHSTATE_MAX_KEYS][CSRF_KEY_BYTES];
    int nkeys = authstate_form_keys(oauth_auth(r), keys, AUTHSTATE_MAX_KEYS);
    a->nonce = csrf_cookie_nonce(http_header(r, "Cookie"));
    const char *values[16];
    struct csrf_fields fields;
    carried_fields(a, values, &fields);
    enum csrf_result res = csrf_check((const unsigned char(*)[CSRF_KEY_BYTES])keys, nkeys, a->nonce,
                                      form_get(&a->o.form, CSRF_FIELD), time(NULL), &fields);
    OPENSSL_cleanse(keys, sizeof(keys));
    switch (res) {
    case CSRF_OK:
        return true;
    case CSRF_MISSING:
        error_page(r, 403,
                   a->nonce ? "The sign-in form came without its security token. Go back to the "
                              "application and start the sign-in again."
                            : "The sign-in form came without this site's cookie. Allow cookies "
                              "for this site, go back to the application and start the sign-in "
                              "again.");
        return false;
    case CSRF_EXPIRED:
        error_page(r, 403,
                   "The sign-in form has expired. Go back to the application and start "
                   "the sign-in again.");
        return false;
    case CSRF_INVALID:
        break;
    }
    error_page(r, 403,
               "The sign-in form was not made by this server for this browser, or was "
               "changed. Go back to the application and start the sign-in again.");
    return false;
}

static void authorize(struct request *r, bool post)
{
    struct authz_req *a = calloc(1, sizeof(*a));
    r->state = a;
    r->free_state = authz_free;
    a->post = post;
    const char *dup = NULL;
    const char *text;
    if (post) {
        const char *ct = http_header(r, "Content-Type");
        if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
            error_page(r, 400, "The form must be sent as application/x-www-form-urlencoded.");
            return;
        }
        text = http_body(r, NULL);
    } else {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
        text = uri ? evhttp_uri_get_query(uri) : NULL;
    }
    if (!text || !form_parse(text, &a->o.form, &dup)) {
        char msg[128];
        snprintf(msg, sizeof(msg), dup ? "Parameter '%s' is given more than once." : "%s",
                 dup ? dup : "The request's parameters are not valid.");
        error_page(r, 400, msg);
        return;
    }
    if (post && !form_is_genuine(r))
        return;
    if (!post) /* a browser that has a nonce keeps it: forms in other tabs stay valid */
        a->nonce = csrf_cookie_nonce(http_header(r, "Cookie"));
    const char *client_id = form_get(&a->o.form, "client_id");
    if (!client_id) {
        error_page(r, 400, "client_id is required.");
        return;
    }
    const char *params[] = {client_id};
    db_exec(r->worker->pool, &stmt_client, NULL, 1, params, authz_client_loaded, r);
}

void oauth_authorize_get(struct request *r)
{
    authorize(r, false);
}

void oauth_authorize_post(struct request *r)
{
    authorize(r, true);
}

/*
 * authstate.c - signing keys and revoked token ids, shared by all threads.
 *
 * Workers read this state on every authenticated request and the main thread
 * replaces parts of it when PostgreSQL says so, hence one rwlock: verifying a
 * token holds the read lock for the signature check (a few tens of
 * microseconds); reloading keys takes the write lock.
 *
 * Revocation reaches every gateway within a second because each one LISTENs
 * on `vecdb_auth_revoked` (a trigger on vecdb_auth.revoked_tokens notifies);
 * an entry "family:ID" revokes every token whose sid claim is ID, that is
 * every access token of a revoked refresh-token family, without the gateway
 * having to know their jtis;
 * a gateway whose LISTEN connection dropped may have missed notifications, so
 * every (re)connection reloads the whole set before anything else.  Until the
 * first load the set is empty, but no request is served before bootstrap has
 * loaded it synchronously.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/hmac.h>

#include "authstate.h"
#include "csrf.h"
#include "jwt.h"
#include "log.h"
#include "pool.h"

#define MAX_KEYS AUTHSTATE_MAX_KEYS
#define REVOKED_BUCKETS 4096

struct key {
    char kid[64];
    EVP_PKEY *pkey;
    bool retired;
    unsigned char form_key[CSRF_KEY_BYTES]; /* the login form's MAC key (csrf.h) */
};

struct revoked {
    char *jti;
    long exp;
    struct revoked *next;
};

struct authstate {
    pthread_rwlock_t lock;
    char *issuer;
    char *audience;
    struct key keys[MAX_KEYS];
    int nkeys;
    int signer; /* index of the key that signs, -1: none */
    struct revoked *buckets[REVOKED_BUCKETS];
    struct pool *watch;
    struct event *prune_timer;
};

/* ------------------------------------------------------------- scopes */

static const char *const scope_names[] = {"read", "write", "admin"};

bool scope_parse(const char *text, unsigned *bits, char *bad, size_t badsize)
{
    *bits = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        bool found = false;
        for (int i = 0; i < 3; i++) {
            if (strlen(scope_names[i]) == n && strncmp(p, scope_names[i], n) == 0) {
                *bits |= 1u << i;
                found = true;
            }
        }
        if (!found) {
            snprintf(bad, badsize, "%.*s", (int)(n > 64 ? 64 : n), p);
            return false;
        }
        p += n;
    }
    return true;
}

unsigned scope_from_array(const char *pgarray)
{
    unsigned bits = 0;
    if (!pgarray)
        return 0;
    for (int i = 0; i < 3; i++) {
        const char *p = pgarray;
        size_t n = strlen(scope_names[i]);
        while ((p = strstr(p, scope_names[i])) != NULL) {
            bool start = p == pgarray || p[-1] == '{' || p[-1] == ',';
            bool end = p[n] == '}' || p[n] == ',';
            if (start && end)
                bits |= 1u << i;
            p += n;
        }
    }
    return bits;
}

const char *scope_format(unsigned bits)
{
    static const char *const forms[8] = {"",      "read",       "write",       "read write",
                                         "admin", "read admin", "write admin", "read write admin"};
    return forms[bits & 7];
}

unsigned scope_expand(unsigned bits)
{
    return bits & SCOPE_ADMIN ? SCOPE_ALL : bits;
}

const char *scope_role(unsigned bits)
{
    if (bits & SCOPE_ADMIN)
        return "vecdb_admin";
    if (bits & SCOPE_WRITE)
        return "vecdb_writer";
    if (bits & SCOPE_READ)
        return "vecdb_reader";
    return NULL;
}

/* ---------------------------------------------------------- the state */

struct authstate *authstate_new(const char *issuer, const char *audience)
{
    struct authstate *st = calloc(1, sizeof(*st));
    pthread_rwlock_init(&st->lock, NULL);
    st->issuer = strdup(issuer);
    st->audience = strdup(audience);
    st->signer = -1;
    return st;
}

static void clear_keys(struct authstate *st)
{
    for (int i = 0; i < st->nkeys; i++)
        EVP_PKEY_free(st->keys[i].pkey);
    st->nkeys = 0;
    st->signer = -1;
}

void authstate_free(struct authstate *st)
{
    if (!st)
        return;
    authstate_unwatch(st);
    clear_keys(st);
    for (int b = 0; b < REVOKED_BUCKETS; b++) {
        struct revoked *r = st->buckets[b];
        while (r) {
            struct revoked *next = r->next;
            free(r->jti);
            free(r);
            r = next;
        }
    }
    pthread_rwlock_destroy(&st->lock);
    free(st->issuer);
    free(st->audience);
    free(st);
}

/* a key for the login form's MACs, derived from a signing key's PEM text
 * (surrounding white space aside), so every gateway derives the same one and
 * the MACs reveal nothing of the signing key */
static void derive_form_key(const char *pem, unsigned char out[CSRF_KEY_BYTES])
{
    static const char label[] = "vecdb login form key v1";
    while (*pem == ' ' || *pem == '\n' || *pem == '\r' || *pem == '\t')
        pem++;
    size_t n = strlen(pem);
    while (n > 0 &&
           (pem[n - 1] == ' ' || pem[n - 1] == '\n' || pem[n - 1] == '\r' || pem[n - 1] == '\t'))
        n--;
    unsigned int len = CSRF_KEY_BYTES;
    HMAC(EVP_sha256(), pem, (int)n, (const unsigned char *)label, sizeof(label) - 1, out, &len);
}

bool authstate_load_keys(struct authstate *st, PGresult *res)
{
    struct key loaded[MAX_KEYS];
    int n = 0, signer = -1;
    /* rows come newest first; the first key not retired signs */
    for (int row = 0; row < PQntuples(res) && n < MAX_KEYS; row++) {
        const char *kid = db_value(res, row, "kid");
        const char *pem = db_value(res, row, "private_key");
        const char *retired = db_value(res, row, "retired");
        EVP_PKEY *k = pem ? jwt_key_from_pem(pem) : NULL;
        if (!kid || !k) {
            log_error("signing key %s cannot be read; it is ignored", kid ? kid : "?");
            EVP_PKEY_free(k);
            continue;
        }
        snprintf(loaded[n].kid, sizeof(loaded[n].kid), "%s", kid);
        loaded[n].pkey = k;
        loaded[n].retired = retired && retired[0] == 't';
        derive_form_key(pem, loaded[n].form_key);
        if (signer < 0 && !loaded[n].retired)
            signer = n;
        n++;
    }
    pthread_rwlock_wrlock(&st->lock);
    clear_keys(st);
    memcpy(st->keys, loaded, n * sizeof(loaded[0]));
    st->nkeys = n;
    st->signer = signer;
    pthread_rwlock_unlock(&st->lock);
    log_debug("signing keys loaded: %d (signing: %s)", n,
              signer >= 0 ? loaded[signer].kid : "none");
    return signer >= 0;
}

static unsigned long hash_jti(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h % REVOKED_BUCKETS;
}

/* add under the write lock; drop expired entries of the bucket on the way */
static void add_revoked_locked(struct authstate *st, const char *jti, long exp, long now)
{
    struct revoked **pp = &st->buckets[hash_jti(jti)];
    while (*pp) {
        struct revoked *r = *pp;
        if (strcmp(r->jti, jti) == 0)
            return;
        if (r->exp < now) {
            *pp = r->next;
            free(r->jti);
            free(r);
            continue;
        }
        pp = &r->next;
    }
    struct revoked *r = malloc(sizeof(*r));
    r->jti = strdup(jti);
    r->exp = exp;
    r->next = NULL;
    *pp = r;
}

void authstate_load_revocations(struct authstate *st, PGresult *res)
{
    long now = time(NULL);
    pthread_rwlock_wrlock(&st->lock);
    for (int row = 0; row < PQntuples(res); row++) {
        const char *jti = db_value(res, row, "jti");
        const char *exp = db_value(res, row, "exp");
        if (jti && exp)
            add_revoked_locked(st, jti, atol(exp), now);
    }
    pthread_rwlock_unlock(&st->lock);
}

void authstate_add_revocation(struct authstate *st, const char *payload)
{
    char jti[64];
    long exp;
    if (sscanf(payload, "%63s %ld", jti, &exp) != 2)
        return;
    pthread_rwlock_wrlock(&st->lock);
    add_revoked_locked(st, jti, exp, time(NULL));
    pthread_rwlock_unlock(&st->lock);
    log_debug("token %s revoked", jti);
}

static bool is_revoked_locked(struct authstate *st, const char *jti)
{
    for (struct revoked *r = st->buckets[hash_jti(jti)]; r; r = r->next)
        if (strcmp(r->jti, jti) == 0)
            return true;
    return false;
}

bool authstate_is_revoked(struct authstate *st, const char *jti)
{
    pthread_rwlock_rdlock(&st->lock);
    bool r = is_revoked_locked(st, jti);
    pthread_rwlock_unlock(&st->lock);
    return r;
}

char *authstate_sign(struct authstate *st, json_object *claims)
{
    pthread_rwlock_rdlock(&st->lock);
    char *token = NULL;
    if (st->signer >= 0)
        token = jwt_sign(st->keys[st->signer].pkey, st->keys[st->signer].kid, claims);
    pthread_rwlock_unlock(&st->lock);
    return token;
}

/* does aud name the audience (the public URL or a path under it) */
static bool audience_matches(const char *audience, const char *aud)
{
    size_t n = strlen(audience);
    return strncmp(aud, audience, n) == 0 && (aud[n] == '\0' || aud[n] == '/');
}

bool authstate_resource_ok(struct authstate *st, const char *resource)
{
    return audience_matches(st->audience, resource) && !strchr(resource, '#');
}

static bool verify(struct authstate *st, const char *token, bool check_audience,
                   struct token_info *info, const char **why)
{
    memset(info, 0, sizeof(*info));
    struct jwt_parts parts;
    if (!jwt_split(token, &parts, why))
        return false;
    bool ok = false;
    const char *alg = jwt_claim_str(parts.header, "alg");
    const char *typ = jwt_claim_str(parts.header, "typ");
    const char *kid = jwt_claim_str(parts.header, "kid");
    const char *iss = jwt_claim_str(parts.claims, "iss");
    const char *sub = jwt_claim_str(parts.claims, "sub");
    const char *client_id = jwt_claim_str(parts.claims, "client_id");
    const char *jti = jwt_claim_str(parts.claims, "jti");
    const char *sid = jwt_claim_str(parts.claims, "sid");
    const char *scope = jwt_claim_str(parts.claims, "scope");
    const char *aud = jwt_claim_str(parts.claims, "aud");
    long now = time(NULL);

    if (!alg || strcmp(alg, "ES256") != 0) {
        *why = "the token's algorithm is not ES256";
        goto out;
    }
    if (!typ || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0)) {
        *why = "the token is not an access token (typ at+jwt)";
        goto out;
    }
    pthread_rwlock_rdlock(&st->lock);
    EVP_PKEY *key = NULL;
    for (int i = 0; kid && i < st->nkeys; i++)
        if (strcmp(st->keys[i].kid, kid) == 0)
            key = st->keys[i].pkey;
    bool sig_ok = key && jwt_verify_signature(key, &parts);
    bool revoked = jti && is_revoked_locked(st, jti);
    if (sid && !revoked) {
        char family[sizeof(REVOKED_FAMILY_PREFIX) + 64];
        snprintf(family, sizeof(family), "%s%.63s", REVOKED_FAMILY_PREFIX, sid);
        revoked = is_revoked_locked(st, family);
    }
    pthread_rwlock_unlock(&st->lock);
    if (!key) {
        *why = "the token was not signed by a key of this server";
        goto out;
    }
    if (!sig_ok) {
        *why = "the token's signature is not valid";
        goto out;
    }
    if (!jwt_claim_int(parts.claims, "exp", &info->exp) ||
        !jwt_claim_int(parts.claims, "iat", &info->iat) || !iss || !sub || !client_id || !jti ||
        !scope || !aud) {
        *why = "the token lacks a required claim";
        goto out;
    }
    if (info->exp <= now) {
        *why = "the token has expired";
        goto out;
    }
    if (info->iat > now + 60) {
        *why = "the token was issued in the future";
        goto out;
    }
    if (strcmp(iss, st->issuer) != 0) {
        *why = "the token was issued by another server";
        goto out;
    }
    if (check_audience && !audience_matches(st->audience, aud)) {
        *why = "the token is for another audience";
        goto out;
    }
    if (revoked) {
        *why = "the token has been revoked";
        goto out;
    }
    char bad[80];
    if (!scope_parse(scope, &info->scopes, bad, sizeof(bad))) {
        *why = "the token has an unknown scope";
        goto out;
    }
    snprintf(info->sub, sizeof(info->sub), "%s", sub);
    snprintf(info->client_id, sizeof(info->client_id), "%s", client_id);
    snprintf(info->jti, sizeof(info->jti), "%s", jti);
    snprintf(info->sid, sizeof(info->sid), "%s", sid ? sid : "");
    snprintf(info->aud, sizeof(info->aud), "%s", aud);
    ok = true;
out:
    jwt_parts_free(&parts);
    return ok;
}

bool authstate_verify(struct authstate *st, const char *token, struct token_info *info,
                      const char **why)
{
    return verify(st, token, true, info, why);
}

bool authstate_verify_any_audience(struct authstate *st, const char *token, struct token_info *info,
                                   const char **why)
{
    return verify(st, token, false, info, why);
}

int authstate_form_keys(struct authstate *st, unsigned char (*keys)[CSRF_KEY_BYTES], int max)
{
    int n = 0;
    pthread_rwlock_rdlock(&st->lock);
    if (st->signer >= 0 && n < max)
        memcpy(keys[n++], st->keys[st->signer].form_key, CSRF_KEY_BYTES);
    for (int i = 0; i < st->nkeys && n < max; i++)
        if (i != st->signer)
            memcpy(keys[n++], st->keys[i].form_key, CSRF_KEY_BYTES);
    pthread_rwlock_unlock(&st->lock);
    return n;
}

json_object *authstate_jwks(struct authstate *st)
{
    json_object *keys = json_object_new_array();
    pthread_rwlock_rdlock(&st->lock);
    for (int i = 0; i < st->nkeys; i++) {
        json_object *jwk = jwt_public_jwk(st->keys[i].pkey, st->keys[i].kid);
        if (jwk)
            json_object_array_add(keys, jwk);
    }
    pthread_rwlock_unlock(&st->lock);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "keys", keys);
    return o;
}

/* ----------------------------------------------------------- watching */

const struct db_stmt stmt_load_keys = {
    "auth_load_keys",
    "SELECT kid, private_key, retired_at IS NOT NULL AS retired FROM vecdb_auth.signing_keys "
    "ORDER BY retired_at IS NOT NULL, created_at DESC, kid",
    0};
const struct db_stmt stmt_load_revocations = {
    "auth_load_revocations",
    "SELECT jti, floor(extract(epoch FROM expires_at))::bigint AS exp "
    "FROM vecdb_auth.revoked_tokens WHERE expires_at > now()",
    0};

static void keys_loaded(void *arg, const struct db_result *r)
{
    if (r->status == DB_OK)
        authstate_load_keys(arg, r->res);
    else
        log_error("cannot reload signing keys: %s", r->message);
}

static void revocations_loaded(void *arg, const struct db_result *r)
{
    if (r->status == DB_OK)
        authstate_load_revocations(arg, r->res);
    else
        log_error("cannot reload revoked tokens: %s", r->message);
}

static void watch_connected(void *arg)
{
    struct authstate *st = arg;
    db_exec(st->watch, &stmt_load_keys, NULL, 0, NULL, keys_loaded, st);
    db_exec(st->watch, &stmt_load_revocations, NULL, 0, NULL, revocations_loaded, st);
}

static void watch_notify(void *arg, const char *channel, const char *payload)
{
    struct authstate *st = arg;
    if (strcmp(channel, "vecdb_auth_revoked") == 0)
        authstate_add_revocation(st, payload);
    else if (strcmp(channel, "vecdb_auth_keys") == 0)
        db_exec(st->watch, &stmt_load_keys, NULL, 0, NULL, keys_loaded, st);
}

static const struct db_stmt stmt_prune = {"auth_prune", "SELECT vecdb_auth.prune() AS n", 0};

static void pruned(void *arg, const struct db_result *r)
{
    if (r->status == DB_OK)
        log_debug("pruned %s expired codes, tokens, revocations and keys",
                  db_value(r->res, 0, "n"));
    else
        log_warning("cannot prune expired tokens: %s", r->message);
}

/* hourly: expired codes, refresh tokens and revocations go (vecdb_auth.prune) */
static void prune_cb(evutil_socket_t fd, short what, void *arg)
{
    struct authstate *st = arg;
    db_exec(st->watch, &stmt_prune, NULL, 0, NULL, pruned, st);
}

void authstate_watch(struct authstate *st, struct event_base *base, const char *conninfo)
{
    static const char *const channels[] = {"vecdb_auth_revoked", "vecdb_auth_keys", NULL};
    static int queue_timeout = 60000, queue_limit = 100;
    struct pool_options po = {
        .conninfo = conninfo,
        .name = "auth watcher",
        .size = 1,
        .statement_timeout_ms = 30000,
        .queue_timeout_ms = &queue_timeout,
        .queue_limit = &queue_limit,
        .listen = channels,
        .on_notify = watch_notify,
        .on_connected = watch_connected,
        .callback_arg = st,
    };
    st->watch = pool_new(base, &po);
    st->prune_timer = event_new(base, -1, EV_PERSIST, prune_cb, st);
    struct timeval hour = {3600, 0};
    event_add(st->prune_timer, &hour);
}

void authstate_unwatch(struct authstate *st)
{
    if (st->prune_timer) {
        event_free(st->prune_timer);
        st->prune_timer = NULL;
    }
    pool_free(st->watch);
    st->watch = NULL;
}

/*
 * authstate.h - what every thread needs to issue and check tokens: the
 * signing keys and the set of revoked token ids, shared by the workers and
 * kept current by a LISTEN connection on the main thread.
 */
#ifndef VECDB_AUTHSTATE_H
#define VECDB_AUTHSTATE_H

#include <stdbool.h>

#include <json-c/json.h>
#include <libpq-fe.h>

struct event_base;
struct authstate;

/* scopes as bits; admin implies the others */
#define SCOPE_READ 0x1
#define SCOPE_WRITE 0x2
#define SCOPE_ADMIN 0x4
#define SCOPE_ALL (SCOPE_READ | SCOPE_WRITE | SCOPE_ADMIN)

/* "read write" -> bits; false on an unknown scope (named in *bad) */
bool scope_parse(const char *text, unsigned *bits, char *bad, size_t badsize);
/* a PostgreSQL text[] literal ({read,write}) -> bits */
unsigned scope_from_array(const char *pgarray);
/* bits -> "read write admin" (static storage) */
const char *scope_format(unsigned bits);
/* admin adds write and read */
unsigned scope_expand(unsigned bits);
/* the role a request with these scopes runs as, NULL for none */
const char *scope_role(unsigned bits);

/* a revoked id that stands for a whole refresh-token family: every access
 * token whose sid claim is ID ("family:ID" in vecdb_auth.revoked_tokens) */
#define REVOKED_FAMILY_PREFIX "family:"

/* a verified access token */
struct token_info {
    char sub[256];
    char client_id[136];
    char jti[64];
    char sid[64]; /* the refresh-token family it was issued in, "" if none */
    char aud[512];
    unsigned scopes;
    long iat, exp;
};

struct authstate *authstate_new(const char *issuer, const char *audience);
void authstate_free(struct authstate *st);

/* replace the keys with rows (kid, private_key, retired) of signing_keys */
bool authstate_load_keys(struct authstate *st, PGresult *res);
/* add rows (jti, exp epoch) of revoked_tokens */
void authstate_load_revocations(struct authstate *st, PGresult *res);
/* one revocation: "JTI EPOCH" as NOTIFY carries it (JTI may be
 * "family:ID") */
void authstate_add_revocation(struct authstate *st, const char *payload);
bool authstate_is_revoked(struct authstate *st, const char *jti);

/* the claims as a token signed by the current key; NULL if there is none */
char *authstate_sign(struct authstate *st, json_object *claims);

/*
 * Check an access token: ES256 with a known kid, typ at+jwt, a valid
 * signature, not expired, issued by us, for an audience under the public URL,
 * not revoked (neither its jti nor the family named by its sid).  On failure
 * *why says what was wrong (for the client).  audience NULL: the configured
 * one; otherwise the audience to require.
 */
bool authstate_verify(struct authstate *st, const char *token, struct token_info *info,
                      const char **why);

/* verify only the signature and issuer (revocation and introspection of
 * tokens for any audience) */
bool authstate_verify_any_audience(struct authstate *st, const char *token, struct token_info *info,
                                   const char **why);

/* the login form's MAC keys (csrf.h), derived from the signing keys: the
 * signing key's first (it makes new forms), then the others (they still
 * check forms made before a rotation); returns how many, at most max; 0
 * before any key has loaded */
#define AUTHSTATE_MAX_KEYS 16
int authstate_form_keys(struct authstate *st, unsigned char (*keys)[32], int max);

/* the JWK set of every key */
json_object *authstate_jwks(struct authstate *st);

/* is resource (RFC 8707) an audience tokens may be issued for */
bool authstate_resource_ok(struct authstate *st, const char *resource);

/* keep the state current from the database: a LISTEN connection on base
 * that reloads keys and revocations on every (re)connection and applies each
 * NOTIFY */
void authstate_watch(struct authstate *st, struct event_base *base, const char *conninfo);
void authstate_unwatch(struct authstate *st);

#endif

/*
 * oauth.h - the OAuth 2.1 authorization server's shared parts: client
 * authentication, token issuance, the statements on vecdb_auth.
 *
 *   oauth.c            routes, metadata, JWKS, client authentication, /oauth/token
 *   oauth_manage.c     /oauth/register, /oauth/revoke, /oauth/introspect, /oauth/client_info
 *   oauth_authorize.c  /oauth/authorize and its login/consent page
 */
#ifndef VECDB_OAUTH_H
#define VECDB_OAUTH_H

#include <stdbool.h>

#include "authstate.h"
#include "config.h"
#include "http.h"
#include "pool.h"

#define GRANT_CLIENT_CREDENTIALS 0x1
#define GRANT_AUTHORIZATION_CODE 0x2
#define GRANT_REFRESH_TOKEN 0x4

/* a row of vecdb_auth.clients */
struct client {
    char client_id[136];
    bool confidential;
    unsigned scopes; /* as stored (not expanded) */
    unsigned grants;
    char *name;          /* NULL if none */
    char *redirect_uris; /* text[] literal as PostgreSQL returns it */
    char auth_method[32];
    bool registered; /* created by RFC 7591 registration: held to auth_method */
    long created;
};

void client_clear(struct client *c);

/* fill c from a row of stmt_client */
void client_from_row(struct client *c, const PGresult *res, int row);

/* is uri one of the client's redirect URIs (exact match); with uri NULL,
 * the single registered one if there is exactly one (into *chosen) */
bool client_redirect_ok(const struct client *c, const char *uri, char **chosen);

/* grant names <-> bits */
unsigned grants_from_array(const char *pgarray);

/* state every OAuth request carries; handlers extend it by embedding */
struct oauth_req {
    struct form form;
    struct client client;
    char *presented_id;
    char *presented_secret;
    bool used_basic;
    void (*next)(struct request *r); /* after client authentication succeeds */
    char *stored_hash;               /* secret hash being checked off the loop */
    bool verified;
};

struct oauth_req *oauth_req_new(struct request *r, size_t size);

/* parse a form body (token, revoke, introspect): false if answered (400) */
bool oauth_parse_form_body(struct request *r, struct oauth_req *o);

/*
 * Authenticate the client of a request (HTTP Basic or client_id/secret in
 * the form; public clients by client_id alone when allow_public), with the
 * per-client and per-address failure limits.  On success o->client is set
 * and o->next(r) runs; on failure the request has been answered.
 */
void oauth_authenticate_client(struct request *r, bool allow_public);

/* the failure limits: true (answered 429) if key is blocked */
bool oauth_rate_limited(struct request *r, const char *key);
void oauth_count_failure(struct request *r, const char *key);

/* a new access token for subject/client/scopes/audience (NULL: public_url)
 * in refresh-token family (its sid claim; NULL: none); *exp is its expiry */
char *oauth_issue_access_token(struct request *r, const char *subject, const char *client_id,
                               unsigned scopes, const char *audience, const char *family,
                               long *exp);

/* the shared authentication state and settings of the request's gateway */
struct authstate *oauth_auth(struct request *r);
const struct config *oauth_cfg(struct request *r);

/* split "ID.SECRET" (a refresh token) into malloc'd parts */
bool oauth_split_refresh(const char *token, char **id, char **secret);

/* handlers of the other files */
void oauth_register(struct request *r);
void oauth_revoke(struct request *r);
void oauth_introspect(struct request *r);
void oauth_client_info(struct request *r);
void oauth_authorize_get(struct request *r);
void oauth_authorize_post(struct request *r);

/* statements several files use */
extern const struct db_stmt stmt_client;
extern const struct db_stmt stmt_refresh_get;
extern const struct db_stmt stmt_revoke_family;
extern const struct db_stmt stmt_revoke_jti;

#endif

/*
 * csrf.h - the login form's anti-forgery token (a signed double submit).
 *
 * GET /oauth/authorize hands the browser a random nonce in a cookie and puts
 * into the form
 *
 *     csrf_token = TIME "." Base64url(HMAC-SHA256(K, nonce, TIME, parameters))
 *
 * where the parameters are the authorization request the form carries.  The
 * POST must bring back the cookie and a token that is the MAC of that very
 * cookie, of the parameters as posted and of a TIME at most CSRF_LIFETIME
 * old.  Another site can make a browser post the form, but it can neither
 * read nor set the browser's cookie (HttpOnly, SameSite=Lax, so a
 * cross-site POST does not even carry it), and a token it fetched for
 * itself is bound to its own nonce; nor can the hidden parameters be
 * changed without the MAC failing.
 *
 * K is derived from a signing key of the database (authstate_form_keys), so
 * every gateway behind one issuer checks the forms of every other, and key
 * rotation leaves open forms valid: a check tries every key.
 */
#ifndef VECDB_CSRF_H
#define VECDB_CSRF_H

#include <stdbool.h>

#define CSRF_KEY_BYTES 32
#define CSRF_LIFETIME 1800 /* seconds a login form stays usable */
#define CSRF_COOKIE "vecdb_csrf"
#define CSRF_FIELD "csrf_token"

/* the form's bound parameters: names, NULL-ended, with their values (a NULL
 * value: the parameter is absent, which differs from an empty one) */
struct csrf_fields {
    const char *const *names;
    const char *const *values;
};

enum csrf_result {
    CSRF_OK,
    CSRF_MISSING, /* no token, or no (well-formed) cookie */
    CSRF_EXPIRED, /* a genuine token, too old (or from the future) */
    CSRF_INVALID, /* not the MAC of this cookie and these parameters */
};

/* a new random nonce for the cookie (malloc'd) */
char *csrf_new_nonce(void);

/* is nonce what csrf_new_nonce makes (the cookie is the client's input) */
bool csrf_nonce_ok(const char *nonce);

/* the nonce in a Cookie header, or NULL; malloc'd */
char *csrf_cookie_nonce(const char *cookie_header);

/* the token for nonce, time t and fields under key (malloc'd) */
char *csrf_token(const unsigned char key[CSRF_KEY_BYTES], const char *nonce, long t,
                 const struct csrf_fields *f);

/* check token against nonce and fields at time now, under any of keys */
enum csrf_result csrf_check(const unsigned char (*keys)[CSRF_KEY_BYTES], int nkeys,
                            const char *nonce, const char *token, long now,
                            const struct csrf_fields *f);

#endif

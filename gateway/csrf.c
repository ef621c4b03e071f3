/*
 * csrf.c - the login form's anti-forgery token; the design is in csrf.h.
 *
 * The MAC's input is unambiguous: a label, then the nonce, the time and each
 * bound parameter as "+value" (present) or "-" (absent), every item ended by
 * a NUL byte.  Values come from C strings, so they hold no NUL, and the
 * names are fixed by the caller, so two different forms never give the same
 * input.  The comparison is constant-time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "csrf.h"
#include "secret.h"

#define NONCE_BYTES 16
#define NONCE_CHARS 22 /* Base64url of 16 bytes */
#define MAC_CHARS 43   /* Base64url of 32 bytes */
#define CLOCK_SKEW 60  /* seconds a token may seem to come from the future */

char *csrf_new_nonce(void)
{
    return secret_random(NONCE_BYTES);
}

bool csrf_nonce_ok(const char *nonce)
{
    unsigned char buf[NONCE_BYTES + 2];
    return nonce && strlen(nonce) == NONCE_CHARS &&
           b64url_decode(nonce, NONCE_CHARS, buf, sizeof(buf)) == NONCE_BYTES;
}

char *csrf_cookie_nonce(const char *h)
{
    static const char name[] = CSRF_COOKIE "=";
    size_t n = sizeof(name) - 1;
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > n && strncmp(p, name, n) == 0) {
            char *v = strndup(p + n, len - n);
            if (csrf_nonce_ok(v))
                return v;
            free(v);
            return NULL;
        }
        p += len;
    }
    return NULL;
}

/* HMAC-SHA256 of the form's canonical input */
static void form_mac(const unsigned char key[CSRF_KEY_BYTES], const char *nonce, long t,
                     const struct csrf_fields *f, unsigned char out[32])
{
    static const char label[] = "vecdb login form v1";
    char tbuf[24];
    int tlen = snprintf(tbuf, sizeof(tbuf), "%ld", t);
    size_t cap = sizeof(label) + strlen(nonce) + 1 + (size_t)tlen + 1;
    for (int i = 0; f->names[i]; i++)
        cap += (f->values[i] ? strlen(f->values[i]) : 0) + 2;
    unsigned char *msg = malloc(cap), *p = msg;
#define ADD(s, n)                                                                                  \
    do {                                                                                           \
        memcpy(p, (s), (n));                                                                       \
        p += (n);                                                                                  \
        *p++ = '\0';                                                                               \
    } while (0)
    ADD(label, sizeof(label) - 1);
    ADD(nonce, strlen(nonce));
    ADD(tbuf, (size_t)tlen);
    for (int i = 0; f->names[i]; i++) {
        if (f->values[i]) {
            *p++ = '+';
            ADD(f->values[i], strlen(f->values[i]));
        } else {
            ADD("-", 1);
        }
    }
#undef ADD
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, CSRF_KEY_BYTES, msg, (size_t)(p - msg), out, &len);
    free(msg);
}

char *csrf_token(const unsigned char key[CSRF_KEY_BYTES], const char *nonce, long t,
                 const struct csrf_fields *f)
{
    unsigned char mac[32];
    form_mac(key, nonce, t, f, mac);
    char *b = b64url_encode(mac, sizeof(mac));
    char *token = malloc(strlen(b) + 24);
    sprintf(token, "%ld.%s", t, b);
    free(b);
    return token;
}

enum csrf_result csrf_check(const unsigned char (*keys)[CSRF_KEY_BYTES], int nkeys,
                            const char *nonce, const char *token, long now,
                            const struct csrf_fields *f)
{
    if (!token || !*token || !csrf_nonce_ok(nonce))
        return CSRF_MISSING;
    char *end;
    long t = strtol(token, &end, 10);
    unsigned char mac[40];
    if (end == token || *end != '.' || strlen(end + 1) != MAC_CHARS ||
        b64url_decode(end + 1, MAC_CHARS, mac, sizeof(mac)) != 32)
        return CSRF_INVALID;
    bool genuine = false;
    for (int i = 0; i < nkeys; i++) {
        unsigned char want[32];
        form_mac(keys[i], nonce, t, f, want);
        genuine |= const_time_eq(want, mac, 32);
    }
    if (!genuine)
        return CSRF_INVALID;
    if (t > now + CLOCK_SKEW || now - t > CSRF_LIFETIME)
        return CSRF_EXPIRED;
    return CSRF_OK;
}

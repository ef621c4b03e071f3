/*
 * secret.c - random tokens and salted hashes of secrets (OpenSSL).
 *
 * Why two hash kinds: a password or an operator-chosen client secret may be
 * guessable, so it gets PBKDF2-HMAC-SHA256 with a random salt and many
 * iterations, which costs tens of milliseconds and therefore runs on the
 * offload threads, never on an event loop.  A secret the server generated
 * (client secrets, refresh tokens) has 256 random bits: no dictionary can
 * reach it, so one salted SHA-256 is as strong and costs microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "secret.h"

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *b64url_encode(const unsigned char *data, size_t len)
{
    char *out = malloc(len * 4 / 3 + 4);
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
        out[o++] = b64url_chars[v >> 18];
        out[o++] = b64url_chars[(v >> 12) & 63];
        out[o++] = b64url_chars[(v >> 6) & 63];
        out[o++] = b64url_chars[v & 63];
    }
    if (len - i == 1) {
        unsigned v = data[i] << 16;
        out[o++] = b64url_chars[v >> 18];
        out[o++] = b64url_chars[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = data[i] << 16 | data[i + 1] << 8;
        out[o++] = b64url_chars[v >> 18];
        out[o++] = b64url_chars[(v >> 12) & 63];
        out[o++] = b64url_chars[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long b64url_decode(const char *text, size_t textlen, unsigned char *out, size_t outsize)
{
    if (textlen % 4 == 1)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < textlen; i++) {
        int v = b64url_value((unsigned char)text[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsize)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: stray bits in the last character */
        return -1;
    return (long)o;
}

char *secret_random(size_t nbytes)
{
    unsigned char buf[64];
    if (nbytes > sizeof(buf) || RAND_bytes(buf, (int)nbytes) != 1)
        abort(); /* no randomness: nothing safe can be issued */
    char *s = b64url_encode(buf, nbytes);
    OPENSSL_cleanse(buf, sizeof(buf));
    return s;
}

void sha256_hex(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void sha256_salted(const unsigned char *salt, size_t saltlen, const char *secret,
                          unsigned char md[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, salt, saltlen);
    EVP_DigestUpdate(ctx, secret, strlen(secret));
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
}

static void pbkdf2(const char *secret, const unsigned char *salt, size_t saltlen, int iterations,
                   unsigned char md[32])
{
    PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)saltlen, iterations, EVP_sha256(), 32,
                      md);
}

char *secret_hash(const char *secret, bool slow)
{
    unsigned char salt[16], md[32];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        abort();
    if (slow)
        pbkdf2(secret, salt, sizeof(salt), PBKDF2_ITERATIONS, md);
    else
        sha256_salted(salt, sizeof(salt), secret, md);
    char *s = b64url_encode(salt, sizeof(salt));
    char *h = b64url_encode(md, sizeof(md));
    char *out = malloc(strlen(s) + strlen(h) + 40);
    if (slow)
        sprintf(out, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, s, h);
    else
        sprintf(out, "sha256$%s$%s", s, h);
    free(s);
    free(h);
    return out;
}

bool secret_is_slow(const char *stored)
{
    return stored && strncmp(stored, "pbkdf2-sha256$", 14) == 0;
}

bool secret_verify(const char *secret, const char *stored)
{
    if (!secret || !stored)
        return false;
    int iterations = 0;
    const char *p;
    if (strncmp(stored, "pbkdf2-sha256$", 14) == 0) {
        char *end;
        iterations = (int)strtol(stored + 14, &end, 10);
        if (*end != '$' || iterations < 1 || iterations > 10000000)
            return false;
        p = end + 1;
    } else if (strncmp(stored, "sha256$", 7) == 0) {
        p = stored + 7;
    } else {
        return false;
    }
    const char *dollar = strchr(p, '$');
    if (!dollar)
        return false;
    unsigned char salt[64], want[64], got[32];
    long saltlen = b64url_decode(p, dollar - p, salt, sizeof(salt));
    long wantlen = b64url_decode(dollar + 1, strlen(dollar + 1), want, sizeof(want));
    if (saltlen <= 0 || wantlen != 32)
        return false;
    if (iterations)
        pbkdf2(secret, salt, saltlen, iterations, got);
    else
        sha256_salted(salt, saltlen, secret, got);
    return const_time_eq(got, want, 32);
}

bool const_time_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool const_time_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

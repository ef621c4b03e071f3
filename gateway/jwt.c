/*
 * jwt.c - ES256 compact JWS: signing, verifying, keys and JWKs (OpenSSL 3).
 *
 * JOSE's ES256 signature is R || S, each 32 bytes big-endian, while OpenSSL
 * produces and expects DER; the two conversions below are the only subtle
 * part.  Verification trusts nothing in the token but the bytes it signs: the
 * caller checks alg, typ and kid against what it expects before choosing a
 * key, so `alg: none` or an HMAC algorithm can never select a weaker check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "jwt.h"
#include "secret.h"

static json_object *parse_b64_json(const char *text, size_t len)
{
    size_t cap = len * 3 / 4 + 4;
    unsigned char *raw = malloc(cap + 1);
    long n = b64url_decode(text, len, raw, cap);
    json_object *o = NULL;
    if (n > 0) {
        raw[n] = '\0';
        if (strlen((char *)raw) == (size_t)n) {
            json_tokener *tok = json_tokener_new();
            o = json_tokener_parse_ex(tok, (char *)raw, (int)n);
            if (json_tokener_get_error(tok) != json_tokener_success ||
                json_tokener_get_parse_end(tok) != (size_t)n ||
                !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                o = NULL;
            }
            json_tokener_free(tok);
        }
    }
    free(raw);
    return o;
}

bool jwt_split(const char *token, struct jwt_parts *parts, const char **why)
{
    memset(parts, 0, sizeof(*parts));
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.')) {
        *why = "the token is not a JWT (three dot-separated parts)";
        return false;
    }
    parts->header = parse_b64_json(token, dot1 - token);
    parts->claims = parse_b64_json(dot1 + 1, dot2 - dot1 - 1);
    if (!parts->header || !parts->claims) {
        *why = "the token's header or claims are not Base64url-encoded JSON objects";
        jwt_parts_free(parts);
        return false;
    }
    parts->siglen = b64url_decode(dot2 + 1, strlen(dot2 + 1), parts->sig, sizeof(parts->sig));
    parts->signing_input = strndup(token, dot2 - token);
    return true;
}

void jwt_parts_free(struct jwt_parts *parts)
{
    json_object_put(parts->header);
    json_object_put(parts->claims);
    free(parts->signing_input);
    memset(parts, 0, sizeof(*parts));
}

static char *b64_json(json_object *o)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return b64url_encode((const unsigned char *)s, strlen(s));
}

char *jwt_sign(EVP_PKEY *key, const char *kid, json_object *claims)
{
    json_object *header = json_object_new_object();
    json_object_object_add(header, "alg", json_object_new_string("ES256"));
    json_object_object_add(header, "typ", json_object_new_string("at+jwt"));
    json_object_object_add(header, "kid", json_object_new_string(kid));
    char *h = b64_json(header);
    char *c = b64_json(claims);
    json_object_put(header);
    size_t inlen = strlen(h) + 1 + strlen(c);
    char *input = malloc(inlen + 1);
    sprintf(input, "%s.%s", h, c);
    free(h);
    free(c);

    unsigned char der[128];
    size_t derlen = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *token = NULL;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, der, &derlen, (unsigned char *)input, inlen) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
        unsigned char raw[64];
        if (sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32) {
            char *s = b64url_encode(raw, 64);
            token = malloc(inlen + strlen(s) + 2);
            sprintf(token, "%s.%s", input, s);
            free(s);
        }
        ECDSA_SIG_free(sig);
    }
    EVP_MD_CTX_free(ctx);
    free(input);
    return token;
}

bool jwt_verify_signature(EVP_PKEY *key, const struct jwt_parts *parts)
{
    if (parts->siglen != 64)
        return false;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(parts->sig, 32, NULL);
    BIGNUM *s = BN_bin2bn(parts->sig + 32, 32, NULL);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return false;
    }
    unsigned char *der = NULL;
    int derlen = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (derlen <= 0)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerify(ctx, der, derlen, (unsigned char *)parts->signing_input,
                               strlen(parts->signing_input)) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

EVP_PKEY *jwt_generate_key(void)
{
    return EVP_EC_gen("P-256");
}

char *jwt_private_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        out = strndup(data, n);
    }
    BIO_free(bio);
    return out;
}

EVP_PKEY *jwt_key_from_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

/* the public point's coordinates as Base64url of 32 bytes each */
static bool public_xy(EVP_PKEY *key, char **x, char **y)
{
    BIGNUM *bx = NULL, *by = NULL;
    unsigned char bufx[32], bufy[32];
    bool ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
              EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
              BN_bn2binpad(bx, bufx, 32) == 32 && BN_bn2binpad(by, bufy, 32) == 32;
    BN_free(bx);
    BN_free(by);
    if (!ok)
        return false;
    *x = b64url_encode(bufx, 32);
    *y = b64url_encode(bufy, 32);
    return true;
}

json_object *jwt_public_jwk(EVP_PKEY *key, const char *kid)
{
    char *x, *y;
    if (!public_xy(key, &x, &y))
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kty", json_object_new_string("EC"));
    json_object_object_add(o, "crv", json_object_new_string("P-256"));
    json_object_object_add(o, "x", json_object_new_string(x));
    json_object_object_add(o, "y", json_object_new_string(y));
    json_object_object_add(o, "kid", json_object_new_string(kid));
    json_object_object_add(o, "alg", json_object_new_string("ES256"));
    json_object_object_add(o, "use", json_object_new_string("sig"));
    free(x);
    free(y);
    return o;
}

char *jwt_thumbprint(EVP_PKEY *key)
{
    char *x, *y;
    if (!public_xy(key, &x, &y))
        return NULL;
    /* RFC 7638: the required members, sorted, no whitespace */
    char canon[256];
    snprintf(canon, sizeof(canon), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             x, y);
    free(x);
    free(y);
    unsigned char md[32];
    unsigned int len;
    EVP_Digest(canon, strlen(canon), md, &len, EVP_sha256(), NULL);
    return b64url_encode(md, 32);
}

const char *jwt_claim_str(json_object *claims, const char *name)
{
    json_object *v;
    if (!json_object_object_get_ex(claims, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

bool jwt_claim_int(json_object *claims, const char *name, long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(claims, name, &v) || !json_object_is_type(v, json_type_int))
        return false;
    *out = (long)json_object_get_int64(v);
    return true;
}

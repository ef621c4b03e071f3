/*
 * jwt.h - JSON Web Tokens signed with ES256 (ECDSA P-256, SHA-256), as
 * RFC 7515/7519 define them and RFC 9068 profiles them for access tokens.
 */
#ifndef VECDB_JWT_H
#define VECDB_JWT_H

#include <stdbool.h>

#include <json-c/json.h>
#include <openssl/evp.h>

/* a token cut into its parts; header and claims are parsed JSON objects */
struct jwt_parts {
    json_object *header;
    json_object *claims;
    char *signing_input; /* "header.payload" as received */
    unsigned char sig[64];
    long siglen;
};

/* cut and parse a compact JWS; false (with why) if it is not one */
bool jwt_split(const char *token, struct jwt_parts *parts, const char **why);
void jwt_parts_free(struct jwt_parts *parts);

/* the header and claims as a signed compact JWS (typ at+jwt) */
char *jwt_sign(EVP_PKEY *key, const char *kid, json_object *claims);

/* does the ES256 signature verify with key */
bool jwt_verify_signature(EVP_PKEY *key, const struct jwt_parts *parts);

/* a new P-256 key; PEM (PKCS#8) in and out */
EVP_PKEY *jwt_generate_key(void);
char *jwt_private_pem(EVP_PKEY *key);
EVP_PKEY *jwt_key_from_pem(const char *pem);

/* the public JWK of key with its kid, alg and use; and its RFC 7638
 * thumbprint, which is the kid we give it */
json_object *jwt_public_jwk(EVP_PKEY *key, const char *kid);
char *jwt_thumbprint(EVP_PKEY *key);

/* claim accessors: NULL / 0 when absent or of another type */
const char *jwt_claim_str(json_object *claims, const char *name);
bool jwt_claim_int(json_object *claims, const char *name, long *out);

#endif

/*
 * secret.h - random tokens, Base64url, hashes of secrets, constant-time
 * comparison.
 *
 * Stored hashes are self-describing text:
 *   pbkdf2-sha256$ITERATIONS$SALT$HASH   passwords and operator-chosen secrets
 *   sha256$SALT$HASH                     secrets the server generated (256 random
 *                                        bits need no slow hash, only a salt)
 * with SALT and HASH in Base64url.  secret_verify accepts either.
 */
#ifndef VECDB_SECRET_H
#define VECDB_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define PBKDF2_ITERATIONS 200000

/* n random bytes as Base64url (no padding) into a malloc'd string */
char *secret_random(size_t nbytes);

/* Base64url without padding; decode returns the length or -1 */
char *b64url_encode(const unsigned char *data, size_t len);
long b64url_decode(const char *text, size_t textlen, unsigned char *out, size_t outsize);

/* lower-case hex of SHA-256(text) (lookup keys of one-time codes) */
void sha256_hex(const char *text, char out[65]);

/* a salted hash of secret; slow: PBKDF2 (run it off the event loop) */
char *secret_hash(const char *secret, bool slow);

/* does secret match stored (a hash from secret_hash); constant-time in the
 * secret's content.  Slow for PBKDF2 hashes. */
bool secret_verify(const char *secret, const char *stored);

/* is stored a PBKDF2 hash (verification must run off the loop) */
bool secret_is_slow(const char *stored);

/* compare equal-length buffers in time independent of their content */
bool const_time_eq(const void *a, const void *b, size_t n);

/* compare strings: lengths may differ (only the length leaks) */
bool const_time_streq(const char *a, const char *b);

#endif

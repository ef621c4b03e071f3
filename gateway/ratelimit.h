/*
 * ratelimit.h - failed authentication attempts counted per key (a client id
 * or a peer address) in a fixed window; past the limit, a key is refused
 * until its window ends, even with the right secret.
 */
#ifndef VECDB_RATELIMIT_H
#define VECDB_RATELIMIT_H

#include <stdbool.h>

/* is key blocked now; if so *retry_after is the seconds left */
bool ratelimit_blocked(const char *key, int limit, int window, int *retry_after);

/* count a failure for key */
void ratelimit_fail(const char *key, int window);

#endif

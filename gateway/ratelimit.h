/*
 * ratelimit.h - events counted per key (a client id, a user, a peer
 * address) in a fixed window: failed authentications, which past the limit
 * block a key until its window ends, even with the right secret; and
 * anonymous registrations, of which an address gets a quota per window.
 */
#ifndef VECDB_RATELIMIT_H
#define VECDB_RATELIMIT_H

#include <stdbool.h>

/* is key blocked now; if so *retry_after is the seconds left */
bool ratelimit_blocked(const char *key, int limit, int window, int *retry_after);

/* count a failure for key */
void ratelimit_fail(const char *key, int window);

/* take one of the limit uses key has per window: true and counted if one is
 * left, else false with *retry_after (check and count are one step, so
 * concurrent requests cannot all slip under the limit) */
bool ratelimit_take(const char *key, int limit, int window, int *retry_after);

#endif

/*
 * ratelimit.c - fixed-window failure counters in a bounded table.
 *
 * The table is a fixed array probed linearly from the key's hash; a slot
 * whose window has ended is free.  When every slot of a probe run is live,
 * the one whose window started first is reused: an attacker spraying random
 * client ids can then push out older counters, but never grow memory, and
 * the per-address counter (one key per address) still stops that attacker.
 * One mutex: the critical sections are a few comparisons.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define SLOTS 8192
#define PROBE 16

struct slot {
    char key[144];
    long window_start;
    int failures;
};

static struct slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned long hash_key(const char *s)
{
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h;
}

static long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* the live slot of key, or NULL */
static struct slot *find(const char *key, long now, int window)
{
    unsigned long h = hash_key(key);
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + i) % SLOTS];
        if (s->key[0] && strcmp(s->key, key) == 0)
            return s->window_start + window > now ? s : NULL;
    }
    return NULL;
}

bool ratelimit_blocked(const char *key, int limit, int window, int *retry_after)
{
    long now = now_s();
    pthread_mutex_lock(&mu);
    struct slot *s = find(key, now, window);
    bool blocked = s && s->failures >= limit;
    if (blocked)
        *retry_after =
            s->window_start + window - now > 0 ? (int)(s->window_start + window - now) : 1;
    pthread_mutex_unlock(&mu);
    return blocked;
}

void ratelimit_fail(const char *key, int window)
{
    long now = now_s();
    unsigned long h = hash_key(key);
    pthread_mutex_lock(&mu);
    struct slot *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + i) % SLOTS];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (s->window_start + window <= now) {
                s->window_start = now;
                s->failures = 0;
            }
            s->failures++;
            pthread_mutex_unlock(&mu);
            return;
        }
        if (!s->key[0] || s->window_start + window <= now) {
            if (!free_slot)
                free_slot = s;
        } else if (!oldest || s->window_start < oldest->window_start) {
            oldest = s;
        }
    }
    struct slot *s = free_slot ? free_slot : oldest;
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->window_start = now;
    s->failures = 1;
    pthread_mutex_unlock(&mu);
}

/*
 * ratelimit.c - fixed-window event counters in a bounded table (failed
 * authentications, anonymous registrations; the key's prefix says which).
 *
 * The table is a fixed array probed linearly from the key's hash; a slot
 * whose window (its own: kinds of keys have windows of their own) has ended
 * is free.  When every slot of a probe run is live,
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
    int window;   /* seconds: a slot whose window has ended is free */
    int failures; /* events counted in the window */
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

/* has the slot's window ended (or was it never used) */
static bool slot_free(const struct slot *s, long now)
{
    return !s->key[0] || s->window_start + s->window <= now;
}

/* the live slot of key, or NULL */
static struct slot *find(const char *key, long now)
{
    unsigned long h = hash_key(key);
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + i) % SLOTS];
        if (s->key[0] && strcmp(s->key, key) == 0)
            return slot_free(s, now) ? NULL : s;
    }
    return NULL;
}

/* seconds until the window of a live slot ends (at least 1) */
static int seconds_left(const struct slot *s, long now)
{
    long left = s->window_start + s->window - now;
    return left > 0 ? (int)left : 1;
}

bool ratelimit_blocked(const char *key, int limit, int window, int *retry_after)
{
    (void)window; /* a live slot keeps the window it started with */
    long now = now_s();
    pthread_mutex_lock(&mu);
    struct slot *s = find(key, now);
    bool blocked = s && s->failures >= limit;
    if (blocked)
        *retry_after = seconds_left(s, now);
    pthread_mutex_unlock(&mu);
    return blocked;
}

/* the slot counting key: its live one, else a new one (count 0) whose
 * window of `window` seconds starts now; under mu */
static struct slot *slot_for(const char *key, long now, int window)
{
    unsigned long h = hash_key(key);
    struct slot *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + i) % SLOTS];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (slot_free(s, now)) {
                s->window_start = now;
                s->window = window;
                s->failures = 0;
            }
            return s;
        }
        if (slot_free(s, now)) {
            if (!free_slot)
                free_slot = s;
        } else if (!oldest || s->window_start < oldest->window_start) {
            oldest = s;
        }
    }
    struct slot *s = free_slot ? free_slot : oldest;
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->window_start = now;
    s->window = window;
    s->failures = 0;
    return s;
}

void ratelimit_fail(const char *key, int window)
{
    long now = now_s();
    pthread_mutex_lock(&mu);
    slot_for(key, now, window)->failures++;
    pthread_mutex_unlock(&mu);
}

bool ratelimit_take(const char *key, int limit, int window, int *retry_after)
{
    long now = now_s();
    pthread_mutex_lock(&mu);
    struct slot *s = slot_for(key, now, window);
    bool taken = s->failures < limit;
    if (taken)
        s->failures++;
    else
        *retry_after = seconds_left(s, now);
    pthread_mutex_unlock(&mu);
    return taken;
}

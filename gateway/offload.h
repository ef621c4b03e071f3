/*
 * offload.h - run CPU-heavy work (PBKDF2 password hashing) on helper threads
 * so that no event loop stalls; the completion runs back on the caller's loop.
 */
#ifndef VECDB_OFFLOAD_H
#define VECDB_OFFLOAD_H

struct event_base;

typedef void (*offload_fn)(void *arg);

/* start the helper threads (once, before the workers) and stop them */
void offload_start(int nthreads);
void offload_stop(void);

/* run work(arg) on a helper thread, then done(arg) on base's thread */
void offload_run(struct event_base *base, offload_fn work, offload_fn done, void *arg);

#endif

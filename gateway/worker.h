/*
 * worker.h - the serving process: listening sockets, worker threads (one
 * event base, one evhttp per port and one connection pool each), draining.
 */
#ifndef VECDB_WORKER_H
#define VECDB_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct pool;
struct authstate;

struct worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http[2]; /* rest, oauth */
    struct evhttp_bound_socket *bound[2];
    struct pool *pool;
    struct event *control; /* activated by the main thread: start draining */
    int inflight;          /* requests of this worker not yet replied to */
    bool draining;
    struct gateway *gw;
};

struct gateway {
    struct config *cfg;
    const char *conninfo; /* the database the pools connect to */
    int nworkers;
    struct worker *workers;
    int listen_fd[2]; /* rest, oauth */
    struct authstate *auth;
    atomic_int workers_running;
};

/* open the listening sockets (before any thread starts, so a busy port is a
 * start-up error) */
bool gateway_listen(struct gateway *gw, char *err, size_t errsize);

/* start the worker threads */
bool gateway_start(struct gateway *gw);

/* ask every worker to stop accepting and to end when its requests are done */
void gateway_drain(struct gateway *gw);

/* wait for the workers (after gateway_drain), at most timeout_s seconds; then
 * stop them anyway */
void gateway_join(struct gateway *gw, int timeout_s);

/* the worker the calling thread runs, or NULL */
struct worker *worker_current(void);

/* a request ended: the worker may finish draining */
void worker_request_done(struct worker *w);

#endif

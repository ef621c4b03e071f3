/*
 * embedded.h - the private PostgreSQL cluster of `vecdb serve` without --db:
 * created in the data directory on first start, run as a child process,
 * restarted with back-off when it dies, stopped with the gateway.
 */
#ifndef VECDB_EMBEDDED_H
#define VECDB_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct event_base;
struct embedded;

/* check the settings and find PostgreSQL (no side effects) */
struct embedded *embedded_new(const struct config *cfg, char *err, size_t errsize);

/* create the data directory and the cluster if needed, start PostgreSQL and
 * wait until it accepts connections, create database vecdb (blocking: before
 * the event loops) */
bool embedded_start(struct embedded *e, char *err, size_t errsize);

/* the conninfo of database vecdb over the unix socket */
const char *embedded_conninfo(const struct embedded *e);

/* watch the child on base (SIGCHLD): restart it with back-off if it dies */
void embedded_supervise(struct embedded *e, struct event_base *base);

/* stop PostgreSQL (fast shutdown, then immediate) and wait for it */
void embedded_stop(struct embedded *e);

void embedded_free(struct embedded *e);

#endif

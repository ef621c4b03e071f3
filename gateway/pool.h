/*
 * pool.h - asynchronous PostgreSQL connection pools (libpq, non-blocking).
 *
 * A pool belongs to one event base (one worker thread) and is only used from
 * that thread.  db_exec runs one prepared statement, optionally inside a
 * transaction under a role (BEGIN; SET LOCAL ROLE ...; statement; COMMIT),
 * and calls back on the same thread, never before db_exec has returned.
 */
#ifndef VECDB_POOL_H
#define VECDB_POOL_H

#include <stdbool.h>

#include <libpq-fe.h>

struct event_base;
struct pool;

/* a statement; callers define them as static constants (the address is the
 * statement's identity: a connection prepares each one once) */
struct db_stmt {
    const char *name;
    const char *sql;
    int nparams;
};

enum db_status {
    DB_OK,          /* res holds the statement's result */
    DB_ERROR,       /* PostgreSQL raised an error: sqlstate and message are set */
    DB_UNAVAILABLE, /* no connection within queue_timeout, or the queue is full */
    DB_LOST,        /* the connection broke during the statement: outcome unknown */
};

struct db_result {
    enum db_status status;
    PGresult *res;        /* DB_OK: the result (freed after the callback) */
    const char *sqlstate; /* DB_ERROR */
    const char *message;  /* DB_ERROR, DB_LOST, DB_UNAVAILABLE: for logs */
};

typedef void (*db_done_fn)(void *arg, const struct db_result *result);

/* called with every NOTIFY (listen pools) and after every (re)connection */
typedef void (*db_notify_fn)(void *arg, const char *channel, const char *payload);
typedef void (*db_connected_fn)(void *arg);

struct pool_options {
    const char *conninfo;
    const char *name; /* for logs: "worker 1" */
    int size;
    int statement_timeout_ms;
    int *queue_timeout_ms; /* read at each wait: SIGHUP may change it */
    int *queue_limit;
    const char *const *listen; /* channels to LISTEN on, NULL-ended, or NULL */
    db_notify_fn on_notify;
    db_connected_fn on_connected;
    void *callback_arg;
};

struct pool *pool_new(struct event_base *base, const struct pool_options *opt);
void pool_free(struct pool *p);

/* does the pool have a usable connection now */
bool pool_connected(const struct pool *p);

/*
 * db_exec: run stmt with params (NULL entries are SQL NULLs).  role NULL: in
 * its own implicit transaction; else inside BEGIN; SET LOCAL ROLE role; ...
 * COMMIT (role must be a trusted constant, never user input).
 */
void db_exec(struct pool *p, const struct db_stmt *stmt, const char *role, int nparams,
             const char *const *params, db_done_fn done, void *arg);

/* a column of the first row by name, NULL when SQL NULL or absent */
const char *db_value(const PGresult *res, int row, const char *column);

#endif

/*
 * pool.c - asynchronous libpq connection pools, one per event base.
 *
 * Design
 * ------
 * A pool owns `size` connections and a FIFO of jobs.  A job is one prepared
 * statement, run either alone (an implicit transaction) or inside
 * `BEGIN; SET LOCAL ROLE r` ... `COMMIT`, so that PostgreSQL itself checks
 * what the token's role may do and the role ends with the transaction.
 *
 * Each connection is a small state machine driven by its socket's events:
 *
 *     DOWN --timer--> CONNECTING --PQconnectPoll ok--> SETUP --> IDLE <--> BUSY
 *       ^                  |                             |                  |
 *       +---- failure -----+-----------------------------+------------------+
 *
 * BUSY runs a job through steps: BEGIN (role jobs), PREPARE (the first time
 * this connection sees the statement), EXECUTE, END (COMMIT, or ROLLBACK after
 * an error).  Every step is one libpq command sent with PQsend*; its results
 * are collected as they arrive, never waited for.
 *
 * Invariants: a connection runs at most one job; a job is on the queue or on
 * one connection or finished, never two of these.  When a connection breaks
 * before the job's statement was sent, the job goes back to the head of the
 * queue (it is safe to run again); after that, the job ends with DB_LOST,
 * since whether it committed is unknown.  A broken connection is reopened
 * with exponential back-off (50 ms doubling to 5 s), so a restarted
 * PostgreSQL is found again within seconds and a stopped one is not hammered.
 * Jobs wait for a connection at most queue_timeout and are refused at once
 * past queue_limit: the caller answers 503 and nothing waits forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "pool.h"

#define MAX_PREPARED 64
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 5000

enum conn_state { C_DOWN, C_CONNECTING, C_SETUP, C_IDLE, C_BUSY };
enum job_step { J_BEGIN, J_PREPARE, J_EXECUTE, J_END };

struct job {
    struct pool *pool;
    const struct db_stmt *stmt;
    const char *role;
    int nparams;
    char **params;
    db_done_fn done;
    void *arg;
    struct event *deadline; /* while queued */
    struct job *next, *prev;
    /* the outcome, filled while the steps run */
    enum db_status status;
    PGresult *res;
    char sqlstate[6];
    char *message;
};

struct conn {
    struct pool *pool;
    int index;
    PGconn *pg;
    enum conn_state state;
    struct event *io;
    int io_fd;
    short io_what;
    struct event *retry;
    int backoff_ms;
    const struct db_stmt *prepared[MAX_PREPARED];
    int nprepared;
    struct job *job;
    enum job_step step;
    bool step_failed; /* the current command raised an error */
};

struct pool {
    struct event_base *base;
    struct pool_options opt;
    char *conninfo;
    char *name;
    char **listen;
    struct conn *conns;
    struct job *head, *tail; /* waiting jobs */
    int queued;
    bool freeing;
};

static void conn_connect(struct conn *c);
static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void pool_kick(struct pool *p);
static void job_start(struct conn *c, struct job *j);

/* ---------------------------------------------------------------- jobs */

static void job_free(struct job *j)
{
    for (int i = 0; i < j->nparams; i++)
        free(j->params[i]);
    free(j->params);
    if (j->deadline)
        event_free(j->deadline);
    if (j->res)
        PQclear(j->res);
    free(j->message);
    free(j);
}

/* call the job's callback with its outcome and free it */
static void job_finish(struct job *j)
{
    struct db_result r = {
        .status = j->status,
        .res = j->res,
        .sqlstate = j->sqlstate[0] ? j->sqlstate : NULL,
        .message = j->message,
    };
    j->done(j->arg, &r);
    job_free(j);
}

static void job_set_error(struct job *j, enum db_status status, const char *sqlstate,
                          const char *message)
{
    if (j->status != DB_OK)
        return; /* keep the first error: it is the cause */
    j->status = status;
    snprintf(j->sqlstate, sizeof(j->sqlstate), "%s", sqlstate ? sqlstate : "");
    free(j->message);
    j->message = strdup(message ? message : "");
    size_t n = strlen(j->message);
    while (n > 0 && j->message[n - 1] == '\n')
        j->message[--n] = '\0';
    if (j->res) {
        PQclear(j->res);
        j->res = NULL;
    }
}

static void queue_remove(struct pool *p, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        p->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        p->tail = j->prev;
    j->next = j->prev = NULL;
    p->queued--;
    if (j->deadline)
        event_del(j->deadline);
}

static void queue_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    queue_remove(j->pool, j);
    job_set_error(j, DB_UNAVAILABLE, NULL, "no database connection became free in time");
    log_warning("%s: a request waited %d ms for a database connection", j->pool->name,
                __atomic_load_n(j->pool->opt.queue_timeout_ms, __ATOMIC_RELAXED));
    job_finish(j);
}

static void enqueue(struct pool *p, struct job *j, bool at_head)
{
    if (at_head) {
        j->next = p->head;
        j->prev = NULL;
        if (p->head)
            p->head->prev = j;
        else
            p->tail = j;
        p->head = j;
    } else {
        j->prev = p->tail;
        j->next = NULL;
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
    }
    p->queued++;
    int ms = __atomic_load_n(p->opt.queue_timeout_ms, __ATOMIC_RELAXED);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (!j->deadline)
        j->deadline = evtimer_new(p->base, queue_timeout_cb, j);
    evtimer_add(j->deadline, &tv);
}

/* a job refused at once still gets its callback after db_exec returns */
static void deferred_finish_cb(evutil_socket_t fd, short what, void *arg)
{
    job_finish(arg);
}

/* ------------------------------------------------------- socket events */

/* watch the connection's socket for reading, and writing if asked */
static void conn_watch(struct conn *c, bool want_write)
{
    int fd = PQsocket(c->pg);
    short what = EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0);
    if (c->io && c->io_fd == fd && c->io_what == what)
        return;
    if (c->io)
        event_free(c->io);
    c->io = event_new(c->pool->base, fd, what, conn_io_cb, c);
    c->io_fd = fd;
    c->io_what = what;
    event_add(c->io, NULL);
}

static void conn_unwatch(struct conn *c)
{
    if (c->io) {
        event_free(c->io);
        c->io = NULL;
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_connect(arg);
}

/* the connection broke (or never came up): give back or fail its job,
 * close it and try again after the back-off */
static void conn_fail(struct conn *c, const char *why)
{
    struct pool *p = c->pool;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", why && *why ? why : "connection lost");
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    bool was_up = c->state == C_IDLE || c->state == C_BUSY || c->state == C_SETUP;
    if (was_up || c->backoff_ms == BACKOFF_MIN_MS)
        log_warning("%s: connection %d: %s", p->name, c->index, msg);

    struct job *j = c->job;
    c->job = NULL;
    conn_unwatch(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = C_DOWN;
    c->nprepared = 0;
    if (j) {
        if (c->step == J_BEGIN || c->step == J_PREPARE) {
            /* the statement never ran: another connection may run it */
            enqueue(p, j, true);
        } else {
            /* finished from the loop, not from inside a caller's db_exec */
            job_set_error(j, DB_LOST, NULL, msg);
            event_base_once(p->base, -1, EV_TIMEOUT, deferred_finish_cb, j, NULL);
        }
    }
    if (p->freeing)
        return;
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->retry, &tv);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    pool_kick(p);
}

/* send what libpq has buffered; false if the connection broke */
static bool conn_flush(struct conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return false;
    }
    conn_watch(c, r == 1);
    return true;
}

static void conn_connect(struct conn *c)
{
    struct pool *p = c->pool;
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *vals[] = {p->conninfo, "vecdb", NULL};
    c->pg = PQconnectStartParams(keys, vals, 1);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    if (PQsetnonblocking(c->pg, 1) != 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    c->state = C_CONNECTING;
    conn_watch(c, true); /* libpq: start by waiting for writability */
}

/* the commands a new connection runs before it takes jobs */
static void conn_setup(struct conn *c)
{
    struct pool *p = c->pool;
    char sql[1024];
    size_t n =
        snprintf(sql, sizeof(sql), "SET statement_timeout = %d", p->opt.statement_timeout_ms);
    for (int i = 0; p->listen && p->listen[i] && n < sizeof(sql); i++)
        n += snprintf(sql + n, sizeof(sql) - n, "; LISTEN %s", p->listen[i]);
    c->state = C_SETUP;
    c->step_failed = false;
    if (!PQsendQuery(c->pg, sql)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_flush(c);
}

/* ------------------------------------------------------------ job steps */

static bool is_prepared(struct conn *c, const struct db_stmt *s)
{
    for (int i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == s)
            return true;
    return false;
}

/* send the command of the job's current step */
static void conn_send_step(struct conn *c)
{
    struct job *j = c->job;
    int ok = 0;
    c->step_failed = false;
    switch (c->step) {
    case J_BEGIN: {
        char sql[128];
        snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL ROLE %s", j->role);
        ok = PQsendQuery(c->pg, sql);
        break;
    }
    case J_PREPARE:
        ok = PQsendPrepare(c->pg, j->stmt->name, j->stmt->sql, j->stmt->nparams, NULL);
        break;
    case J_EXECUTE:
        ok = PQsendQueryPrepared(c->pg, j->stmt->name, j->nparams, (const char *const *)j->params,
                                 NULL, NULL, 0);
        break;
    case J_END:
        ok = PQsendQuery(c->pg, j->status == DB_OK ? "COMMIT" : "ROLLBACK");
        break;
    }
    if (!ok) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_flush(c);
}

static void job_start(struct conn *c, struct job *j)
{
    if (j->deadline)
        event_del(j->deadline);
    c->job = j;
    c->state = C_BUSY;
    if (j->role)
        c->step = J_BEGIN;
    else
        c->step = is_prepared(c, j->stmt) ? J_EXECUTE : J_PREPARE;
    conn_send_step(c);
}

/* the job left this connection: hand the connection to the next job */
static void conn_job_done(struct conn *c)
{
    struct job *j = c->job;
    c->job = NULL;
    c->state = C_IDLE;
    job_finish(j);
    pool_kick(c->pool);
}

/* the current step's command completed: go on to the next step */
static void conn_step_done(struct conn *c)
{
    struct job *j = c->job;
    switch (c->step) {
    case J_BEGIN:
        if (j->status != DB_OK) {
            c->step = J_END;
        } else {
            c->step = is_prepared(c, j->stmt) ? J_EXECUTE : J_PREPARE;
        }
        break;
    case J_PREPARE:
        if (j->status == DB_OK && c->nprepared < MAX_PREPARED)
            c->prepared[c->nprepared++] = j->stmt;
        if (j->status != DB_OK) {
            if (j->role) {
                c->step = J_END;
                break;
            }
            conn_job_done(c);
            return;
        }
        c->step = J_EXECUTE;
        break;
    case J_EXECUTE:
        if (!j->role) {
            conn_job_done(c);
            return;
        }
        c->step = J_END;
        break;
    case J_END:
        conn_job_done(c);
        return;
    }
    conn_send_step(c);
}

/* one result of the current command */
static void conn_take_result(struct conn *c, PGresult *r)
{
    struct job *j = c->job;
    ExecStatusType st = PQresultStatus(r);
    bool failed = st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE;
    if (c->state == C_SETUP || !j) {
        if (failed) {
            c->step_failed = true;
            log_error("%s: connection %d: setup failed: %s", c->pool->name, c->index,
                      PQresultErrorMessage(r));
        }
        PQclear(r);
        return;
    }
    if (failed) {
        job_set_error(j, DB_ERROR, PQresultErrorField(r, PG_DIAG_SQLSTATE),
                      PQresultErrorMessage(r));
        PQclear(r);
    } else if (c->step == J_EXECUTE && j->status == DB_OK) {
        if (j->res)
            PQclear(j->res);
        j->res = r;
    } else if (c->step == J_END && j->status == DB_OK && st != PGRES_COMMAND_OK) {
        job_set_error(j, DB_ERROR, NULL, "COMMIT did not complete");
        PQclear(r);
    } else {
        PQclear(r);
    }
}

/* deliver notifications that arrived with the input */
static void conn_notifies(struct conn *c)
{
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (c->pool->opt.on_notify)
            c->pool->opt.on_notify(c->pool->opt.callback_arg, n->relname, n->extra);
        PQfreemem(n);
    }
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    struct pool *p = c->pool;

    if (c->state == C_CONNECTING) {
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_FAILED:
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        case PGRES_POLLING_READING:
            conn_watch(c, false);
            return;
        case PGRES_POLLING_WRITING:
            conn_watch(c, true);
            return;
        case PGRES_POLLING_OK:
            conn_watch(c, false);
            conn_setup(c);
            return;
        default:
            return;
        }
    }

    if (what & EV_WRITE) {
        if (!conn_flush(c))
            return;
    }
    if (!(what & EV_READ))
        return;
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_notifies(c);
    if (c->state != C_BUSY && c->state != C_SETUP) {
        /* an idle connection has nothing to read but notifications; drain
         * anything else so that libpq's state stays clean */
        while (!PQisBusy(c->pg)) {
            PGresult *r = PQgetResult(c->pg);
            if (!r)
                break;
            PQclear(r);
        }
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (r) {
            conn_take_result(c, r);
            continue;
        }
        /* the command is complete */
        conn_notifies(c);
        if (c->state == C_SETUP) {
            if (c->step_failed) {
                conn_fail(c, "the connection's setup commands failed");
                return;
            }
            if (c->backoff_ms > BACKOFF_MIN_MS)
                log_info("%s: connection %d is back", p->name, c->index);
            c->backoff_ms = BACKOFF_MIN_MS;
            c->state = C_IDLE;
            if (p->opt.on_connected)
                p->opt.on_connected(p->opt.callback_arg);
            pool_kick(p);
        } else {
            conn_step_done(c);
        }
        return;
    }
}

/* ------------------------------------------------------------- the pool */

/* give waiting jobs to idle connections */
static void pool_kick(struct pool *p)
{
    for (int i = 0; i < p->opt.size && p->head; i++) {
        struct conn *c = &p->conns[i];
        if (c->state != C_IDLE)
            continue;
        struct job *j = p->head;
        queue_remove(p, j);
        job_start(c, j);
    }
}

struct pool *pool_new(struct event_base *base, const struct pool_options *opt)
{
    struct pool *p = calloc(1, sizeof(*p));
    p->base = base;
    p->opt = *opt;
    p->conninfo = strdup(opt->conninfo);
    p->name = strdup(opt->name);
    if (opt->listen) {
        int n = 0;
        while (opt->listen[n])
            n++;
        p->listen = calloc(n + 1, sizeof(char *));
        for (int i = 0; i < n; i++)
            p->listen[i] = strdup(opt->listen[i]);
    }
    p->conns = calloc(opt->size, sizeof(struct conn));
    for (int i = 0; i < opt->size; i++) {
        struct conn *c = &p->conns[i];
        c->pool = p;
        c->index = i;
        c->state = C_DOWN;
        c->backoff_ms = BACKOFF_MIN_MS;
        c->retry = evtimer_new(base, retry_cb, c);
        conn_connect(c);
    }
    return p;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    p->freeing = true;
    for (int i = 0; i < p->opt.size; i++) {
        struct conn *c = &p->conns[i];
        if (c->job) {
            struct job *j = c->job;
            c->job = NULL;
            job_set_error(j, DB_LOST, NULL, "the gateway is stopping");
            job_finish(j);
        }
        conn_unwatch(c);
        if (c->pg)
            PQfinish(c->pg);
        event_free(c->retry);
    }
    while (p->head) {
        struct job *j = p->head;
        queue_remove(p, j);
        job_set_error(j, DB_UNAVAILABLE, NULL, "the gateway is stopping");
        job_finish(j);
    }
    for (int i = 0; p->listen && p->listen[i]; i++)
        free(p->listen[i]);
    free(p->listen);
    free(p->conns);
    free(p->conninfo);
    free(p->name);
    free(p);
}

bool pool_connected(const struct pool *p)
{
    for (int i = 0; i < p->opt.size; i++)
        if (p->conns[i].state == C_IDLE || p->conns[i].state == C_BUSY)
            return true;
    return false;
}

void db_exec(struct pool *p, const struct db_stmt *stmt, const char *role, int nparams,
             const char *const *params, db_done_fn done, void *arg)
{
    struct job *j = calloc(1, sizeof(*j));
    j->pool = p;
    j->stmt = stmt;
    j->role = role;
    j->nparams = nparams;
    j->params = calloc(nparams ? nparams : 1, sizeof(char *));
    for (int i = 0; i < nparams; i++)
        j->params[i] = params[i] ? strdup(params[i]) : NULL;
    j->done = done;
    j->arg = arg;
    j->status = DB_OK;

    if (p->freeing) {
        job_set_error(j, DB_UNAVAILABLE, NULL, "the gateway is stopping");
        job_finish(j);
        return;
    }
    int limit = __atomic_load_n(p->opt.queue_limit, __ATOMIC_RELAXED);
    bool idle = false;
    for (int i = 0; i < p->opt.size; i++)
        idle |= p->conns[i].state == C_IDLE;
    if (!idle && p->queued >= limit) {
        job_set_error(j, DB_UNAVAILABLE, NULL, "too many requests are waiting for the database");
        event_base_once(p->base, -1, EV_TIMEOUT, deferred_finish_cb, j, NULL);
        return;
    }
    enqueue(p, j, false);
    pool_kick(p);
}

const char *db_value(const PGresult *res, int row, const char *column)
{
    int col = PQfnumber(res, column);
    if (col < 0 || row >= PQntuples(res) || PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}

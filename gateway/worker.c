/*
 * worker.c - listening sockets, worker threads and draining.
 *
 * The main thread opens each port's listening socket once.  Every worker
 * thread has its own event base, and on it one evhttp per port that accepts
 * on a dup() of the shared socket: the kernel hands each new connection to
 * one of the threads waiting in accept, so connections spread over workers
 * without a hand-off, and a connection then stays on its worker's loop (its
 * requests, its pool connections, its timers: nothing is shared but the
 * authentication state, which has its own lock).
 *
 * Draining (SIGTERM): the main thread activates each worker's control event;
 * the worker closes its accepting sockets, so new connections are refused,
 * and leaves its loop when its last in-flight request has been answered.
 * Keep-alive connections with no request in flight are closed then.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "http.h"
#include "log.h"
#include "pool.h"
#include "worker.h"

extern const struct listener_def rest_listener;
extern const struct listener_def oauth_listener;

static const struct listener_def *const listener_defs[2] = {&rest_listener, &oauth_listener};

static __thread struct worker *current_worker;

struct worker *worker_current(void)
{
    return current_worker;
}

static int open_listener(const char *host, int port, char *err, size_t errsize)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errsize, "cannot resolve bind address '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errsize, "cannot listen on %s port %d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

bool gateway_listen(struct gateway *gw, char *err, size_t errsize)
{
    int ports[2] = {gw->cfg->rest_port, gw->cfg->oauth_port};
    for (int i = 0; i < 2; i++) {
        gw->listen_fd[i] = -1;
        if (ports[i] == 0)
            continue;
        gw->listen_fd[i] = open_listener(gw->cfg->bind, ports[i], err, errsize);
        if (gw->listen_fd[i] < 0)
            return false;
    }
    return true;
}

static void worker_stop_accepting(struct worker *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->bound[i]) {
            evhttp_del_accept_socket(w->http[i], w->bound[i]); /* closes the dup'd socket */
            w->bound[i] = NULL;
        }
    }
}

/* the last request is answered: leave the loop once the replies are out
 * (evhttp writes them from the loop; 200 ms is plenty on any network that
 * still has a client reading) */
static void worker_finish(struct worker *w)
{
    struct timeval grace = {0, 200 * 1000};
    event_base_loopexit(w->base, &grace);
}

static void control_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    if (w->draining)
        return;
    w->draining = true;
    worker_stop_accepting(w);
    log_debug("worker %d draining, %d requests in flight", w->index, w->inflight);
    if (w->inflight == 0)
        worker_finish(w);
}

void worker_request_done(struct worker *w)
{
    w->inflight--;
    if (w->draining && w->inflight == 0)
        worker_finish(w);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    current_worker = w;
    event_base_dispatch(w->base);
    /* the pool first: its callbacks may still answer requests evhttp holds */
    pool_free(w->pool);
    w->pool = NULL;
    for (int i = 0; i < 2; i++)
        if (w->http[i])
            evhttp_free(w->http[i]);
    event_free(w->control);
    event_base_free(w->base);
    w->base = NULL;
    atomic_fetch_sub(&w->gw->workers_running, 1);
    return NULL;
}

bool gateway_start(struct gateway *gw)
{
    struct config *cfg = gw->cfg;
    gw->nworkers = cfg->workers;
    gw->workers = calloc(gw->nworkers, sizeof(struct worker));
    for (int i = 0; i < gw->nworkers; i++) {
        struct worker *w = &gw->workers[i];
        w->index = i;
        w->gw = gw;
        w->base = event_base_new();
        w->control = event_new(w->base, -1, 0, control_cb, w);
        for (int k = 0; k < 2; k++) {
            if (gw->listen_fd[k] < 0)
                continue;
            struct evhttp *h = evhttp_new(w->base);
            evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
            evhttp_set_max_body_size(h, cfg->max_body_size);
            evhttp_set_max_headers_size(h, cfg->max_header_size);
            evhttp_set_timeout(h, cfg->http_timeout);
            evhttp_set_default_content_type(h, "application/json");
            evhttp_set_gencb(h, http_dispatch, (void *)listener_defs[k]);
            int fd = dup(gw->listen_fd[k]);
            struct evconnlistener *l = evconnlistener_new(
                w->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
            if (!l || !(w->bound[k] = evhttp_bind_listener(h, l))) {
                log_error("worker %d: cannot accept on the %s port", i, listener_defs[k]->name);
                return false;
            }
            w->http[k] = h;
        }
        char name[32];
        snprintf(name, sizeof(name), "worker %d", i);
        struct pool_options po = {
            .conninfo = gw->conninfo,
            .name = name,
            .size = cfg->pool_size,
            .statement_timeout_ms = cfg->statement_timeout,
            .queue_timeout_ms = &cfg->queue_timeout,
            .queue_limit = &cfg->queue_limit,
        };
        w->pool = pool_new(w->base, &po);
    }
    for (int i = 0; i < gw->nworkers; i++) {
        atomic_fetch_add(&gw->workers_running, 1);
        if (pthread_create(&gw->workers[i].thread, NULL, worker_main, &gw->workers[i]) != 0) {
            atomic_fetch_sub(&gw->workers_running, 1);
            log_error("cannot start worker thread %d: %s", i, strerror(errno));
            return false;
        }
    }
    return true;
}

void gateway_drain(struct gateway *gw)
{
    for (int i = 0; i < gw->nworkers; i++)
        event_active(gw->workers[i].control, EV_TIMEOUT, 1);
    /* the workers close their copies; with this one the socket closes and
     * the kernel refuses new connections instead of queueing them */
    for (int k = 0; k < 2; k++) {
        if (gw->listen_fd[k] >= 0) {
            close(gw->listen_fd[k]);
            gw->listen_fd[k] = -1;
        }
    }
}

void gateway_join(struct gateway *gw, int timeout_s)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    for (int i = 0; i < gw->nworkers; i++) {
        struct worker *w = &gw->workers[i];
        if (pthread_timedjoin_np(w->thread, NULL, &deadline) == ETIMEDOUT) {
            log_warning("worker %d: requests still in flight after %d s; stopping anyway", i,
                        timeout_s);
            event_base_loopbreak(w->base);
            pthread_join(w->thread, NULL);
        }
    }
    for (int k = 0; k < 2; k++)
        if (gw->listen_fd[k] >= 0)
            close(gw->listen_fd[k]);
    free(gw->workers);
    gw->workers = NULL;
}

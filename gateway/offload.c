/*
 * offload.c - a small pool of helper threads for work that would stall an
 * event loop.
 *
 * The submitting loop creates the completion event on its own base, so the
 * helper only has to activate it (event_active is thread-safe once
 * evthread_use_pthreads() has run, which main does first).  Jobs are taken
 * in order; at shutdown the helpers finish the queue before they exit, so
 * every submitted job gets its completion (the workers drain first).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "offload.h"

struct offload_job {
    offload_fn work, done;
    void *arg;
    struct event *ev;
    struct offload_job *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct offload_job *head, *tail;
static bool stopping;
static pthread_t *threads;
static int nthreads_running;

static void *helper_main(void *unused)
{
    for (;;) {
        pthread_mutex_lock(&mu);
        while (!head && !stopping)
            pthread_cond_wait(&cv, &mu);
        struct offload_job *j = head;
        if (j) {
            head = j->next;
            if (!head)
                tail = NULL;
        }
        pthread_mutex_unlock(&mu);
        if (!j)
            return NULL;
        j->work(j->arg);
        event_active(j->ev, EV_TIMEOUT, 1);
    }
}

static void completion_cb(evutil_socket_t fd, short what, void *arg)
{
    struct offload_job *j = arg;
    event_free(j->ev);
    j->done(j->arg);
    free(j);
}

void offload_start(int n)
{
    threads = calloc(n, sizeof(pthread_t));
    stopping = false;
    for (int i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, helper_main, NULL) == 0)
            nthreads_running++;
}

void offload_stop(void)
{
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nthreads_running; i++)
        pthread_join(threads[i], NULL);
    nthreads_running = 0;
    free(threads);
    threads = NULL;
}

void offload_run(struct event_base *base, offload_fn work, offload_fn done, void *arg)
{
    struct offload_job *j = calloc(1, sizeof(*j));
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->ev = event_new(base, -1, 0, completion_cb, j);
    pthread_mutex_lock(&mu);
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

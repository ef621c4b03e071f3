/*
 * http.h - requests on libevent's evhttp: routing, request ids, replies,
 * form and header parsing.
 *
 * Each listener (the REST port, the OAuth port) has a route table; a worker
 * thread has one evhttp per listener on its own event base.  A handler gets a
 * struct request and must end it with exactly one http_reply*() call, at once
 * or later from a database or offload callback; the reply frees the request.
 */
#ifndef VECDB_HTTP_H
#define VECDB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/http.h>
#include <json-c/json.h>

struct worker;
struct request;

typedef void (*handler_fn)(struct request *r);

#define M_GET 0x1
#define M_POST 0x2
#define M_OPTIONS 0x4
#define M_PUT 0x8
#define M_DELETE 0x10

#define R_CORS 0x1 /* browsers of any origin may call it (metadata endpoints) */

struct route {
    unsigned methods;
    const char *path;
    handler_fn handler;
    unsigned flags;
};

struct listener_def {
    const char *name; /* "rest", "oauth": in access logs */
    const struct route *routes;
};

struct request {
    struct evhttp_request *req;
    struct worker *worker;
    const struct listener_def *listener;
    const struct route *route;
    char id[40];
    char method[12];
    char path[256];
    char peer[64];
    struct timespec start;
    bool replied;
    char *body; /* http_body's NUL-terminated copy, once read */
    size_t body_len;
    void *state;                /* the handler's own state ... */
    void (*free_state)(void *); /* ... freed with the request */
};

/* the evhttp callback that makes a struct request and dispatches it;
 * arg is the struct listener_def, the worker comes from worker_current() */
void http_dispatch(struct evhttp_request *req, void *arg);

/* replies (each ends the request) */
void http_reply(struct request *r, int status, const char *content_type, const char *body,
                size_t len);
void http_reply_json(struct request *r, int status, json_object *body); /* takes body */
/* RFC 9457 problem+json */
void http_reply_problem(struct request *r, int status, const char *title, const char *detail);
/* RFC 6749 §5.2 error JSON; 401 replies get a WWW-Authenticate */
void http_reply_oauth_error(struct request *r, int status, const char *error,
                            const char *description);
void http_reply_redirect(struct request *r, const char *location);

/* add a response header before the reply */
void http_set_header(struct request *r, const char *name, const char *value);

/* a request header or NULL */
const char *http_header(struct request *r, const char *name);

/* the request body as a NUL-terminated string (NULL if it has a NUL byte);
 * owned by the request */
const char *http_body(struct request *r, size_t *len);

/*
 * Form bodies (application/x-www-form-urlencoded) and query strings.  A
 * parameter given twice is an error (RFC 6749 §3.1), which form_parse
 * reports with the name in *dup.
 */
struct form {
    int n;
    char *names[64];
    char *values[64];
};
bool form_parse(const char *text, struct form *f, const char **dup);
const char *form_get(const struct form *f, const char *name);
void form_free(struct form *f);

/* percent-encode for a query string component into a malloc'd string */
char *url_encode(const char *s);

/* Authorization: Basic: decoded (and form-decoded, RFC 6749 §2.3.1) id and
 * secret, malloc'd; false if the header is absent or not Basic */
bool http_basic_auth(struct request *r, char **id, char **secret, bool *malformed);

/* Authorization: Bearer token (pointer into the header) or NULL */
const char *http_bearer(struct request *r);

/* milliseconds since the request started */
double http_elapsed_ms(const struct request *r);

#endif

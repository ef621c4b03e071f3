/*
 * http.c - request dispatch and replies on evhttp.
 *
 * evhttp reads requests (keep-alive, header and body limits, read timeouts)
 * and calls http_dispatch, which gives the request an id (the client's
 * X-Request-Id when it is a sane token, else a random one), finds the route,
 * and answers 404/405 and CORS preflights itself.  Every reply goes through
 * finish(), which logs one access record (path only: a query string may hold
 * a code or state) and tells the worker, so that draining knows when the last
 * request is done.
 *
 * evhttp keeps a request alive until it is answered, even when the client has
 * gone (2.1 stops reading the connection while a request is processed), so
 * a reply that comes late from a database callback is always safe to send.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "http.h"
#include "log.h"
#include "worker.h"

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "?";
}

static unsigned method_bit(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
        return M_GET;
    case EVHTTP_REQ_POST:
        return M_POST;
    case EVHTTP_REQ_OPTIONS:
        return M_OPTIONS;
    case EVHTTP_REQ_PUT:
        return M_PUT;
    case EVHTTP_REQ_DELETE:
        return M_DELETE;
    default:
        return 0;
    }
}

static void allow_header(unsigned methods, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{M_GET, "GET, HEAD"},
                 {M_POST, "POST"},
                 {M_PUT, "PUT"},
                 {M_DELETE, "DELETE"},
                 {M_OPTIONS, "OPTIONS"}};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < size; i++)
        if (methods & names[i].bit)
            n += snprintf(out + n, size - n, "%s%s", n ? ", " : "", names[i].name);
}

/* a client's request id is used when it is short and plain */
static bool sane_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 36)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

static void new_request_id(char *out, size_t size)
{
    unsigned char b[8];
    if (RAND_bytes(b, sizeof(b)) != 1)
        memset(b, 0, sizeof(b));
    snprintf(out, size, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7]);
}

static void request_free(struct request *r)
{
    if (r->free_state)
        r->free_state(r->state);
    free(r->body);
    free(r);
}

/* every reply ends here */
static void finish(struct request *r, int status)
{
    log_access(r->id, r->listener->name, r->method, r->path, status, http_elapsed_ms(r), r->peer);
    struct worker *w = r->worker;
    request_free(r);
    worker_request_done(w);
}

static void cors_headers(struct request *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Access-Control-Allow-Headers",
                      "Authorization, Content-Type, MCP-Protocol-Version");
    evhttp_add_header(h, "Access-Control-Max-Age", "600");
}

void http_dispatch(struct evhttp_request *req, void *arg)
{
    const struct listener_def *ld = arg;
    struct request *r = calloc(1, sizeof(*r));
    r->req = req;
    r->worker = worker_current();
    r->listener = ld;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    snprintf(r->method, sizeof(r->method), "%s", method_name(evhttp_request_get_command(req)));

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    snprintf(r->path, sizeof(r->path), "%s", path && *path ? path : "/");

    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (evcon)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(r->peer, sizeof(r->peer), "%s", addr ? addr : "?");

    const char *given = http_header(r, "X-Request-Id");
    if (given && sane_request_id(given))
        snprintf(r->id, sizeof(r->id), "%s", given);
    else
        new_request_id(r->id, sizeof(r->id));
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Request-Id", r->id);

    r->worker->inflight++;

    /* a path may have one route per method */
    unsigned bit = method_bit(evhttp_request_get_command(req));
    unsigned methods = 0;
    const struct route *match = NULL, *any = NULL;
    for (const struct route *rt = ld->routes; rt->path; rt++) {
        if (strcmp(rt->path, r->path) != 0)
            continue;
        methods |= rt->methods;
        if (!any)
            any = rt;
        if ((rt->methods & bit) && !match)
            match = rt;
    }
    if (!any) {
        http_reply_problem(r, 404, "Not Found", "no such endpoint");
        return;
    }
    r->route = match ? match : any;
    if (r->route->flags & R_CORS) {
        cors_headers(r);
        if (bit == M_OPTIONS) {
            char allow[64];
            allow_header(methods | M_OPTIONS, allow, sizeof(allow));
            http_set_header(r, "Access-Control-Allow-Methods", allow);
            http_reply(r, 204, NULL, NULL, 0);
            return;
        }
    }
    if (!match) {
        char allow[64];
        allow_header(methods, allow, sizeof(allow));
        http_set_header(r, "Allow", allow);
        http_reply_problem(r, 405, "Method Not Allowed", "this endpoint does not take that method");
        return;
    }
    log_msg(LOG_DEBUG, r->id, "%s %s from %s", r->method, r->path, r->peer);
    match->handler(r);
}

void http_set_header(struct request *r, const char *name, const char *value)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_remove_header(h, name);
    evhttp_add_header(h, name, value);
}

const char *http_header(struct request *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

void http_reply(struct request *r, int status, const char *content_type, const char *body,
                size_t len)
{
    if (r->replied) {
        log_msg(LOG_ERROR, r->id, "internal error: a second reply to one request");
        return;
    }
    r->replied = true;
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    if (content_type)
        http_set_header(r, "Content-Type", content_type);
    if (!evhttp_find_header(h, "Cache-Control"))
        evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *out = evbuffer_new();
    if (body && len)
        evbuffer_add(out, body, len);
    evhttp_send_reply(r->req, status, NULL, out);
    evbuffer_free(out);
    finish(r, status);
}

void http_reply_json(struct request *r, int status, json_object *body)
{
    size_t len;
    const char *text = json_object_to_json_string_length(
        body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    http_reply(r, status, "application/json", text, len);
    json_object_put(body);
}

void http_reply_problem(struct request *r, int status, const char *title, const char *detail)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(title));
    json_object_object_add(o, "status", json_object_new_int(status));
    if (detail)
        json_object_object_add(o, "detail", json_object_new_string(detail));
    json_object_object_add(o, "request_id", json_object_new_string(r->id));
    size_t len;
    const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    http_reply(r, status, "application/problem+json", text, len);
    json_object_put(o);
}

void http_reply_oauth_error(struct request *r, int status, const char *error,
                            const char *description)
{
    if (status == 401) {
        char hdr[256];
        snprintf(hdr, sizeof(hdr), "Basic realm=\"vecdb\", error=\"%s\"", error);
        http_set_header(r, "WWW-Authenticate", hdr);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(error));
    if (description)
        json_object_object_add(o, "error_description", json_object_new_string(description));
    http_reply_json(r, status, o);
}

void http_reply_redirect(struct request *r, const char *location)
{
    http_set_header(r, "Location", location);
    http_reply(r, 302, NULL, NULL, 0);
}

const char *http_body(struct request *r, size_t *len)
{
    if (!r->body) {
        struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
        r->body_len = evbuffer_get_length(in);
        r->body = malloc(r->body_len + 1);
        evbuffer_copyout(in, r->body, r->body_len);
        r->body[r->body_len] = '\0';
    }
    if (len)
        *len = r->body_len;
    /* a NUL inside would cut the text short: refuse such bodies */
    if (memchr(r->body, '\0', r->body_len))
        return NULL;
    return r->body;
}

double http_elapsed_ms(const struct request *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - r->start.tv_sec) * 1e3 + (now.tv_nsec - r->start.tv_nsec) / 1e6;
}

/* ------------------------------------------------------------- forms */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* decode application/x-www-form-urlencoded text ('+' is a space); NULL on a
 * bad escape or an encoded NUL */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

bool form_parse(const char *text, struct form *f, const char **dup)
{
    memset(f, 0, sizeof(*f));
    *dup = NULL;
    const char *p = text ? text : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            char *name = form_decode(p, kn);
            char *value = eq ? form_decode(eq + 1, n - kn - 1) : strdup("");
            if (!name || !value || f->n == 64) {
                free(name);
                free(value);
                form_free(f);
                return false;
            }
            for (int i = 0; i < f->n; i++) {
                if (strcmp(f->names[i], name) == 0) {
                    static char dupname[64];
                    snprintf(dupname, sizeof(dupname), "%s", name);
                    *dup = dupname;
                    free(name);
                    free(value);
                    form_free(f);
                    return false;
                }
            }
            f->names[f->n] = name;
            f->values[f->n] = value;
            f->n++;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return true;
}

const char *form_get(const struct form *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return f->values[i][0] ? f->values[i] : NULL; /* empty = absent (RFC 6749 §3.1) */
    return NULL;
}

void form_free(struct form *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->names[i]);
        free(f->values[i]);
    }
    f->n = 0;
}

char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1);
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------ authorization */

bool http_basic_auth(struct request *r, char **id, char **secret, bool *malformed)
{
    *id = *secret = NULL;
    *malformed = false;
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    const char *b64 = h + 6;
    while (*b64 == ' ')
        b64++;
    size_t n = strlen(b64);
    unsigned char *raw = malloc(n + 1);
    /* EVP_DecodeBlock keeps padding bytes as zeros: count them off */
    int len = n % 4 == 0 && n > 0 ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) : -1;
    if (len >= 0) {
        if (n >= 1 && b64[n - 1] == '=')
            len--;
        if (n >= 2 && b64[n - 2] == '=')
            len--;
    }
    char *colon = len > 0 ? memchr(raw, ':', len) : NULL;
    if (len < 0 || !colon || memchr(raw, '\0', len)) {
        free(raw);
        *malformed = true;
        return true;
    }
    raw[len] = '\0';
    *colon = '\0';
    /* RFC 6749 §2.3.1: both parts are form-encoded before Base64 */
    *id = form_decode((char *)raw, strlen((char *)raw));
    *secret = form_decode(colon + 1, strlen(colon + 1));
    free(raw);
    if (!*id || !*secret || !**id) {
        free(*id);
        free(*secret);
        *id = *secret = NULL;
        *malformed = true;
    }
    return true;
}

const char *http_bearer(struct request *r)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

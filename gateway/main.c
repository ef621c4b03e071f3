/*
 * main.c - the `vecdb` program: subcommands, start-up, signals, shutdown.
 *
 * `vecdb serve` starts in this order, every step able to stop start-up with
 * a message: settings; the embedded PostgreSQL (without --db); the database
 * bootstrap (extension, signing key, admin credentials); the listening
 * sockets; the offload helpers; the worker threads.  The main thread then
 * runs a small event loop of its own: signals, the embedded server's
 * supervision and the LISTEN connection that keeps token revocations and keys
 * current.
 *
 * SIGTERM or SIGINT drains: workers stop accepting, finish what is in flight
 * (at most drain_timeout), then PostgreSQL is stopped.  SIGHUP re-reads the
 * settings; those marked reloadable change at once, the others are reported
 * as needing a restart.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "authstate.h"
#include "bootstrap.h"
#include "config.h"
#include "embedded.h"
#include "http.h"
#include "log.h"
#include "offload.h"
#include "worker.h"

#ifndef VECDB_VERSION
#define VECDB_VERSION "dev"
#endif

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "vecdb %s - vector database gateway: OAuth 2.1, REST and MCP over PostgreSQL\n"
            "\n"
            "Usage: vecdb COMMAND [OPTIONS]\n"
            "\n"
            "Commands:\n"
            "  serve        run the gateway (without --db: with its own PostgreSQL in data_dir)\n"
            "  token        get an access token from a running gateway (for curl)\n"
            "  config       show the effective settings and where each one came from\n"
            "  keys rotate  start signing tokens with a new key (old tokens stay valid)\n"
            "  stop         stop the gateway that serves --data-dir\n"
            "  version      show the version\n"
            "\n"
            "`vecdb COMMAND --help` describes a command.  Settings: docs/configuration.md.\n",
            VECDB_VERSION);
}

/* does argv hold --help or -h */
static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static bool load_settings(struct config *cfg, int argc, char **argv)
{
    char err[1024];
    if (!config_load(cfg, argc, argv, err, sizeof(err))) {
        fprintf(stderr, "vecdb: %s\n", err);
        config_free(cfg);
        return false;
    }
    log_configure((enum log_level)cfg->log_level, (enum log_format)cfg->log_format);
    return true;
}

/* ------------------------------------------------------------- version */

static int cmd_version(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: vecdb version\n\nShow the versions of vecdb and the libraries it uses.\n");
        return 0;
    }
    if (argc > 0) {
        fprintf(stderr, "vecdb: version takes no arguments\n");
        return EXIT_USAGE;
    }
    printf("vecdb %s (libevent %s, libpq %d, json-c %s, %s)\n", VECDB_VERSION, event_get_version(),
           PQlibVersion(), json_c_version(), OpenSSL_version(OPENSSL_VERSION));
    return 0;
}

/* -------------------------------------------------------------- config */

static int cmd_config(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: vecdb config [SETTINGS]\n\n"
               "Show every setting's effective value and its source (default, file,\n"
               "environment, flag, derived), as `vecdb serve` with the same settings would\n"
               "use them.  Secrets are not shown.\n\n");
        config_print_help();
        return 0;
    }
    struct config cfg;
    if (!load_settings(&cfg, argc, argv))
        return EXIT_USAGE;
    for (const char *const *n = config_names(); *n; n++) {
        char buf[1024];
        enum config_source src;
        config_describe(&cfg, *n, buf, sizeof(buf), &src);
        printf("%-24s = %-40s # %s\n", *n, buf, config_source_names[src]);
    }
    config_free(&cfg);
    return 0;
}

/* --------------------------------------------------------------- serve */

struct server {
    struct config cfg;
    int argc;
    char **argv;
    struct gateway gw;
    struct embedded *embedded;
    struct event_base *base;
    char pidfile[4096];
};

static void on_terminate(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;
    log_info("%s: draining requests, then stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(s->base, NULL);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;
    struct config next;
    char err[1024];
    if (!config_load(&next, s->argc, s->argv, err, sizeof(err))) {
        log_error("SIGHUP: the settings were not reloaded: %s", err);
        return;
    }
    config_apply_reload(&s->cfg, &next);
    config_free(&next);
    log_info("SIGHUP: settings reloaded");
}

static void write_pidfile(struct server *s)
{
    snprintf(s->pidfile, sizeof(s->pidfile), "%s/vecdb.pid", s->cfg.data_dir);
    FILE *f = fopen(s->pidfile, "w");
    if (!f) {
        s->pidfile[0] = '\0';
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static int cmd_serve(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: vecdb serve [SETTINGS]\n\n"
               "Serve the OAuth 2.1 server (oauth_port) and the REST API (rest_port).\n"
               "Without --db, create (first time) and run a private PostgreSQL in data_dir.\n"
               "SIGTERM/SIGINT drain and stop; SIGHUP reloads the settings.\n\n");
        config_print_help();
        return 0;
    }
    static struct server s; /* static: signal callbacks and threads see it to the end */
    s.argc = argc;
    s.argv = argv;
    if (!load_settings(&s.cfg, argc, argv))
        return EXIT_USAGE;
    struct config *cfg = &s.cfg;
    char err[2048];
    int status = 1;

    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);
    /* the signals the main loop handles must not interrupt worker threads */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);

    const char *conninfo = cfg->db;
    if (!conninfo) {
        s.embedded = embedded_new(cfg, err, sizeof(err));
        if (!s.embedded || !embedded_start(s.embedded, err, sizeof(err))) {
            log_error("embedded PostgreSQL: %s", err);
            if (s.embedded)
                embedded_stop(s.embedded);
            embedded_free(s.embedded);
            config_free(cfg);
            return 1;
        }
        conninfo = embedded_conninfo(s.embedded);
    } else if (!bootstrap_wait_for_db(conninfo, 30, err, sizeof(err))) {
        log_error("%s", err);
        config_free(cfg);
        return 1;
    }

    s.gw.cfg = cfg;
    s.gw.conninfo = conninfo;
    s.gw.auth = authstate_new(cfg->issuer_url, cfg->public_url);
    if (!bootstrap_database(cfg, conninfo, s.embedded != NULL, s.gw.auth, err, sizeof(err))) {
        log_error("%s", err);
        goto out_auth;
    }
    if (!gateway_listen(&s.gw, err, sizeof(err))) {
        log_error("%s", err);
        goto out_auth;
    }
    mkdir(cfg->data_dir, 0700);
    write_pidfile(&s);

    s.base = event_base_new();
    struct event *ev_term = evsignal_new(s.base, SIGTERM, on_terminate, &s);
    struct event *ev_int = evsignal_new(s.base, SIGINT, on_terminate, &s);
    struct event *ev_hup = evsignal_new(s.base, SIGHUP, on_reload, &s);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_hup, NULL);
    if (s.embedded)
        embedded_supervise(s.embedded, s.base);
    authstate_watch(s.gw.auth, s.base, conninfo);

    pthread_sigmask(SIG_BLOCK, &block, NULL); /* inherited by the threads */
    offload_start(cfg->workers > 1 ? 2 : 1);
    bool started = gateway_start(&s.gw);
    pthread_sigmask(SIG_UNBLOCK, &block, NULL);
    if (started) {
        log_info("vecdb %s serving: REST %s (port %d), OAuth %s (port %d), %d workers",
                 VECDB_VERSION, cfg->public_url, cfg->rest_port, cfg->issuer_url, cfg->oauth_port,
                 cfg->workers);
        event_base_dispatch(s.base);
        status = 0;
    }
    gateway_drain(&s.gw);
    gateway_join(&s.gw, CFG_GET(cfg->drain_timeout));
    offload_stop();
    authstate_unwatch(s.gw.auth);
    event_free(ev_term);
    event_free(ev_int);
    event_free(ev_hup);
    if (s.pidfile[0])
        unlink(s.pidfile);
out_auth:
    if (s.embedded) {
        embedded_stop(s.embedded);
        embedded_free(s.embedded);
    }
    if (s.base)
        event_base_free(s.base);
    authstate_free(s.gw.auth);
    log_info("vecdb stopped");
    config_free(cfg);
    return status;
}

/* ---------------------------------------------------------------- stop */

/* does process pid run vecdb (a stale pid file may name a reused pid) */
static bool is_vecdb(int pid)
{
    char path[64], cmd[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    cmd[n] = '\0';
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    return strncmp(base, "vecdb", 5) == 0;
}

static int cmd_stop(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: vecdb stop [--data-dir DIR]\n\n"
               "Send SIGTERM to the gateway serving DIR (from DIR/vecdb.pid) and wait until it\n"
               "has drained its requests and stopped its PostgreSQL.\n");
        return 0;
    }
    struct config cfg;
    if (!load_settings(&cfg, argc, argv))
        return EXIT_USAGE;
    char path[4096];
    snprintf(path, sizeof(path), "%s/vecdb.pid", cfg.data_dir);
    int wait_s = cfg.drain_timeout + 80;
    config_free(&cfg);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0 || kill(pid, 0) != 0 || !is_vecdb(pid)) {
        if (f)
            fclose(f);
        printf("vecdb is not running (no live process in %s)\n", path);
        return 0;
    }
    fclose(f);
    kill(pid, SIGTERM);
    for (int i = 0; i < wait_s * 10 && kill(pid, 0) == 0; i++)
        usleep(100 * 1000);
    if (kill(pid, 0) == 0) {
        fprintf(stderr, "vecdb: process %d did not stop within %d s\n", pid, wait_s);
        return 1;
    }
    printf("vecdb stopped\n");
    return 0;
}

/* ---------------------------------------------------------------- keys */

static int cmd_keys(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc < 1 || strcmp(argv[0], "rotate") != 0) {
        printf("Usage: vecdb keys rotate --db CONNINFO\n\n"
               "Create a new token signing key and retire the current one.  Tokens signed\n"
               "with retired keys stay valid until they expire; every gateway picks up the new\n"
               "key at once (NOTIFY).  Needs the database of a running deployment (--db).\n");
        return wants_help(argc, argv) ? 0 : EXIT_USAGE;
    }
    struct config cfg;
    if (!load_settings(&cfg, argc - 1, argv + 1))
        return EXIT_USAGE;
    if (!cfg.db) {
        fprintf(stderr, "vecdb: keys rotate needs --db (the embedded server's conninfo is "
                        "host=DATA_DIR port=PORT user=postgres dbname=vecdb)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    char kid[128], err[1024];
    bool ok = bootstrap_rotate_key(cfg.db, kid, sizeof(kid), err, sizeof(err));
    config_free(&cfg);
    if (!ok) {
        fprintf(stderr, "vecdb: %s\n", err);
        return 1;
    }
    printf("signing with new key %s\n", kid);
    return 0;
}

/* --------------------------------------------------------------- token */

struct token_call {
    struct event_base *base;
    int status;
    char *body;
};

static void token_reply(struct evhttp_request *req, void *arg)
{
    struct token_call *call = arg;
    if (!req) {
        call->status = -1;
    } else {
        call->status = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        call->body = malloc(n + 1);
        evbuffer_remove(in, call->body, n);
        call->body[n] = '\0';
    }
    event_base_loopexit(call->base, NULL);
}

static int cmd_token(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: vecdb token --client-id ID --client-secret SECRET [--scope \"read write\"]\n"
               "                   [--resource URL] [--url OAUTH_URL] [--json] [SETTINGS]\n\n"
               "Ask a running gateway's OAuth port for an access token (client_credentials) and\n"
               "print it, for `curl -H \"Authorization: Bearer $(vecdb token ...)\"`.\n"
               "The secret may come from VECDB_CLIENT_SECRET instead of the command line.\n"
               "--url defaults to issuer_url.  --json prints the whole token response.\n");
        return 0;
    }
    const char *client_id = NULL, *secret = getenv("VECDB_CLIENT_SECRET"), *scope = NULL,
               *resource = NULL, *url = NULL;
    bool json = false;
    char **rest = calloc(argc + 1, sizeof(char *));
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char **target = NULL;
        if (strcmp(argv[i], "--client-id") == 0)
            target = &client_id;
        else if (strcmp(argv[i], "--client-secret") == 0)
            target = &secret;
        else if (strcmp(argv[i], "--scope") == 0)
            target = &scope;
        else if (strcmp(argv[i], "--resource") == 0)
            target = &resource;
        else if (strcmp(argv[i], "--url") == 0)
            target = &url;
        else if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        if (target) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vecdb: %s needs a value\n", argv[i]);
                free(rest);
                return EXIT_USAGE;
            }
            *target = argv[++i];
        } else {
            rest[nrest++] = argv[i];
        }
    }
    struct config cfg;
    if (!load_settings(&cfg, nrest, rest)) {
        free(rest);
        return EXIT_USAGE;
    }
    free(rest);
    if (!client_id || !secret) {
        fprintf(stderr,
                "vecdb: token needs --client-id and --client-secret (or VECDB_CLIENT_SECRET)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    char base_url[1024];
    snprintf(base_url, sizeof(base_url), "%s", url ? url : cfg.issuer_url);
    config_free(&cfg);

    char endpoint[1100];
    snprintf(endpoint, sizeof(endpoint), "%s/oauth/token", base_url);
    struct evhttp_uri *uri = evhttp_uri_parse(endpoint);
    if (!uri || !evhttp_uri_get_host(uri) || !evhttp_uri_get_scheme(uri) ||
        strcmp(evhttp_uri_get_scheme(uri), "http") != 0) {
        fprintf(stderr, "vecdb: --url %s is not an http:// URL (use curl for https)\n", base_url);
        if (uri)
            evhttp_uri_free(uri);
        return EXIT_USAGE;
    }
    int port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
    struct token_call call = {.base = event_base_new()};
    struct evhttp_connection *conn =
        evhttp_connection_base_new(call.base, NULL, evhttp_uri_get_host(uri), (unsigned short)port);
    evhttp_connection_set_timeout(conn, 30);
    struct evhttp_request *req = evhttp_request_new(token_reply, &call);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", evhttp_uri_get_host(uri));
    evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
    char *eid = url_encode(client_id), *esecret = url_encode(secret);
    char *escope = url_encode(scope ? scope : ""), *eres = url_encode(resource ? resource : "");
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_printf(out, "grant_type=client_credentials&client_id=%s&client_secret=%s", eid,
                        esecret);
    if (scope)
        evbuffer_add_printf(out, "&scope=%s", escope);
    if (resource)
        evbuffer_add_printf(out, "&resource=%s", eres);
    OPENSSL_cleanse(esecret, strlen(esecret));
    free(eid);
    free(esecret);
    free(escope);
    free(eres);
    evhttp_make_request(conn, req, EVHTTP_REQ_POST, evhttp_uri_get_path(uri));
    event_base_dispatch(call.base);
    evhttp_connection_free(conn);
    event_base_free(call.base);
    evhttp_uri_free(uri);

    int rc = 1;
    if (call.status <= 0) {
        fprintf(stderr, "vecdb: no answer from %s\n", endpoint);
    } else {
        json_object *o = json_tokener_parse(call.body);
        json_object *v;
        if (call.status == 200 && o && json_object_object_get_ex(o, "access_token", &v)) {
            printf("%s\n", json ? call.body : json_object_get_string(v));
            rc = 0;
        } else {
            json_object *e, *d;
            fprintf(stderr, "vecdb: the token request failed (HTTP %d): %s%s%s\n", call.status,
                    o && json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e)
                                                                   : call.body,
                    o && json_object_object_get_ex(o, "error_description", &d) ? ": " : "",
                    o && json_object_object_get_ex(o, "error_description", &d)
                        ? json_object_get_string(d)
                        : "");
        }
        json_object_put(o);
    }
    free(call.body);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int n = argc - 2;
    char **rest = argv + 2;
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(n, rest);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(n, rest);
    if (strcmp(cmd, "config") == 0)
        return cmd_config(n, rest);
    if (strcmp(cmd, "keys") == 0)
        return cmd_keys(n, rest);
    if (strcmp(cmd, "stop") == 0)
        return cmd_stop(n, rest);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
        return cmd_version(n, rest);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "vecdb: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

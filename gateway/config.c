/*
 * config.c - the settings table and the four sources that fill it.
 *
 * Every setting is one row of `settings[]`: its name, type, where it lives in
 * struct config, its default written as text, its bounds, whether SIGHUP may
 * change it and whether it is a secret.  Defaults go through the same parser
 * as user input, so a default can never be a value the parser would reject.
 *
 * Sources are applied from the weakest to the strongest (defaults, file,
 * environment, flags); each later value replaces the earlier one and records
 * where it came from, which `vecdb config` shows.  A few defaults depend on
 * other settings (public_url on rest_port, workers on the CPU count) and are
 * derived after all sources, only when no source set them.
 *
 * The config file has one `name = value` per line; `#` or `;` starts a
 * comment line; a value may be quoted with '...' or "..." (needed for a
 * value with a leading or trailing space or a `#`); an empty value unsets a
 * setting that may be unset (`db =` means embedded mode).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

enum setting_type {
    T_STRING, /* any text */
    T_URL,    /* http(s)://host[:port][/path], stored without a trailing slash */
    T_INT,
    T_PORT,
    T_SECONDS, /* 30, 30s, 15m, 1h, 7d */
    T_MILLIS,  /* 500, 500ms, 2s */
    T_BYTES,   /* 1048576, 1024kB, 1MB */
    T_ENUM,    /* one of values[]; stored as the index for ints, as text for strings */
};

#define S_RELOAD 0x1   /* SIGHUP may change it */
#define S_SECRET 0x2   /* never shown */
#define S_NULLABLE 0x4 /* may be unset (an empty value) */
#define S_ENUMSTR 0x8  /* a T_ENUM kept as text */

struct setting {
    const char *name;
    enum setting_type type;
    size_t offset;
    const char *def; /* NULL: unset (or derived) */
    long min, max;
    const char *const *values; /* T_ENUM */
    unsigned flags;
    const char *help;
};

static const char *const level_values[] = {"debug", "info", "warning", "error", NULL};
static const char *const format_values[] = {"text", "json", NULL};
static const char *const registration_values[] = {"open", "admin", "off", NULL};

#define F(field) offsetof(struct config, field)
#define DAY (24L * 3600)

static const struct setting settings[] = {
    {"config", T_STRING, F(config_file), NULL, 0, 0, NULL, S_NULLABLE,
     "config file (format: docs/configuration.md)"},
    {"db", T_STRING, F(db), NULL, 0, 0, NULL, S_NULLABLE | S_SECRET,
     "libpq conninfo of an existing database; unset: embedded PostgreSQL in data_dir"},
    {"data_dir", T_STRING, F(data_dir), "./vecdb-data", 0, 0, NULL, 0,
     "directory for the embedded cluster and the first-start credentials file"},
    {"bind", T_STRING, F(bind), "127.0.0.1", 0, 0, NULL, 0, "address the ports listen on"},
    {"mcp_port", T_PORT, F(mcp_port), "8080", 0, 65535, NULL, 0,
     "MCP over raw TCP (reserved: not served by this version)"},
    {"oauth_port", T_PORT, F(oauth_port), "8081", 0, 65535, NULL, 0,
     "OAuth 2.1 authorization server"},
    {"rest_port", T_PORT, F(rest_port), "8082", 0, 65535, NULL, 0, "REST API, /healthz, /readyz"},
    {"public_url", T_URL, F(public_url), NULL, 0, 0, NULL, S_NULLABLE,
     "external base URL of the REST/MCP port, the audience of tokens "
     "(default http://BIND:REST_PORT)"},
    {"issuer_url", T_URL, F(issuer_url), NULL, 0, 0, NULL, S_NULLABLE,
     "external base URL of the OAuth port, the issuer of tokens "
     "(default http://BIND:OAUTH_PORT)"},
    {"workers", T_INT, F(workers), "0", 0, 256, NULL, 0,
     "worker threads, one event loop each (0: one per CPU)"},
    {"pool_size", T_INT, F(pool_size), "4", 1, 1000, NULL, 0, "PostgreSQL connections per worker"},
    {"token_lifetime", T_SECONDS, F(token_lifetime), "1h", 10, 7 * DAY, NULL, S_RELOAD,
     "lifetime of access tokens"},
    {"refresh_token_lifetime", T_SECONDS, F(refresh_token_lifetime), "30d", 60, 365 * DAY, NULL,
     S_RELOAD, "lifetime of refresh tokens"},
    {"auth_code_lifetime", T_SECONDS, F(auth_code_lifetime), "60s", 5, 600, NULL, S_RELOAD,
     "lifetime of authorization codes"},
    {"log_level", T_ENUM, F(log_level), "info", 0, 0, level_values, S_RELOAD,
     "debug, info, warning or error"},
    {"log_format", T_ENUM, F(log_format), "text", 0, 0, format_values, S_RELOAD, "text or json"},
    {"max_body_size", T_BYTES, F(max_body_size), "1MB", 1024, 1L << 30, NULL, 0,
     "largest request body (413 beyond)"},
    {"max_header_size", T_BYTES, F(max_header_size), "16kB", 1024, 1L << 20, NULL, 0,
     "largest request head: request line and headers (400 beyond)"},
    {"http_timeout", T_SECONDS, F(http_timeout), "30s", 1, 3600, NULL, 0,
     "time to read a request, and idle time of a keep-alive connection"},
    {"queue_timeout", T_MILLIS, F(queue_timeout), "5s", 1, 600000, NULL, S_RELOAD,
     "how long a request waits for a database connection before 503"},
    {"queue_limit", T_INT, F(queue_limit), "1000", 0, 1000000, NULL, S_RELOAD,
     "requests waiting for a connection per worker; more get 503 at once"},
    {"statement_timeout", T_MILLIS, F(statement_timeout), "30s", 0, 3600000, NULL, 0,
     "PostgreSQL statement_timeout of the gateway's connections"},
    {"drain_timeout", T_SECONDS, F(drain_timeout), "30s", 0, 3600, NULL, S_RELOAD,
     "how long SIGTERM waits for in-flight requests"},
    {"auth_fail_limit", T_INT, F(auth_fail_limit), "10", 1, 1000000, NULL, S_RELOAD,
     "failed authentications allowed per client and per address in auth_fail_window"},
    {"auth_fail_window", T_SECONDS, F(auth_fail_window), "60s", 1, DAY, NULL, S_RELOAD,
     "window of auth_fail_limit"},
    {"registration", T_ENUM, F(registration), "open", 0, 0, registration_values, S_ENUMSTR,
     "dynamic client registration: open (public and authorization-code clients; "
     "client_credentials clients need an admin token), admin (always an admin token), off"},
    {"registration_limit", T_INT, F(registration_limit), "20", 1, 1000000, NULL, S_RELOAD,
     "registrations without an admin token allowed per address in registration_window"},
    {"registration_window", T_SECONDS, F(registration_window), "1h", 1, DAY, NULL, S_RELOAD,
     "window of registration_limit"},
    {"pg_bin", T_STRING, F(pg_bin), NULL, 0, 0, NULL, S_NULLABLE,
     "embedded: PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin)"},
    {"pg_user", T_STRING, F(pg_user), "postgres", 0, 0, NULL, 0,
     "embedded: the OS user PostgreSQL runs as when vecdb runs as root"},
    {"pg_port", T_PORT, F(pg_port), "0", 0, 65535, NULL, 0,
     "embedded: PostgreSQL's port on 127.0.0.1 (0: a free port at each start)"},
    {"admin_client_id", T_STRING, F(admin_client_id), "admin", 0, 0, NULL, 0,
     "client id of the admin client created on first start"},
    {"admin_client_secret", T_STRING, F(admin_client_secret), NULL, 0, 0, NULL,
     S_NULLABLE | S_SECRET, "its secret on first start (default: generated and shown once)"},
    {"admin_user", T_STRING, F(admin_user), "admin", 0, 0, NULL, 0,
     "login-page user created on first start"},
    {"admin_password", T_STRING, F(admin_password), NULL, 0, 0, NULL, S_NULLABLE | S_SECRET,
     "its password on first start (default: generated and shown once)"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

_Static_assert(NSETTINGS <= sizeof(((struct config *)0)->source), "config.source too small");

const char *const config_source_names[] = {"default", "file", "environment", "flag", "derived"};

static char **str_field(struct config *cfg, const struct setting *s)
{
    return (char **)((char *)cfg + s->offset);
}

static int *int_field(struct config *cfg, const struct setting *s)
{
    return (int *)((char *)cfg + s->offset);
}

static bool is_string(const struct setting *s)
{
    return s->type == T_STRING || s->type == T_URL || (s->flags & S_ENUMSTR);
}

static const struct setting *find_setting(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

static void fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

/* a number with an optional unit suffix from units[] (name, factor) */
struct unit {
    const char *suffix;
    long factor;
};

static bool parse_scaled(const char *text, const struct unit *units, long *out)
{
    errno = 0;
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    long v = strtol(text, &end, 10);
    if (errno)
        return false;
    if (*end == '\0') {
        *out = v;
        return true;
    }
    for (; units->suffix; units++) {
        if (strcmp(end, units->suffix) == 0) {
            if (v > LONG_MAX / units->factor)
                return false;
            *out = v * units->factor;
            return true;
        }
    }
    return false;
}

static const struct unit second_units[] = {{"s", 1},    {"m", 60},  {"min", 60},
                                           {"h", 3600}, {"d", DAY}, {NULL, 0}};
static const struct unit milli_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {NULL, 0}};
static const struct unit byte_units[] = {{"B", 1},         {"kB", 1024},     {"KB", 1024},
                                         {"MB", 1L << 20}, {"GB", 1L << 30}, {NULL, 0}};

/* http(s)://host[:port][/path]: no query, fragment or user info */
static bool valid_url(const char *v, const char **why)
{
    const char *rest;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    else {
        *why = "must start with http:// or https://";
        return false;
    }
    if (*rest == '\0' || *rest == '/' || *rest == ':') {
        *why = "has no host";
        return false;
    }
    if (strpbrk(rest, "?#@ \t")) {
        *why = "must not have a query, fragment, user or spaces";
        return false;
    }
    return true;
}

/* parse TEXT for setting S into cfg; false with a reason in why */
static bool set_value(struct config *cfg, const struct setting *s, const char *text, char *why,
                      size_t whysize)
{
    long v = 0;
    if (text[0] == '\0') {
        if (!(s->flags & S_NULLABLE)) {
            snprintf(why, whysize, "must not be empty");
            return false;
        }
        char **f = str_field(cfg, s);
        free(*f);
        *f = NULL;
        return true;
    }
    switch (s->type) {
    case T_STRING:
    case T_URL: {
        char *copy = strdup(text);
        if (s->type == T_URL) {
            const char *reason;
            if (!valid_url(copy, &reason)) {
                snprintf(why, whysize, "'%s' %s", text, reason);
                free(copy);
                return false;
            }
            size_t n = strlen(copy);
            while (n > 0 && copy[n - 1] == '/')
                copy[--n] = '\0';
        }
        char **f = str_field(cfg, s);
        free(*f);
        *f = copy;
        return true;
    }
    case T_ENUM:
        for (int i = 0; s->values[i]; i++) {
            if (strcmp(s->values[i], text) == 0) {
                if (s->flags & S_ENUMSTR) {
                    char **f = str_field(cfg, s);
                    free(*f);
                    *f = strdup(text);
                } else {
                    *int_field(cfg, s) = i;
                }
                return true;
            }
        }
        {
            size_t n = snprintf(why, whysize, "'%s' is not one of", text);
            for (int i = 0; s->values[i] && n < whysize; i++)
                n += snprintf(why + n, whysize - n, "%s %s", i ? "," : "", s->values[i]);
        }
        return false;
    case T_INT:
    case T_PORT:
        if (!parse_scaled(text, (const struct unit[]){{NULL, 0}}, &v)) {
            snprintf(why, whysize, "'%s' is not a whole number", text);
            return false;
        }
        break;
    case T_SECONDS:
        if (!parse_scaled(text, second_units, &v)) {
            snprintf(why, whysize, "'%s' is not a duration (e.g. 30s, 15m, 1h, 7d)", text);
            return false;
        }
        break;
    case T_MILLIS:
        if (!parse_scaled(text, milli_units, &v)) {
            snprintf(why, whysize, "'%s' is not a duration (e.g. 500ms, 5s)", text);
            return false;
        }
        break;
    case T_BYTES:
        if (!parse_scaled(text, byte_units, &v)) {
            snprintf(why, whysize, "'%s' is not a size (e.g. 65536, 64kB, 1MB)", text);
            return false;
        }
        break;
    }
    if (v < s->min || v > s->max) {
        snprintf(why, whysize, "'%s' is out of range (%ld to %ld%s)", text, s->min, s->max,
                 s->type == T_SECONDS  ? " seconds"
                 : s->type == T_MILLIS ? " milliseconds"
                 : s->type == T_BYTES  ? " bytes"
                                       : "");
        return false;
    }
    *int_field(cfg, s) = (int)v;
    return true;
}

/* apply one value from SOURCE, with an error naming where it came from */
static bool apply(struct config *cfg, const struct setting *s, const char *text,
                  enum config_source source, const char *where, char *err, size_t errsize)
{
    char why[256];
    if (!set_value(cfg, s, text, why, sizeof(why))) {
        fail(err, errsize, "invalid setting %s (%s): %s", s->name, where, why);
        return false;
    }
    cfg->source[s - settings] = (unsigned char)source;
    return true;
}

/* flag spelling of a setting: data_dir -> data-dir */
static void flag_name(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s", name);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* the setting a flag names (--data-dir or --data_dir), or NULL */
static const struct setting *setting_for_flag(const char *flag, size_t len)
{
    char name[64];
    if (len >= sizeof(name))
        return NULL;
    memcpy(name, flag, len);
    name[len] = '\0';
    for (char *p = name; *p; p++)
        if (*p == '-')
            *p = '_';
    return find_setting(name);
}

/* trim whitespace at both ends in place */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool load_file(struct config *cfg, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fail(err, errsize, "cannot read config file %s: %s", path, strerror(errno));
        return false;
    }
    char line[4096];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        char where[300];
        snprintf(where, sizeof(where), "%s line %d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            fail(err, errsize, "config file %s: line too long", where);
            ok = false;
            break;
        }
        char *p = trim(line);
        if (*p == '\0' || *p == '#' || *p == ';')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            fail(err, errsize, "config file %s: expected 'name = value', got '%s'", where, p);
            ok = false;
            break;
        }
        *eq = '\0';
        char *name = trim(p);
        char *value = trim(eq + 1);
        const struct setting *s = find_setting(name);
        if (!s || s->offset == F(config_file)) {
            fail(err, errsize, "config file %s: unknown setting '%s' (see vecdb serve --help)",
                 where, name);
            ok = false;
            break;
        }
        if (value[0] == '\'' || value[0] == '"') {
            char *close = strrchr(value + 1, value[0]);
            if (!close || *trim(close + 1) != '\0') {
                fail(err, errsize, "config file %s: unterminated quote in value of %s", where,
                     name);
                ok = false;
                break;
            }
            *close = '\0';
            value++;
        } else {
            /* an unquoted value ends at a comment that follows whitespace */
            for (char *c = value; *c; c++) {
                if (*c == '#' && c > value && isspace((unsigned char)c[-1])) {
                    *c = '\0';
                    value = trim(value);
                    break;
                }
            }
        }
        ok = apply(cfg, s, value, SRC_FILE, where, err, errsize);
    }
    fclose(f);
    return ok;
}

/* flags of the command line as (setting, value) pairs; false on a flag that
 * names no setting or lacks its value */
struct flag_value {
    const struct setting *s;
    const char *value;
};

static bool scan_flags(int argc, char **argv, struct flag_value *out, int *n, char *err,
                       size_t errsize)
{
    *n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fail(err, errsize, "unexpected argument '%s'", a);
            return false;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct setting *s = setting_for_flag(name, len);
        if (!s) {
            fail(err, errsize, "unknown option '%.*s' (see --help)", (int)(len + 2), a);
            return false;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fail(err, errsize, "option '%s' needs a value", a);
            return false;
        }
        out[(*n)++] = (struct flag_value){s, value};
    }
    return true;
}

static void derive(struct config *cfg)
{
    const struct setting *s;
    if (cfg->workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->workers = cpus > 0 ? (int)(cpus > 64 ? 64 : cpus) : 1;
        s = find_setting("workers");
        cfg->source[s - settings] = SRC_DERIVED;
    }
    /* the URLs name the address clients reach: a wildcard bind has none */
    const char *host = cfg->bind;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0)
        host = "127.0.0.1";
    bool v6 = strchr(host, ':') != NULL;
    char url[512];
    if (!cfg->public_url) {
        snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                 cfg->rest_port);
        cfg->public_url = strdup(url);
        s = find_setting("public_url");
        cfg->source[s - settings] = SRC_DERIVED;
    }
    if (!cfg->issuer_url) {
        snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                 cfg->oauth_port);
        cfg->issuer_url = strdup(url);
        s = find_setting("issuer_url");
        cfg->source[s - settings] = SRC_DERIVED;
    }
}

/* settings that must agree with each other */
static bool check_combination(const struct config *cfg, char *err, size_t errsize)
{
    int ports[] = {cfg->mcp_port, cfg->oauth_port, cfg->rest_port};
    const char *names[] = {"mcp_port", "oauth_port", "rest_port"};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (ports[i] != 0 && ports[i] == ports[j]) {
                fail(err, errsize, "invalid settings: %s and %s are both %d", names[i], names[j],
                     ports[i]);
                return false;
            }
    return true;
}

static bool load_sources(struct config *cfg, int argc, char **argv, char *err, size_t errsize);

bool config_load(struct config *cfg, int argc, char **argv, char *err, size_t errsize)
{
    bool ok = load_sources(cfg, argc, argv, err, errsize);
    if (!ok)
        config_free(cfg); /* nothing half-loaded survives a failure */
    return ok;
}

static bool load_sources(struct config *cfg, int argc, char **argv, char *err, size_t errsize)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (s->def && !apply(cfg, s, s->def, SRC_DEFAULT, "default", err, errsize))
            return false; /* a bad default is a bug; say so rather than crash */
    }

    struct flag_value *flags = calloc(argc + 1, sizeof(*flags));
    int nflags;
    if (!scan_flags(argc, argv, flags, &nflags, err, errsize)) {
        free(flags);
        return false;
    }

    /* the file first: its name may come from a flag or the environment */
    const char *file = getenv("VECDB_CONFIG");
    enum config_source file_source = SRC_ENV;
    if (file && !*file)
        file = NULL;
    for (int i = 0; i < nflags; i++) {
        if (flags[i].s->offset == F(config_file)) {
            file = flags[i].value;
            file_source = SRC_FLAG;
        }
    }
    bool ok = true;
    if (file) {
        ok = apply(cfg, find_setting("config"), file, file_source,
                   file_source == SRC_FLAG ? "--config" : "VECDB_CONFIG", err, errsize) &&
             load_file(cfg, file, err, errsize);
    }

    for (size_t i = 0; ok && i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (s->offset == F(config_file))
            continue;
        char env[80];
        snprintf(env, sizeof(env), "VECDB_%s", s->name);
        for (char *p = env; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        const char *v = getenv(env);
        if (v && *v)
            ok = apply(cfg, s, v, SRC_ENV, env, err, errsize);
    }

    for (int i = 0; ok && i < nflags; i++) {
        char where[80], fname[64];
        flag_name(flags[i].s->name, fname, sizeof(fname));
        snprintf(where, sizeof(where), "--%s", fname);
        if (flags[i].s->offset != F(config_file))
            ok = apply(cfg, flags[i].s, flags[i].value, SRC_FLAG, where, err, errsize);
    }
    free(flags);
    if (!ok)
        return false;
    derive(cfg);
    return check_combination(cfg, err, errsize);
}

const char *config_describe(const struct config *cfg, const char *name, char *buf, size_t size,
                            enum config_source *source)
{
    const struct setting *s = find_setting(name);
    if (!s)
        return NULL;
    struct config *c = (struct config *)cfg;
    *source = (enum config_source)cfg->source[s - settings];
    if (is_string(s)) {
        const char *v = *str_field(c, s);
        if (!v)
            snprintf(buf, size, "(unset)");
        else if (s->flags & S_SECRET)
            snprintf(buf, size, "(set, not shown)");
        else
            snprintf(buf, size, "%s", v);
    } else if (s->type == T_ENUM) {
        snprintf(buf, size, "%s", s->values[*int_field(c, s)]);
    } else {
        int v = *int_field(c, s);
        const char *unit = s->type == T_SECONDS  ? "s"
                           : s->type == T_MILLIS ? "ms"
                           : s->type == T_BYTES  ? "B"
                                                 : "";
        snprintf(buf, size, "%d%s", v, unit);
    }
    return buf;
}

const char *const *config_names(void)
{
    static const char *names[NSETTINGS + 1];
    for (size_t i = 0; i < NSETTINGS; i++)
        names[i] = settings[i].name;
    names[NSETTINGS] = NULL;
    return names;
}

void config_print_help(void)
{
    printf("Settings (flag, environment variable VECDB_NAME, or `name = value` in the config "
           "file):\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        char fname[64], head[96];
        flag_name(s->name, fname, sizeof(fname));
        snprintf(head, sizeof(head), "--%s %s", fname,
                 s->type == T_PORT || s->type == T_INT         ? "N"
                 : s->type == T_SECONDS || s->type == T_MILLIS ? "TIME"
                 : s->type == T_BYTES                          ? "SIZE"
                 : s->type == T_URL                            ? "URL"
                                                               : "VALUE");
        printf("  %-30s %s", head, s->help);
        if (s->def)
            printf(" [%s]", s->def);
        if (s->flags & S_RELOAD)
            printf(" (SIGHUP reloads)");
        printf("\n");
    }
}

void config_apply_reload(struct config *cur, const struct config *next)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        struct config *n = (struct config *)next;
        bool changed;
        if (is_string(s)) {
            const char *a = *str_field(cur, s), *b = *str_field(n, s);
            changed = (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
        } else {
            changed = *int_field(cur, s) != *int_field(n, s);
        }
        if (!changed)
            continue;
        if ((s->flags & S_RELOAD) && !is_string(s)) {
            __atomic_store_n(int_field(cur, s), *int_field(n, s), __ATOMIC_RELAXED);
            cur->source[i] = next->source[i];
            log_info("reload: %s changed", s->name);
        } else {
            log_warning("reload: %s changed; it takes effect after a restart", s->name);
        }
    }
    log_configure((enum log_level)cur->log_level, (enum log_format)cur->log_format);
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (is_string(s)) {
            char **f = str_field(cfg, s);
            free(*f);
            *f = NULL;
        }
    }
}

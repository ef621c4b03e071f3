/*
 * config.h - the gateway's settings: one declarative table (config.c).
 *
 * Precedence: command-line flags > VECDB_* environment > config file >
 * defaults.  Every setting has the three spellings --data-dir, VECDB_DATA_DIR
 * and `data_dir = ...`.  An unknown flag or file key, or an invalid value
 * from any source, stops start-up with a message naming the setting and its
 * source (config_load returns false and fills err).
 */
#ifndef VECDB_CONFIG_H
#define VECDB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config {
    char *config_file; /* --config: where the file settings came from, or NULL */
    char *db;          /* libpq conninfo; NULL: embedded PostgreSQL */
    char *data_dir;
    char *bind;
    int mcp_port;
    int oauth_port;
    int rest_port;
    char *public_url; /* audience of tokens: the REST/MCP port's external URL */
    char *issuer_url; /* iss of tokens: the OAuth port's external URL */
    int workers;
    int pool_size;
    int token_lifetime;         /* seconds */
    int refresh_token_lifetime; /* seconds */
    int auth_code_lifetime;     /* seconds */
    int log_level;              /* enum log_level */
    int log_format;             /* enum log_format */
    int max_body_size;          /* bytes */
    int max_header_size;        /* bytes */
    int http_timeout;           /* seconds: reading a request, idle keep-alive */
    int queue_timeout;          /* milliseconds a request waits for a connection */
    int queue_limit;            /* requests waiting per worker before 503 at once */
    int statement_timeout;      /* milliseconds */
    int drain_timeout;          /* seconds SIGTERM waits for in-flight requests */
    int auth_fail_limit;        /* failed authentications per window ... */
    int auth_fail_window;       /* ... seconds, per client and per address */
    char *registration;         /* "open", "admin" or "off" */
    int registration_limit;     /* registrations without an admin token per address ... */
    int registration_window;    /* ... in this many seconds */
    char *pg_bin;               /* embedded: PostgreSQL's bin directory */
    char *pg_user;              /* embedded: the OS user PostgreSQL runs as when root */
    int pg_port;                /* embedded: loopback port; 0: a free one each start */
    char *admin_client_id;
    char *admin_client_secret; /* first start only; NULL: generated */
    char *admin_user;
    char *admin_password; /* first start only; NULL: generated */

    unsigned char source[64]; /* enum config_source of each setting, table order */
};

/* settings that SIGHUP may change are read with this while they are written */
#define CFG_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* where a setting's value came from */
enum config_source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG, SRC_DERIVED };

/*
 * config_load: fill cfg from argv (setting flags only: the subcommands take
 * their own flags out first), the environment and the config file.  On an
 * unknown or invalid setting it returns false with a message in err.
 */
bool config_load(struct config *cfg, int argc, char **argv, char *err, size_t errsize);

/* the value of setting NAME formatted for display (secrets masked); NULL if
 * there is no such setting */
const char *config_describe(const struct config *cfg, const char *name, char *buf, size_t size,
                            enum config_source *source);

/* the names of every setting in table order, ended by NULL */
const char *const *config_names(void);

/* help text for every setting: "  --name VALUE   help (default ...)" lines */
void config_print_help(void);

/* settings that may change at run time (SIGHUP) are copied from next to cur;
 * for the others, a warning names each one that changed */
void config_apply_reload(struct config *cur, const struct config *next);

void config_free(struct config *cfg);

extern const char *const config_source_names[];

#endif

/*
 * embedded.c - a private PostgreSQL cluster as a supervised child.
 *
 * Layout of the data directory (mode 0700):
 *
 *     DIR/pgdata/            the cluster (initdb on first start)
 *     DIR/.s.PGSQL.PORT      its unix socket: the gateway connects here
 *     DIR/postgres.log       the server's output
 *     DIR/pg-password        password of the `postgres` superuser over TCP
 *     DIR/admin-credentials  the first start's admin secrets (bootstrap.c)
 *     DIR/vecdb.pid          the gateway's pid (`vecdb stop`)
 *
 * Access: the unix socket trusts its callers, which the directory's mode
 * limits to the owner; TCP listens on 127.0.0.1 only and needs the password
 * (scram-sha-256), so other local users get nothing for free.
 *
 * PostgreSQL refuses to run as root, so a root gateway runs initdb and the
 * server as `pg_user` (default postgres) and gives that user the data
 * directory.  The child gets its own process group, so a Ctrl-C in the
 * terminal reaches only the gateway, which drains its requests and then
 * stops PostgreSQL in order; and a parent-death signal, so PostgreSQL stops
 * (fast shutdown) if the gateway is killed.
 *
 * Supervision: SIGCHLD on the main loop reaps the child; if the gateway is
 * not stopping, a timer starts PostgreSQL again after 1 s, doubling up to
 * 30 s while it keeps dying young (a run of 60 s resets the back-off).  The
 * restart does not wait for readiness: the pools reconnect on their own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <netinet/in.h>

#include "embedded.h"
#include "log.h"
#include "secret.h"

struct embedded {
    char dir[PATH_MAX];
    char pgdata[PATH_MAX + 16];
    char bin[PATH_MAX];
    bool as_other_user;
    uid_t uid;
    gid_t gid;
    char user[64];
    gid_t groups[64]; /* looked up before any fork: NSS is not fork-safe */
    int ngroups;
    int port;
    bool port_fixed;
    char conninfo[PATH_MAX + 128];
    pid_t pid;
    time_t started_at;
    int backoff_s;
    bool stopping;
    struct event *sigchld;
    struct event *restart;
};

static void fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

static bool executable(const char *dir, const char *name)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, X_OK) == 0;
}

/* the newest /usr/lib/postgresql/N/bin with a server */
static bool find_pg_bin(char *out, size_t size)
{
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return false;
    int best = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        char bin[PATH_MAX];
        snprintf(bin, sizeof(bin), "/usr/lib/postgresql/%s/bin", de->d_name);
        if (*end == '\0' && v > best && executable(bin, "postgres")) {
            best = (int)v;
            snprintf(out, size, "%s", bin);
        }
    }
    closedir(d);
    return best >= 0;
}

/* a TCP port on 127.0.0.1 nothing listens on now */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

struct embedded *embedded_new(const struct config *cfg, char *err, size_t errsize)
{
    struct embedded *e = calloc(1, sizeof(*e));
    e->backoff_s = 1;
    if (cfg->pg_bin) {
        snprintf(e->bin, sizeof(e->bin), "%s", cfg->pg_bin);
    } else if (!find_pg_bin(e->bin, sizeof(e->bin))) {
        fail(err, errsize,
             "no PostgreSQL server found in /usr/lib/postgresql/*/bin: install one (`make run` "
             "does) or set pg_bin, or use an existing server with --db");
        free(e);
        return NULL;
    }
    if (!executable(e->bin, "postgres") || !executable(e->bin, "initdb")) {
        fail(err, errsize, "pg_bin %s has no postgres and initdb programs", e->bin);
        free(e);
        return NULL;
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam(cfg->pg_user);
        if (!pw || pw->pw_uid == 0) {
            fail(err, errsize,
                 "vecdb runs as root and PostgreSQL refuses to: pg_user '%s' %s; create that "
                 "user or set pg_user to an unprivileged one",
                 cfg->pg_user, pw ? "is root" : "does not exist");
            free(e);
            return NULL;
        }
        e->as_other_user = true;
        e->uid = pw->pw_uid;
        e->gid = pw->pw_gid;
        snprintf(e->user, sizeof(e->user), "%s", cfg->pg_user);
        e->ngroups = 64;
        if (getgrouplist(e->user, e->gid, e->groups, &e->ngroups) < 0) {
            e->groups[0] = e->gid;
            e->ngroups = 1;
        }
    }
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        fail(err, errsize, "cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        free(e);
        return NULL;
    }
    if (!realpath(cfg->data_dir, e->dir)) {
        fail(err, errsize, "data directory %s: %s", cfg->data_dir, strerror(errno));
        free(e);
        return NULL;
    }
    snprintf(e->pgdata, sizeof(e->pgdata), "%s/pgdata", e->dir);
    e->port_fixed = cfg->pg_port != 0;
    e->port = cfg->pg_port;
    if (strlen(e->dir) + sizeof("/.s.PGSQL.65535.lock") >
        sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fail(err, errsize,
             "data directory %s is too long a path for PostgreSQL's unix socket (at most %zu "
             "characters)",
             e->dir, sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("/.s.PGSQL.65535.lock"));
        free(e);
        return NULL;
    }
    return e;
}

/* fork and exec argv as the PostgreSQL user, output appended to the log */
static pid_t spawn(struct embedded *e, char *const argv[])
{
    char logpath[PATH_MAX + 32];
    snprintf(logpath, sizeof(logpath), "%s/postgres.log", e->dir);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;

    /* the child: only async-signal-safe calls from here */
    setpgid(0, 0);
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int devnull = open("/dev/null", O_RDONLY);
    if (logfd < 0 || devnull < 0)
        _exit(126);
    if (e->as_other_user) {
        if (fchown(logfd, e->uid, e->gid) != 0 || setgid(e->gid) != 0 ||
            setgroups(e->ngroups, e->groups) != 0 || setuid(e->uid) != 0)
            _exit(126);
    }
    /* set after the uid change, which clears it */
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != parent)
        _exit(1);
    dup2(devnull, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    umask(077);
    if (chdir(e->dir) != 0) {
        const char msg[] = "vecdb: the PostgreSQL user cannot enter the data directory\n";
        ssize_t unused = write(2, msg, sizeof(msg) - 1);
        (void)unused;
        _exit(126);
    }
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    _exit(127);
}

/* the last lines of the server log, for error messages */
static void log_tail(struct embedded *e, char *out, size_t size)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/postgres.log", e->dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    long from = len > (long)size - 1 ? len - (long)size + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static bool run_initdb(struct embedded *e, char *err, size_t errsize)
{
    char pwfile[PATH_MAX + 32];
    snprintf(pwfile, sizeof(pwfile), "%s/pg-password", e->dir);
    int fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fail(err, errsize, "cannot write %s: %s", pwfile, strerror(errno));
        return false;
    }
    char *pw = secret_random(24);
    ssize_t unused = write(fd, pw, strlen(pw));
    unused = write(fd, "\n", 1);
    (void)unused;
    free(pw);
    if (e->as_other_user && fchown(fd, e->uid, e->gid) != 0) {
        fail(err, errsize, "cannot give %s to %s: %s", pwfile, e->user, strerror(errno));
        close(fd);
        return false;
    }
    close(fd);

    char initdb[PATH_MAX + 16], pwopt[PATH_MAX + 48];
    snprintf(initdb, sizeof(initdb), "%s/initdb", e->bin);
    snprintf(pwopt, sizeof(pwopt), "--pwfile=%s", pwfile);
    char *argv[] = {initdb,
                    "-D",
                    e->pgdata,
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    pwopt,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    NULL};
    log_info("creating a PostgreSQL cluster in %s", e->pgdata);
    pid_t pid = spawn(e, argv);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char tail[1024];
        log_tail(e, tail, sizeof(tail));
        fail(err, errsize, "initdb failed (exit status %d); the end of %s/postgres.log:\n%s",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, e->dir, tail);
        return false;
    }
    return true;
}

/* start the server without waiting for it */
static bool start_server(struct embedded *e)
{
    char postgres[PATH_MAX + 16], port[16], listen[] = "listen_addresses=127.0.0.1";
    snprintf(postgres, sizeof(postgres), "%s/postgres", e->bin);
    snprintf(port, sizeof(port), "%d", e->port);
    char *argv[] = {postgres, "-D", e->pgdata, "-k", e->dir, "-p", port, "-c", listen, NULL};
    e->pid = spawn(e, argv);
    if (e->pid < 0) {
        e->pid = 0;
        log_error("cannot start PostgreSQL: %s", strerror(errno));
        return false;
    }
    e->started_at = time(NULL);
    log_info("PostgreSQL started (pid %d, port %d, socket in %s)", (int)e->pid, e->port, e->dir);
    return true;
}

static void quote_conninfo(char *out, size_t size, const char *value)
{
    size_t o = 0;
    out[o++] = '\'';
    for (; *value && o + 3 < size; value++) {
        if (*value == '\'' || *value == '\\')
            out[o++] = '\\';
        out[o++] = *value;
    }
    out[o++] = '\'';
    out[o] = '\0';
}

bool embedded_start(struct embedded *e, char *err, size_t errsize)
{
    chmod(e->dir, 0700);
    if (e->as_other_user && chown(e->dir, e->uid, e->gid) != 0) {
        fail(err, errsize, "cannot give data directory %s to %s: %s", e->dir, e->user,
             strerror(errno));
        return false;
    }
    char version[PATH_MAX + 32];
    snprintf(version, sizeof(version), "%s/PG_VERSION", e->pgdata);
    if (access(version, F_OK) != 0 && !run_initdb(e, err, errsize))
        return false;
    if (!e->port_fixed)
        e->port = free_port();
    char host[PATH_MAX + 8];
    quote_conninfo(host, sizeof(host), e->dir);
    snprintf(e->conninfo, sizeof(e->conninfo), "host=%s port=%d user=postgres dbname=vecdb", host,
             e->port);
    if (!start_server(e)) {
        fail(err, errsize, "cannot start PostgreSQL");
        return false;
    }

    char admin[PATH_MAX + 128];
    snprintf(admin, sizeof(admin), "host=%s port=%d user=postgres dbname=postgres", host, e->port);
    time_t deadline = time(NULL) + 120;
    for (;;) {
        int status;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            e->pid = 0;
            char tail[1500];
            log_tail(e, tail, sizeof(tail));
            fail(err, errsize, "PostgreSQL exited at start; the end of %s/postgres.log:\n%s",
                 e->dir, tail);
            return false;
        }
        if (PQping(admin) == PQPING_OK)
            break;
        if (time(NULL) > deadline) {
            fail(err, errsize,
                 "PostgreSQL did not accept connections within 120 s (see %s/postgres.log)",
                 e->dir);
            return false;
        }
        usleep(100 * 1000);
    }

    PGconn *c = PQconnectdb(admin);
    PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = 'vecdb'");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok && PQntuples(r) == 0) {
        PQclear(r);
        r = PQexec(c, "CREATE DATABASE vecdb");
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (ok)
            log_info("created database vecdb");
    }
    if (!ok)
        fail(err, errsize, "cannot create database vecdb: %s", PQerrorMessage(c));
    else
        log_info("PostgreSQL is ready; connect with: psql \"host=%s port=%d user=postgres "
                 "dbname=vecdb\"",
                 e->dir, e->port);
    PQclear(r);
    PQfinish(c);
    return ok;
}

const char *embedded_conninfo(const struct embedded *e)
{
    return e->conninfo;
}

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
    struct embedded *e = arg;
    if (e->stopping || e->pid)
        return;
    if (!start_server(e)) {
        struct timeval tv = {e->backoff_s, 0};
        evtimer_add(e->restart, &tv);
    }
}

static void sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
    struct embedded *e = arg;
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid != e->pid)
            continue;
        e->pid = 0;
        if (e->stopping)
            continue;
        time_t ran = time(NULL) - e->started_at;
        if (ran >= 60)
            e->backoff_s = 1;
        char how[64];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
        else
            snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
        log_warning("PostgreSQL %s after %ld s; restarting it in %d s", how, (long)ran,
                    e->backoff_s);
        struct timeval tv = {e->backoff_s, 0};
        evtimer_add(e->restart, &tv);
        e->backoff_s = e->backoff_s * 2 > 30 ? 30 : e->backoff_s * 2;
    }
}

void embedded_supervise(struct embedded *e, struct event_base *base)
{
    e->sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, e);
    e->restart = evtimer_new(base, restart_cb, e);
    evsignal_add(e->sigchld, NULL);
    /* it may have died before the handler was there */
    sigchld_cb(-1, 0, e);
}

/* wait for the child up to ms milliseconds */
static bool wait_child(struct embedded *e, int ms)
{
    for (int waited = 0; e->pid && waited <= ms; waited += 50) {
        int status;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            e->pid = 0;
            return true;
        }
        usleep(50 * 1000);
    }
    return e->pid == 0;
}

void embedded_stop(struct embedded *e)
{
    e->stopping = true;
    if (e->restart)
        evtimer_del(e->restart);
    if (!e->pid)
        return;
    log_info("stopping PostgreSQL (pid %d)", (int)e->pid);
    kill(e->pid, SIGINT); /* fast shutdown: roll back sessions, checkpoint */
    if (wait_child(e, 60000))
        return;
    log_warning("PostgreSQL did not stop in 60 s; immediate shutdown");
    kill(e->pid, SIGQUIT);
    if (wait_child(e, 10000))
        return;
    kill(e->pid, SIGKILL);
    wait_child(e, 5000);
}

void embedded_free(struct embedded *e)
{
    if (!e)
        return;
    if (e->sigchld)
        event_free(e->sigchld);
    if (e->restart)
        event_free(e->restart);
    free(e);
}

/*
 * log.c - structured log records on stderr.
 *
 * Records are assembled in a local buffer and written with one write(2), so
 * lines from different threads never interleave.  The level and format are
 * atomics because SIGHUP may change them while workers log.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int current_level = LOG_INFO;
static atomic_int current_format = LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_configure(enum log_level level, enum log_format format)
{
    atomic_store(&current_level, level);
    atomic_store(&current_format, format);
}

int log_enabled(enum log_level level)
{
    return (int)level >= atomic_load(&current_level);
}

/* a growing line, truncated (never overflowing) at its capacity */
struct line {
    char buf[4096];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 2 - l->len; /* keep room for '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_raw(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* s as the inside of a JSON string */
static void puts_json(struct line *l, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
}

/* s for a text line: control characters (a newline in a path, say) become
 * '?', so one record stays one line */
static void puts_text(struct line *l, const char *s)
{
    for (; *s; s++) {
        char c = (unsigned char)*s < 0x20 ? '?' : *s;
        put(l, &c, 1);
    }
}

static void timestamp(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* fields: pairs of key, value (value NULL: skipped), ended by a NULL key */
static void emit(enum log_level level, const char *request_id, const char *msg,
                 const char *const *fields)
{
    struct line l = {.len = 0};
    char ts[40];
    timestamp(ts, sizeof(ts));
    if (atomic_load(&current_format) == LOG_JSON) {
        puts_raw(&l, "{\"ts\":\"");
        puts_raw(&l, ts);
        puts_raw(&l, "\",\"level\":\"");
        puts_raw(&l, level_names[level]);
        puts_raw(&l, "\"");
        if (request_id) {
            puts_raw(&l, ",\"request_id\":\"");
            puts_json(&l, request_id);
            puts_raw(&l, "\"");
        }
        puts_raw(&l, ",\"msg\":\"");
        puts_json(&l, msg);
        puts_raw(&l, "\"");
        for (; fields && fields[0]; fields += 2) {
            if (!fields[1])
                continue;
            /* a key written "#name" holds a number: no quotes in JSON */
            bool number = fields[0][0] == '#';
            puts_raw(&l, ",\"");
            puts_raw(&l, fields[0] + number);
            puts_raw(&l, number ? "\":" : "\":\"");
            puts_json(&l, fields[1]);
            if (!number)
                puts_raw(&l, "\"");
        }
        puts_raw(&l, "}");
    } else {
        puts_raw(&l, ts);
        puts_raw(&l, " ");
        puts_raw(&l, level_names[level]);
        if (request_id) {
            puts_raw(&l, " [");
            puts_text(&l, request_id);
            puts_raw(&l, "]");
        }
        puts_raw(&l, " ");
        puts_text(&l, msg);
        for (; fields && fields[0]; fields += 2) {
            if (!fields[1])
                continue;
            puts_raw(&l, " ");
            puts_raw(&l, fields[0] + (fields[0][0] == '#'));
            puts_raw(&l, "=");
            puts_text(&l, fields[1]);
        }
    }
    l.buf[l.len++] = '\n';
    ssize_t unused = write(STDERR_FILENO, l.buf, l.len);
    (void)unused;
}

void log_msg(enum log_level level, const char *request_id, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit(level, request_id, msg, NULL);
}

void log_access(const char *request_id, const char *listener, const char *method, const char *path,
                int status, double millis, const char *peer)
{
    if (!log_enabled(LOG_INFO))
        return;
    char st[16], ms[32];
    snprintf(st, sizeof(st), "%d", status);
    snprintf(ms, sizeof(ms), "%.1f", millis);
    const char *fields[] = {"listener", listener, "method", method, "path", path,
                            "#status", st, "#ms", ms, "peer", peer, NULL, NULL};
    emit(LOG_INFO, request_id, "request", fields);
}

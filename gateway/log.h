/*
 * log.h - structured logging: one line per record on stderr, as text or JSON.
 *
 * A record has a level, a message and optional key=value fields; request
 * records carry the request id.  Nothing that is a secret is ever passed here:
 * callers log client ids and token ids (jti), never secrets or tokens.
 */
#ifndef VECDB_LOG_H
#define VECDB_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* the level below which records are dropped and the output format; both may
 * change at any time (SIGHUP) */
void log_configure(enum log_level level, enum log_format format);
int log_enabled(enum log_level level);

/* log_msg(level, request_id or NULL, fmt, ...): a record whose message is
 * the formatted text */
void log_msg(enum log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* one access-log record per HTTP request */
void log_access(const char *request_id, const char *listener, const char *method, const char *path,
                int status, double millis, const char *peer);

#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif

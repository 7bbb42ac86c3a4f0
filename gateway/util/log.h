/*
 * All log output of the gateway.  Lines are JSON objects, one per line, with
 * an RFC 3339 UTC timestamp; journald picks them up from stderr.  Whatever
 * bytes a message holds, the line stays one valid JSON object (no log
 * injection).  Never pass secrets (passwords, tokens, cookies, keys) here.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_format {
	LOG_FORMAT_JSON = 0,	/* serve: one JSON object per line */
	LOG_FORMAT_TEXT,	/* operator subcommands: "postern: message" */
};

void	log_init(enum log_level, enum log_format);
void	log_setlevel(enum log_level);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *);
const char	*log_level_name(enum log_level);

/* log_warn appends strerror(errno); all preserve errno. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A structured event: <level>, a stable <event> name (e.g. "request",
 * "reject"), then NULL-terminated pairs of key and string value.  Values are
 * escaped; a NULL value is written as JSON null.  The values of the keys
 * that always hold numbers (status, bytes_in, bytes_out, duration_ms,
 * upstream_ms, attempt, dropped, seq, smtp_code, port, retry_after) are
 * written as JSON numbers when they are one (a value that is not stays a
 * string: a key never changes type for a well-formed number).
 */
void	log_event(enum log_level, const char *event, ...);
void	log_eventv(enum log_level, const char *event, va_list);

/*
 * Append <s> (of <len> bytes) to <dst> (capacity <size>, current length
 * *<off>) as JSON string content: quotes, backslashes, control characters and
 * invalid UTF-8 are escaped.  Truncates safely; never overflows.
 */
void	log_json_escape(char *dst, size_t size, size_t *off, const char *s,
	    size_t len);

#endif

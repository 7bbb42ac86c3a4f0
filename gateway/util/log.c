/*
 * Log output: JSON lines (serve) or plain text (operator subcommands) on
 * stderr.  Each line is assembled in a local buffer and written with one
 * write(2), so lines from several worker threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

#include "log.h"
#include "reasons.h"

#define LOG_LINE_MAX	8192

static enum log_level	log_level = LOG_LEVEL_INFO;
static enum log_format	log_format = LOG_FORMAT_JSON;

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(enum log_level level, enum log_format format)
{
	log_level = level;
	log_format = format;
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

static void
log_putc(char *dst, size_t size, size_t *off, char c)
{
	if (*off + 1 < size)
		dst[(*off)++] = c;
	dst[*off < size ? *off : size - 1] = '\0';
}

/* Length of the valid UTF-8 sequence at <s>, or 0 if it is invalid. */
static size_t
log_utf8_len(const unsigned char *s, size_t len)
{
	size_t	n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void
log_json_escape(char *dst, size_t size, size_t *off, const char *s,
    size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char		 esc[8];
	size_t		 i, n, k;

	for (i = 0; i < len; i += n) {
		n = log_utf8_len(p + i, len - i);
		if (n > 1) {
			if (*off + n + 1 >= size)
				return;
			for (k = 0; k < n; k++)
				log_putc(dst, size, off, (char)p[i + k]);
			continue;
		}
		if (n == 0) {		/* invalid UTF-8: escape the byte */
			n = 1;
			(void)snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
		} else if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\', esc[1] = (char)p[i], esc[2] = '\0';
		} else if (p[i] == '\n') {
			(void)strcpy(esc, "\\n");
		} else if (p[i] == '\r') {
			(void)strcpy(esc, "\\r");
		} else if (p[i] == '\t') {
			(void)strcpy(esc, "\\t");
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
		} else {
			esc[0] = (char)p[i], esc[1] = '\0';
		}
		if (*off + strlen(esc) + 1 >= size)
			return;
		for (k = 0; esc[k] != '\0'; k++)
			log_putc(dst, size, off, esc[k]);
	}
}

static void
log_append(char *dst, size_t size, size_t *off, const char *s)
{
	while (*s != '\0')
		log_putc(dst, size, off, *s++);
}

static void
log_time(char *buf, size_t size)
{
	struct timeval	tv;
	struct tm	tm;
	size_t		n;

	(void)gettimeofday(&tv, NULL);
	(void)gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + n, size - n, ".%03ldZ", (long)tv.tv_usec / 1000);
}

static void
log_write(char *line, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		w = write(STDERR_FILENO, line, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		line += w;
		len -= (size_t)w;
	}
}

/* Start a JSON line with time, level and (optional) event name. */
static void
log_begin(char *line, size_t size, size_t *off, enum log_level level,
    const char *event)
{
	char	ts[40];

	log_time(ts, sizeof(ts));
	log_append(line, size, off, "{\"time\":\"");
	log_append(line, size, off, ts);
	log_append(line, size, off, "\",\"level\":\"");
	log_append(line, size, off, log_names[level]);
	log_append(line, size, off, "\"");
	if (event != NULL) {
		log_append(line, size, off, ",\"event\":\"");
		log_json_escape(line, size, off, event, strlen(event));
		log_append(line, size, off, "\"");
	}
}

static void
log_finish(char *line, size_t size, size_t *off)
{
	/* Always room for the closing brace and newline. */
	if (*off > size - 3)
		*off = size - 3;
	line[(*off)++] = '}';
	line[(*off)++] = '\n';
	log_write(line, *off);
}

static void	log_vmsg(enum log_level, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
log_vmsg(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char	msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
	size_t	off = 0;
	int	saved = errno;

	if (level > log_level)
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_format == LOG_FORMAT_TEXT) {
		if (suffix != NULL)
			(void)snprintf(line, sizeof(line), "postern: %s: %s\n",
			    msg, suffix);
		else
			(void)snprintf(line, sizeof(line), "postern: %s\n", msg);
		log_write(line, strlen(line));
		errno = saved;
		return;
	}
	log_begin(line, sizeof(line) - 2, &off, level, NULL);
	log_append(line, sizeof(line) - 2, &off, ",\"msg\":\"");
	log_json_escape(line, sizeof(line) - 2, &off, msg, strlen(msg));
	if (suffix != NULL) {
		log_append(line, sizeof(line) - 2, &off, ": ");
		log_json_escape(line, sizeof(line) - 2, &off, suffix,
		    strlen(suffix));
	}
	log_append(line, sizeof(line) - 2, &off, "\"");
	log_finish(line, sizeof(line), &off);
	errno = saved;
}

static int
log_key_cmp(const void *a, const void *b)
{
	return strcmp(a, *(const char *const *)b);
}

/*
 * Is <v> of key <k> written as a JSON number?  Only for keys that hold
 * numbers (sorted), and only if <v> is one: -?digits, then .digits, at
 * most 20 characters (no leading zero, exponent, sign '+', NaN).
 */
static int
log_numeric(const char *k, const char *v)
{
	static const char *const keys[] = { "attempt", "bytes_in",
	    "bytes_out", "dropped", "duration_ms", "port", "retry_after",
	    "seq", "smtp_code", "status", "upstream_ms" };
	const char	*p = v;

	if (bsearch(k, keys, sizeof(keys) / sizeof(keys[0]), sizeof(keys[0]),
	    log_key_cmp) == NULL || strlen(v) > 20)
		return 0;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	return *p == '\0';
}

void
log_eventv(enum log_level level, const char *event, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	const char	*k, *v, *unknown = NULL;
	size_t		 off = 0;
	int		 saved = errno;

	if (level > log_level)
		return;
	log_begin(line, sizeof(line) - 2, &off, level, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v != NULL && strcmp(k, "reason") == 0 && reason_unknown(v))
			unknown = v;
		log_append(line, sizeof(line) - 2, &off, ",\"");
		log_json_escape(line, sizeof(line) - 2, &off, k, strlen(k));
		if (v == NULL) {
			log_append(line, sizeof(line) - 2, &off, "\":null");
			continue;
		}
		if (log_numeric(k, v)) {
			log_append(line, sizeof(line) - 2, &off, "\":");
			log_append(line, sizeof(line) - 2, &off, v);
			continue;
		}
		log_append(line, sizeof(line) - 2, &off, "\":\"");
		log_json_escape(line, sizeof(line) - 2, &off, v, strlen(v));
		log_append(line, sizeof(line) - 2, &off, "\"");
	}
	log_finish(line, sizeof(line), &off);
	/* a code missing from reasons.def: a bug the tests look for */
	if (unknown != NULL)
		log_event(LOG_LEVEL_ERROR, "unknown_reason", "in", event,
		    "value", unknown, (const char *)NULL);
	errno = saved;
}

void
log_event(enum log_level level, const char *event, ...)
{
	va_list	ap;

	va_start(ap, event);
	log_eventv(level, event, ap);
	va_end(ap);
}

/* The level test comes first: log_vmsg() has a large stack frame. */
#define LOG_FN(name, level, suffix)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	if (level > log_level)					\
		return;						\
	va_start(ap, fmt);					\
	log_vmsg(level, suffix, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_warnx, LOG_LEVEL_WARN, NULL)
LOG_FN(log_error, LOG_LEVEL_ERROR, NULL)
LOG_FN(log_info, LOG_LEVEL_INFO, NULL)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, NULL)

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARN, strerror(errno), fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, strerror(errno), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

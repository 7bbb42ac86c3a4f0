/*
 * Collected diagnostics of configuration and policy files (see diag.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "log.h"

static void	diag_add(struct diag *, const char *, size_t, size_t, const char *,
		    const char *, va_list) __attribute__((format(printf, 6, 0)));

static void
diag_add(struct diag *d, const char *path, size_t line, size_t col,
    const char *kind, const char *fmt, va_list ap)
{
	char	 msg[512], **msgs, *s;
	int	 n;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		n = asprintf(&s, "%s:%zu:%zu: %s%s", path, line, col, kind, msg);
	else
		n = asprintf(&s, "%s: %s%s", path, kind, msg);
	if (n == -1) {
		d->nlost++;
		return;
	}
	msgs = reallocarray(d->msgs, d->nmsgs + 1, sizeof(*d->msgs));
	if (msgs == NULL) {
		free(s);
		d->nlost++;
		return;
	}
	d->msgs = msgs;
	d->msgs[d->nmsgs++] = s;
}

void
diag_error(struct diag *d, const char *path, size_t line, size_t col,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_add(d, path, line, col, "", fmt, ap);
	va_end(ap);
	d->nerrors++;
}

void
diag_warning(struct diag *d, const char *path, size_t line, size_t col,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_add(d, path, line, col, "warning: ", fmt, ap);
	va_end(ap);
	d->nwarnings++;
}

void
diag_print(const struct diag *d, FILE *fp)
{
	size_t	i;

	for (i = 0; i < d->nmsgs; i++)
		fprintf(fp, "%s\n", d->msgs[i]);
	if (d->nlost > 0)
		fprintf(fp, "%zu more message(s) lost: out of memory\n",
		    d->nlost);
}

void
diag_log(const struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->nmsgs; i++)
		log_event(strstr(d->msgs[i], ": warning: ") != NULL ?
		    LOG_LEVEL_WARN : LOG_LEVEL_ERROR, "config", "msg",
		    d->msgs[i], NULL);
	if (d->nlost > 0)
		log_event(LOG_LEVEL_ERROR, "config", "msg", "more messages "
		    "lost: out of memory", NULL);
}

void
diag_free(struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->nmsgs; i++)
		free(d->msgs[i]);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

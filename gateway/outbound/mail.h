/*
 * Outbound mail: one mailer per event loop sends templated messages over
 * SMTP with libcurl's multi-socket API, driven by that loop (never blocking
 * it).  Messages wait in a bounded queue, are retried with exponential
 * backoff and jitter, and are dropped only after the last attempt, with a
 * log event carrying a stable reason and the postern_mail_* metrics.
 * Bodies and variable values (links, tokens) are never logged.
 */
#ifndef POSTERN_MAIL_H
#define POSTERN_MAIL_H

#include <stddef.h>

struct config;
struct event_base;
struct mailer;
struct metrics;

/* One {{name}} of a template and its value (UTF-8, NUL-terminated). */
struct mail_var {
	const char	*name;
	const char	*value;
};

/*
 * Where a mailer reads the current configuration snapshot: returns it with
 * one reference that the mailer drops (config_unref) when the message
 * queued under it is done.  A message keeps the snapshot it started with
 * across a reload.
 */
typedef struct config	*(*mailer_config_fn)(void *arg);

/*
 * Told once per queued message when it is done: <ok> 1 when the SMTP
 * server accepted it, else 0 with a stable <reason> ("connect", "tls",
 * "auth", "timeout", "rejected", "tempfail", "other").  Runs from the
 * mailer's own event callback, never inside mailer_send(); it must not
 * free the mailer.
 */
typedef void		 (*mailer_done_fn)(void *arg, const char *msgid,
			    int ok, const char *reason);

#define MAILER_ONE_ATTEMPT	0x1	/* ignore mail.retries (mail test) */

/*
 * A mailer on <base>, counting into <metrics> (owned by the caller, which
 * outlives the mailer), reading the configuration through <getcfg>(<arg>).
 * Returns NULL when out of memory.  Free with mailer_free() before the
 * base; messages still queued then are dropped and the count is logged.
 */
struct mailer	*mailer_new(struct event_base *base, struct metrics *metrics,
		    mailer_config_fn getcfg, void *arg, int flags);
void		 mailer_free(struct mailer *);
void		 mailer_on_done(struct mailer *, mailer_done_fn fn, void *arg);

/*
 * Queue one message to <to> (an addr-spec, e.g. a@example.com) made from
 * template <template_name> (<name>.subject, .txt and .html of
 * mail.templates_dir) with <nvars> values.  Values are HTML-escaped in the
 * HTML part; a value that would put a line break (or any control
 * character) into the subject is refused, as is an address that is not a
 * plain addr-spec.  Returns 0 once queued (delivery is asynchronous), or
 * -1 when mail is not configured, the queue is full (mail.queue_max), the
 * template or a variable is missing, or the input was refused; the reason
 * is logged (never a value) and the caller answers 503 or says "mail is
 * not available".  <mailer> may be NULL (then -1).  Copies what it keeps.
 */
int		 mailer_send(struct mailer *mailer, const char *to,
		    const char *template_name, const struct mail_var *vars,
		    size_t nvars);

/* Messages queued and not yet done (sending, waiting or backing off). */
size_t		 mailer_queued(const struct mailer *);

/* 1 when <cfg> has a mail: section (mailer_send can succeed). */
int		 mail_configured(const struct config *cfg);

#endif

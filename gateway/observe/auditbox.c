/*
 * The audit outbox (see auditbox.h and docs/webhooks.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "audit.h"
#include "auditbox.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "webhook.h"
#include "worker.h"

#define AUDIT_OUTBOX_BATCH	100	/* lines per LPOP */
#define AUDIT_OUTBOX_PERIOD	1	/* s between polls */

/*
 * Worker 0 of each instance takes lines from the outbox (LPOP with a
 * count: each line goes to exactly one instance) once a second while its
 * configuration has webhooks, and hands them to its webhook queue.  An
 * instance without webhooks leaves them to one that has; none: they expire.
 */
struct audit_outbox {
	struct worker	*w;
	struct event	*timer;
	int		 busy;		/* an LPOP in flight */
};

static void	audit_outbox_poll(struct audit_outbox *);

static void
audit_outbox_on_pop(void *arg, const redisReply *reply, const char *err)
{
	struct audit_outbox	*ob = arg;
	struct config		*cfg;
	SSL_CTX			*ctx;
	char			 action[64];
	size_t			 i;

	ob->busy = 0;
	if (err != NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return;			/* nil: empty; errors: next tick */
	ob->w->srv->ops->snapshot(ob->w->srv, &cfg, &ctx);
	SSL_CTX_free(ctx);
	for (i = 0; i < reply->elements; i++) {
		const redisReply *e = reply->element[i];

		if (e->type != REDIS_REPLY_STRING || e->len >= AUDIT_LINEMAX ||
		    strlen(e->str) != e->len ||
		    audit_line_action(e->str, action, sizeof(action)) == -1) {
			log_event(LOG_LEVEL_WARN, "audit", "outcome",
			    "outbox_skipped", "reason", "malformed", NULL);
			continue;
		}
		webhook_dispatch(ob->w->webhooks, cfg, action, e->str);
	}
	config_unref(cfg);
	if (reply->elements == AUDIT_OUTBOX_BATCH)
		audit_outbox_poll(ob);	/* more waiting */
}

static void
audit_outbox_poll(struct audit_outbox *ob)
{
	struct worker	*w = ob->w;
	struct config	*cfg;
	SSL_CTX		*ctx;
	char		 ko[STORE_KEYLEN], n[16];
	size_t		 nwh;

	if (ob->busy || w->draining || w->store == NULL ||
	    !store_healthy(w->store))
		return;
	w->srv->ops->snapshot(w->srv, &cfg, &ctx);
	SSL_CTX_free(ctx);
	nwh = cfg->nwebhooks;
	config_unref(cfg);
	if (nwh == 0 || store_layout_key(ko, sizeof(ko),
	    store_prefix(w->store), AUDIT_KEY_OUTBOX) == -1)
		return;
	(void)snprintf(n, sizeof(n), "%d", AUDIT_OUTBOX_BATCH);
	if (store_command_argv(w->store, audit_outbox_on_pop, ob, 3,
	    (const char *[]){ "LPOP", ko, n }, NULL) == 0)
		ob->busy = 1;
}

static void
audit_outbox_on_timer(evutil_socket_t fd, short what, void *arg)
{
	audit_outbox_poll(arg);
}

struct audit_outbox *
audit_outbox_new(struct worker *w)
{
	struct audit_outbox	*ob;
	struct timeval		 tv = { AUDIT_OUTBOX_PERIOD, 0 };

	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		return NULL;
	ob->w = w;
	if ((ob->timer = event_new(w->base, -1, EV_PERSIST,
	    audit_outbox_on_timer, ob)) == NULL ||
	    event_add(ob->timer, &tv) == -1) {
		audit_outbox_free(ob);
		return NULL;
	}
	return ob;
}

void
audit_outbox_free(struct audit_outbox *ob)
{
	if (ob == NULL)
		return;
	if (ob->timer != NULL)
		event_free(ob->timer);
	free(ob);
}

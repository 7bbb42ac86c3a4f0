/*
 * The state of one request on a connection (see exchange.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "exchange.h"
#include "log.h"
#include "rcstr.h"
#include "worker.h"
#include "request.h"

static const char *const exchange_outcome_names[] = {
	[EXCHANGE_UNDECIDED] = "undecided",
	[EXCHANGE_FORWARD] = "forward",
	[EXCHANGE_ANSWER] = "answer",
	[EXCHANGE_READ_FORM] = "read_form",
};

const char *
exchange_outcome_name(enum exchange_outcome o)
{
	if ((size_t)o >= sizeof(exchange_outcome_names) /
	    sizeof(exchange_outcome_names[0]))
		return "?";
	return exchange_outcome_names[o];
}

/*
 * A broken promise of a flow: one error event; with assertions, the
 * message on stderr and abort(), so that every test run stops at it.
 */
static int
exchange_broken(const struct exchange *ex, const char *reason,
    const char *first, const char *second)
{
	log_event(LOG_LEVEL_ERROR, "exchange", "reason", reason,
	    "request_id", ex->request_id, "first", first, "second", second,
	    (const char *)NULL);
#ifndef NDEBUG
	(void)fprintf(stderr, "postern: request %s: %s (%s, then %s): "
	    "a flow must end in exactly one of forward, answer, read-form\n",
	    ex->request_id, reason, first, second);
	abort();
#endif
	return -1;
}

int
exchange_outcome_twice(struct exchange *ex, enum exchange_outcome o)
{
	return exchange_broken(ex, "outcome_twice",
	    exchange_outcome_name(ex->outcome), exchange_outcome_name(o));
}

int
exchange_outcome_missing(struct exchange *ex, const char *where)
{
	return exchange_broken(ex, "outcome_missing", where, "nothing");
}

int
exchange_keep_alive(const struct exchange *ex, int draining, int streaming)
{
	return ex->req != NULL && ex->req->keep_alive && !draining &&
	    (streaming || ex->body_done);
}

/* The identity and what was made of it; the identity is a flat struct. */
void
exchange_forget_identity(struct exchange *ex)
{
	if (ex->ident != NULL && ex->w != NULL &&
	    ex->w->nident_free < WORKER_IDENT_FREE)
		ex->w->ident_free[ex->w->nident_free++] = ex->ident;
	else
		free(ex->ident);
	ex->ident = NULL;
	rcstr_unref(ex->up.assertion_ref);
	memset(&ex->up, 0, sizeof(ex->up));
	ex->rate_checked = 0;
	ex->auth_kind = NULL;
	ex->tenant[0] = '\0';
	ex->tenant_role[0] = '\0';
}

void
exchange_end_request(struct exchange *ex)
{
	struct request_limits lim = { 0 };

	if (ex->req == NULL)
		return;
	if (ex->w != NULL && ex->w->nreq_free < WORKER_REQ_FREE) {
		request_reset(ex->req, &lim);	/* limits: set when reused */
		ex->w->req_free[ex->w->nreq_free++] = ex->req;
	} else
		request_free(ex->req);
	ex->req = NULL;
}

void
exchange_free_spares(struct worker *w)
{
	while (w->nident_free > 0)
		free(w->ident_free[--w->nident_free]);
	while (w->nreq_free > 0)
		request_free(w->req_free[--w->nreq_free]);
}

void
exchange_reset(struct exchange *ex)
{
	exchange_end_request(ex);
	ex->app = NULL;
	ex->fwd = ex->fwd_nginx = ex->fwd_head = 0;
	ex->fwd_host[0] = '\0';
	exchange_forget_identity(ex);
	ex->route = NULL;
	ex->deny_user[0] = '\0';
	ex->deny_file = NULL;
	ex->deny_line = 0;
	if (ex->form != NULL)
		evbuffer_free(ex->form);
	ex->form = NULL;
	ex->form_cb = NULL;
	ex->status = 0;
	ex->bytes = 0;
	ex->head_sent = 0;
	ex->seen_bytes = 0;
}

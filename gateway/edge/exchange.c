/*
 * The state of one request on a connection (see exchange.h).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "exchange.h"
#include "request.h"

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
	free(ex->ident);
	ex->ident = NULL;
	free(ex->up.assertion);
	memset(&ex->up, 0, sizeof(ex->up));
	ex->rate_checked = 0;
	ex->tenant[0] = '\0';
	ex->tenant_role[0] = '\0';
}

void
exchange_reset(struct exchange *ex)
{
	request_free(ex->req);
	ex->req = NULL;
	ex->app = NULL;
	exchange_forget_identity(ex);
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

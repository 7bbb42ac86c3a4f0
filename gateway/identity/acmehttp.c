/*
 * The HTTP-01 responder (see acmehttp.h).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "acme.h"
#include "acmehttp.h"
#include "acmejson.h"
#include "auth-int.h"
#include "client.h"
#include "encode.h"
#include "exchange.h"
#include "pages.h"
#include "plain.h"
#include "request.h"
#include "step.h"
#include "store.h"
#include "worker.h"

/* A pending lookup; owned by the store callback. */
struct acmehttp {
	struct auth_step step;
};

static void
acmehttp_release(struct auth_step *s)
{
	free(AUTH_STEP_STATE(s, struct acmehttp, step));
}

static void
acmehttp_on_reply(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*s = arg;
	struct exchange		*ex;
	struct pages_resp	 r = { .status = 404 };

	if ((ex = auth_step_reply(s, reply, err)) == NULL)
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len > 0 &&
	    (r.body = evbuffer_new()) != NULL) {
		(void)evbuffer_add(r.body, reply->str, reply->len);
		r.status = 200;
		r.body_type = "text/plain";
	}
	(void)auth_step_done(s);
	client_answer(ex, &r, r.status == 200 ? NULL : "acme_unknown_token");
	if (r.body != NULL)
		evbuffer_free(r.body);	/* its bytes were moved out */
}

void
acmehttp_serve(struct exchange *ex)
{
	const char	*token = ex->req->path + strlen(PLAIN_ACME_PREFIX);
	size_t		 n = strlen(token);
	char		 key[STORE_KEYLEN];
	struct acmehttp	*h;

	if (ex->req->method != HTTP_GET && ex->req->method != HTTP_HEAD) {
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET, HEAD\r\n" }, "method_not_allowed");
		return;
	}
	if (n == 0 || n > ACME_TOKEN_MAX ||
	    strspn(token, encode_b64url_chars) != n || ex->w->store == NULL ||
	    store_layout_key(key, sizeof(key), store_prefix(ex->w->store),
	    ACME_LAYOUT_HTTP01, token) == -1) {
		client_answer(ex, &(struct pages_resp){ .status = 404 },
		    "acme_unknown_token");
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 500 },
		    "nomem");
		return;
	}
	auth_step_start(&h->step, ex, ex->w->store, acmehttp_release);
	if (store_command(ex->w->store, acmehttp_on_reply, &h->step,
	    "GET %s", key) == -1)
		auth_step_unavailable(&h->step);
}

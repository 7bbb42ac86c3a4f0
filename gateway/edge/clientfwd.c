/*
 * Forward-auth mode on the edge (docs/forward-auth.md): on a listener with
 * mode: forward_auth, /.postern/auth becomes the original request a front
 * proxy describes and is decided as any request (client_app_request());
 * its answers go to the front proxy: 200 with the identity headers where
 * proxy mode would forward, redirects also in X-Postern-Location.  Part of
 * the client (client-int.h), with client.c and clientreq.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "client.h"
#include "client-int.h"
#include "exchange.h"
#include "idheaders.h"
#include "fwdreq.h"
#include "pages.h"
#include "request.h"
#include "worker.h"

/*
 * A forward-auth answer: to nginx without a body; with a redirect, its
 * target also in X-Postern-Location, and for nginx as 401
 * (fwdreq_status()).  *<buf>:
 * the header lines joined, for the caller to free (cleansed: a share
 * cookie may be among them).
 */
void
client_fwd_page(struct client *clt, struct pages_resp *r, char **buf)
{
	const char	*extra = r->extra != NULL ? r->extra : "";
	size_t		 len;

	/* nginx reads no body of a decision, and keeps its connection
	 * to the decision service only when there is none to skip */
	if (clt->ex.fwd_nginx)
		r->empty = 1;
	if (r->location == NULL)
		return;
	r->status = fwdreq_status(r->status, clt->ex.fwd_nginx);
	len = strlen(extra) + strlen(r->location) + 32;
	if ((*buf = malloc(len)) == NULL)
		return;		/* the Location alone */
	(void)snprintf(*buf, len, "%sX-Postern-Location: %s\r\n", extra,
	    r->location);
	r->extra = *buf;
}

/*
 * Header line "<name>: <v>" onto <b>, empty when <v> is NULL: every name
 * is in every answer, so that a front proxy copying them overwrites a
 * client's copy (Caddy 2.6's copy_headers sends its unresolved placeholder
 * for a name the answer lacks).
 */
static void
client_fwd_header(struct evbuffer *b, const char *name, const char *v)
{
	(void)evbuffer_add_printf(b, "%s: %s\r\n", name, v != NULL ? v : "");
}

/*
 * A forward-auth decision allows the request: 200 with the identity
 * headers proxy mode would send upstream (empty when anonymous), for the
 * front proxy to copy into the request it forwards, and no body (front
 * proxies read none from a 2xx).
 */
void
client_fwd_allow(struct client *clt)
{
	struct exchange_upstream *u = &clt->ex.up;
	struct pages_resp r = { .status = 200, .empty = 1 };
	struct evbuffer	*b;

	if (clt->ex.w->srv->ops->identify(&clt->ex) == -1 ||
	    (b = evbuffer_new()) == NULL) {
		client_local(clt, &(struct pages_resp){ .status = 503 },
		    "forward_identity");	/* never allowed unsigned */
		return;
	}
	client_fwd_header(b, "X-Postern-User", u->user);
	client_fwd_header(b, "X-Postern-Email", u->email);
	client_fwd_header(b, "X-Postern-Auth", u->auth);
	client_fwd_header(b, "X-Postern-Org", u->org);
	client_fwd_header(b, "X-Postern-Role", u->role);
	client_fwd_header(b, "X-Postern-Assertion", u->assertion);
	(void)idheaders_write(b, clt->ex.app, u, 1);
	if (evbuffer_add(b, "", 1) == 0 &&
	    (r.extra = (const char *)evbuffer_pullup(b, -1)) != NULL)
		client_local(clt, &r, NULL);
	else
		client_local(clt, &(struct pages_resp){ .status = 503 },
		    "nomem");
	evbuffer_free(b);
}

/*
 * GET /.postern/auth on a forward-auth listener: the request becomes the
 * original one the front proxy describes (fwdreq.h), believed only from a
 * trusted proxy, and is decided exactly as in proxy mode; the answer
 * goes to the front proxy (client_fwd_allow(), client_fwd_page()).  The
 * body, if any, is never read: the answer closes the connection then.
 */
static void
client_fwd_decide(struct client *clt)
{
	struct request	*req = clt->ex.req;
	struct fwdreq	 f;
	const char	*reason;

	if (!clt->ex.trusted) {
		client_local(clt, &(struct pages_resp){ .status = 403 },
		    "forward_untrusted");
		return;
	}
	if (fwdreq_read(req, &f, &reason) == -1) {
		client_local(clt, &(struct pages_resp){ .status = 400 },
		    reason);
		return;
	}
	(void)snprintf(clt->ex.fwd_host, sizeof(clt->ex.fwd_host), "%s",
	    f.host != NULL ? f.host : "");
	clt->ex.fwd_head = req->method == HTTP_HEAD;
	clt->ex.fwd = 1;	/* its answers are the front proxy's */
	if (request_retarget(req, f.method, f.host, f.uri) == -1) {
		client_local(clt, &(struct pages_resp){ .status =
		    req->status }, req->reason);
		return;
	}
	clt->ex.fwd_nginx = f.nginx;
	clt->ex.secure = f.https == -1 ? clt->ex.tls : f.https;
	if (client_reserved(req->path)) {	/* the front proxy's to route */
		client_local(clt, &(struct pages_resp){ .status = 404 },
		    "forward_reserved");
		return;
	}
	client_app_request(clt);
}

/*
 * A forward-auth listener: 1 if the request was answered here (the
 * decision endpoint, or 404 for an app path), 0 for the gateway's pages,
 * served as on a proxy listener for the app of the Host header, which the
 * front proxy must pass on: an X-Forwarded-Host from a trusted proxy
 * that names another host is refused (the CSRF check reads Host too).
 */
int
client_fwd_route(struct client *clt)
{
	struct request	*req = clt->ex.req;
	const char	*host = NULL;

	if (strcmp(req->path, FWDREQ_PATH) == 0) {
		client_fwd_decide(clt);
		return 1;
	}
	if (!client_reserved(req->path)) {
		client_local(clt, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if (clt->ex.trusted && (fwdreq_host(req, &host) == -1 ||
	    (host != NULL && (request_header(req, "host") == NULL ||
	    strcasecmp(host, request_header(req, "host")) != 0)))) {
		client_local(clt, &(struct pages_resp){ .status = 400 },
		    "forward_conflict");
		return 1;
	}
	return 0;
}

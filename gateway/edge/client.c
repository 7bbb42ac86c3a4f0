/*
 * Downstream connections (see client.h).  The stage lives in clt->state and
 * changes only in client_set_state(), which also sets what is read and the
 * timeouts that apply.  Objects are freed by the reaper event, never while
 * one of their callbacks may be on the stack.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "client.h"
#include "config.h"
#include "conn.h"
#include "connlimit.h"
#include "encode.h"
#include "form.h"
#include "log.h"
#include "pages.h"
#include "plain.h"
#include "proxy.h"
#include "proxyhead.h"
#include "request.h"
#include "store.h"
#include "serve.h"
#include "timeutil.h"

#define CLIENT_LINGER_MS	2000
#define CLIENT_MS_UNSET		UINT64_MAX	/* conn timeouts not known */

static void	client_on_read(struct conn *, void *);
static void	client_on_write(struct conn *, void *);
static void	client_on_event(struct conn *, short, void *);
static void	client_on_reap(evutil_socket_t, short, void *);
static void	client_on_head_timeout(evutil_socket_t, short, void *);
static void	client_form_free(struct client *);
static void	client_on_next(evutil_socket_t, short, void *);

static const char *const client_state_names[] = {
	[CLIENT_READ_HEAD] = "read_head",
	[CLIENT_DECIDE] = "decide",
	[CLIENT_FORWARD] = "forward",
	[CLIENT_RESPOND] = "respond",
	[CLIENT_IDLE] = "idle",
	[CLIENT_CLOSING] = "closing",
	[CLIENT_TUNNEL] = "tunnel",
};

/* Reading and its timeout follow the state: see enum client_state. */
static void
client_set_state(struct client *clt, enum client_state st)
{
	const struct config *cfg = clt->cfg;
	struct timeval	 rtv, wtv, *r = NULL;
	uint64_t	 ms;
	int		 rd = 0;

	log_debug("client %" PRIu64 ": %s -> %s", clt->id,
	    client_state_names[clt->state], client_state_names[st]);
	clt->state = st;
	switch (st) {
	case CLIENT_READ_HEAD:
		r = timeutil_timeout(&rtv, cfg->header_timeout);
		rd = 1;
		break;
	case CLIENT_IDLE:
		r = timeutil_timeout(&rtv, cfg->idle_timeout);
		rd = 1;
		break;
	case CLIENT_FORWARD:
	case CLIENT_RESPOND:
		/*
		 * Reading stays on once the body is in, without a timeout:
		 * turning it off and on again cost two epoll_ctl() calls per
		 * request.  A pipelined request waits in the input (bounded
		 * by the watermark); a close aborts the request, as in nginx.
		 */
		r = clt->body_done ? NULL : timeutil_timeout(&rtv,
		    cfg->body_timeout);
		rd = 1;
		break;
	case CLIENT_DECIDE:
		/* Reading stays on, as in CLIENT_FORWARD; bytes wait. */
		rd = 1;
		break;
	case CLIENT_TUNNEL:		/* idle: proxy.c's tunnel timer */
		rd = 1;
		break;
	case CLIENT_CLOSING:
		if (clt->lingering) {
			r = timeutil_timeout(&rtv, CLIENT_LINGER_MS);
			rd = 1;
		}
		break;
	}
	/*
	 * Most steps of a request (decide, forward, respond) change neither
	 * the timeouts nor reading; each call below re-adds the events (a
	 * lock and a timer-queue update), so only make it on a change.
	 */
	ms = r == NULL ? 0 : timeutil_ms(r);
	if (ms == clt->read_ms && rd == ((conn_enabled(clt->conn) &
	    EV_READ) != 0))
		return;
	clt->read_ms = ms;
	conn_set_timeouts(clt->conn, r,
	    timeutil_timeout(&wtv, cfg->body_timeout));
	if (rd)
		conn_enable(clt->conn, EV_READ);
	else
		conn_disable(clt->conn, EV_READ);
}

int
client_trusted(const struct config *cfg, const struct sockaddr *sa)
{
	const unsigned char *a;
	size_t		 i, len;
	unsigned int	 bits, full;
	int		 fam = sa->sa_family;

	if (fam == AF_INET) {
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = 4;
	} else if (fam == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		len = 16;
	} else
		return 0;
	for (i = 0; i < cfg->ntrusted_proxies; i++) {
		const struct config_cidr *c = &cfg->trusted_proxies[i];

		if (c->family != fam || c->bits > len * 8)
			continue;
		bits = c->bits;
		full = bits / 8;
		if (memcmp(a, c->addr, full) != 0)
			continue;
		if (bits % 8 != 0 && ((a[full] ^ c->addr[full]) &
		    (0xff << (8 - bits % 8)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}

static void
client_peer(struct client *clt, const struct sockaddr *sa)
{
	const void	*a = NULL;

	clt->peer_sa.ss_family = AF_UNSPEC;
	if (sa->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		memcpy(&clt->peer_sa, sa, sizeof(struct sockaddr_in));
	} else if (sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		memcpy(&clt->peer_sa, sa, sizeof(struct sockaddr_in6));
	}
	if (a == NULL || inet_ntop(sa->sa_family, a, clt->peer,
	    sizeof(clt->peer)) == NULL)
		(void)snprintf(clt->peer, sizeof(clt->peer), "unix");
}

/*
 * Take the current configuration snapshot if a reload has swapped it since
 * <clt>'s: called between requests only (nothing of the request, no app or
 * identity, points into the old one), so that each request is decided with
 * the rules current when its head arrives.  The old snapshot is freed when
 * its last holder lets it go (config_unref()).
 */
static void
client_config_refresh(struct client *clt)
{
	struct server	*srv = clt->w->srv;
	struct config	*cfg;

	if (clt->cfg_gen == atomic_load(&srv->cfg_gen))
		return;
	cfg = serve_config(srv, &clt->cfg_gen);
	config_unref(clt->cfg);
	clt->cfg = cfg;
	clt->trusted = client_trusted(cfg,
	    (const struct sockaddr *)&clt->peer_sa);
}

void
client_reload(struct client *clt)
{
	if (clt->dead || clt->req != NULL)
		return;		/* busy: at its next request */
	if (clt->state == CLIENT_IDLE || clt->state == CLIENT_READ_HEAD) {
		client_config_refresh(clt);
		clt->read_ms = CLIENT_MS_UNSET;	/* the new timeouts */
		client_set_state(clt, clt->state);
	}
}

/*
 * header_timeout, counted from the start of each request head.  The timer
 * is not moved per request (two timer-heap updates each): the deadline is
 * kept here, the timer armed only when it is not pending, and when it fires
 * before the deadline (a later request moved it) it is armed for the rest.
 */
static void
client_head_arm(struct client *clt)
{
	uint64_t	ms = clt->cfg->header_timeout ? clt->cfg->header_timeout :
			    30000;
	struct timeval	tv;

	clt->head_deadline = timeutil_coarse_ms() + ms;
	if (!evtimer_pending(clt->head_timer, NULL))
		(void)evtimer_add(clt->head_timer, timeutil_timeout(&tv, ms));
}

struct client *
client_new(struct worker *w, struct conn *conn, struct config *cfg,
    const struct sockaddr *sa, int tls, int plain_redirect,
    uint16_t https_port)
{
	struct client	*clt;

	if ((clt = calloc(1, sizeof(*clt))) == NULL)
		return NULL;
	clt->reaper = event_new(w->base, -1, 0, client_on_reap, clt);
	clt->head_timer = evtimer_new(w->base, client_on_head_timeout, clt);
	clt->next = event_new(w->base, -1, 0, client_on_next, clt);
	if (clt->reaper == NULL || clt->head_timer == NULL ||
	    clt->next == NULL) {
		if (clt->reaper != NULL)
			event_free(clt->reaper);
		if (clt->head_timer != NULL)
			event_free(clt->head_timer);
		if (clt->next != NULL)
			event_free(clt->next);
		free(clt);
		return NULL;
	}
	clt->w = w;
	clt->id = ++w->next_client_id * 1000 + w->id;
	clt->cfg = cfg;
	clt->conn = conn;
	clt->tls = tls;
	clt->plain_redirect = plain_redirect;
	clt->https_port = https_port;
	clt->read_ms = CLIENT_MS_UNSET;	/* the listener set its own */
	clt->trusted = client_trusted(cfg, sa);
	client_peer(clt, sa);
	TAILQ_INSERT_TAIL(&w->clients, clt, entry);
	w->nclients++;
	atomic_fetch_add(&w->srv->metrics.connections_open, 1);
	metrics_inc(&w->metrics.connections_total);
	conn_setcb(conn, client_on_read, client_on_write,
	    client_on_event, clt);
	conn_setwatermark(conn, EV_READ, 0, CLIENT_HIWAT);
	conn_setwatermark(conn, EV_WRITE, CLIENT_HIWAT / 2, 0);
	conn_enable(conn, EV_WRITE);
	clt->state = CLIENT_IDLE;
	client_set_state(clt, CLIENT_READ_HEAD);
	client_head_arm(clt);
	log_debug("client %" PRIu64 ": accepted from %s%s", clt->id,
	    clt->peer, tls ? " (tls)" : "");
	return clt;
}

void
client_close(struct client *clt, const char *reason)
{
	if (clt == NULL || clt->dead)
		return;
	clt->dead = 1;
	clt->state = CLIENT_CLOSING;
	log_debug("client %" PRIu64 ": closed: %s", clt->id, reason);
	if (clt->px != NULL) {		/* cut both ends of the link */
		proxy_close(clt->px);
		clt->px = NULL;
	}
	auth_detach(clt);		/* a Redis or hash reply may come */
	(void)evtimer_del(clt->head_timer);
	conn_disable(clt->conn, EV_READ | EV_WRITE);
	event_active(clt->reaper, EV_TIMEOUT, 0);
}

static void
client_new_id(struct client *clt)
{
	static const unsigned char zero[16];
	struct worker	*w = clt->w;
	const unsigned char *b = zero;

	if (w->idrand_off == 0 || w->idrand_off + 16 > sizeof(w->idrand)) {
		w->idrand_off = 0;
		if (RAND_bytes(w->idrand, sizeof(w->idrand)) != 1)
			log_warnx("client %" PRIu64 ": RAND_bytes failed",
			    clt->id);	/* zeros, and a new try next time */
		else
			w->idrand_off = 16;
	} else
		w->idrand_off += 16;
	if (w->idrand_off != 0)
		b = w->idrand + w->idrand_off - 16;
	encode_hex(b, 16, clt->request_id);
	(void)clock_gettime(CLOCK_MONOTONIC, &clt->start);
	clt->decision = METRICS_ALLOW;
	clt->up_started = 0;
	clt->upstream_us = -1;
}

static uint64_t
client_usec_since(const struct timespec *t0)
{
	struct timespec	now;
	int64_t		us;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

/* The upstream answered (or failed): how long it took, once. */
static void
client_upstream_time(struct client *clt)
{
	if (clt->up_started && clt->upstream_us < 0)
		clt->upstream_us = (int64_t)client_usec_since(&clt->up_start);
}

/* Milliseconds with three decimals, from microseconds. */
static const char *
client_ms(char *buf, size_t size, uint64_t us)
{
	(void)snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, us / 1000,
	    us % 1000);
	return buf;
}

/* The deciding rule of a policy 403 as "file:line" in <buf>, or NULL. */
static const char *
client_rule(const struct client *clt, char *buf, size_t size)
{
	if (clt->deny_line == 0 || clt->deny_file == NULL)
		return NULL;
	(void)snprintf(buf, size, "%s:%zu", clt->deny_file, clt->deny_line);
	return buf;
}

/*
 * One access-log line per request ("request"; "reject" with the <reason>
 * when refused or failed), and the request's metrics.  The path is the
 * normalised one without the query: tokens travel in query strings.
 */
static void
client_log(struct client *clt, const char *reason)
{
	struct request	*req = clt->req;
	int		 status = clt->status ? clt->status : 499;
	uint64_t	 us = client_usec_since(&clt->start);
	char		 st[8], in[24], out[24], ms[32], up[32], rule[320];

	metrics_request(&clt->w->metrics, status,
	    (enum metrics_decision)clt->decision, us);
	if (reason != NULL && clt->decision == METRICS_DENY)
		metrics_inc(&clt->w->metrics.rejects);
	if (reason == NULL && !clt->cfg->access_log)
		return;
	(void)snprintf(st, sizeof(st), "%d", status);
	(void)snprintf(in, sizeof(in), "%" PRIu64,
	    req != NULL ? req->body_bytes : 0);
	(void)snprintf(out, sizeof(out), "%" PRIu64, clt->bytes);
	log_event(reason != NULL ? LOG_LEVEL_WARN : LOG_LEVEL_INFO,
	    reason != NULL ? "reject" : "request",
	    "request_id", clt->request_id, "client", clt->peer,
	    "method", req != NULL && req->head_done ? req->method_name : NULL,
	    "host", req != NULL ? req->host : NULL,
	    "path", req != NULL ? req->path : NULL,
	    "status", st, "bytes_in", in, "bytes_out", out,
	    "duration_ms", client_ms(ms, sizeof(ms), us),
	    "upstream_ms", clt->upstream_us < 0 ? NULL :
	    client_ms(up, sizeof(up), (uint64_t)clt->upstream_us),
	    "decision", metrics_decision_name(
	    (enum metrics_decision)clt->decision),
	    "app", clt->app != NULL ? clt->app->name : NULL,
	    "reason", reason,
	    /* a policy 403 adds its user and rule; else the pairs end here */
	    clt->deny_line > 0 || clt->deny_user[0] != '\0' ? "user" : NULL,
	    clt->deny_user[0] != '\0' ? clt->deny_user : NULL,
	    "rule", client_rule(clt, rule, sizeof(rule)), (const char *)NULL);
}

/* Answer the current request ourselves with <r> (status etc. set). */
static void
client_send_page(struct client *clt, struct pages_resp *r)
{
	struct request	*req = clt->req;
	long		 n;

	r->request_id = clt->request_id;
	r->html = req != NULL && pages_wants_html(
	    request_header(req, "accept"));
	r->head_only = req != NULL && req->head_done &&
	    req->method == HTTP_HEAD;
	r->headers = clt->cfg->page_headers;
	r->tls = clt->tls;
	r->keep_alive = clt->keep_alive;
	clt->status = r->status;
	clt->head_sent = 1;
	if ((n = pages_send(conn_output(clt->conn), r)) > 0)
		clt->bytes = (uint64_t)n;
}

/* The current request is over: log it, then next request or close. */
static void
client_finish(struct client *clt, const char *reason)
{
	client_log(clt, reason);
	clt->deny_user[0] = '\0';
	clt->deny_file = NULL;
	clt->deny_line = 0;
	request_free(clt->req);
	clt->req = NULL;
	clt->app = NULL;
	auth_reset(clt);
	client_form_free(clt);
	clt->status = 0;
	clt->bytes = 0;
	clt->head_sent = 0;
	clt->seen_bytes = 0;
	if (!clt->keep_alive || !clt->body_done || clt->w->draining) {
		client_close_after_flush(clt);
		return;
	}
	client_set_state(clt, CLIENT_IDLE);
	/* A pipelined request may wait in the input: next loop turn. */
	if (evbuffer_get_length(conn_input(clt->conn)) > 0)
		event_active(clt->next, EV_TIMEOUT, 0);
}

/* Refuse the request: one reject event, an error page, then close. */
void
client_refuse(struct client *clt, int status, const char *reason)
{
	struct pages_resp r = { .status = status };

	/* Only TRACE and CONNECT are refused by method before any route is
	 * known (RFC 9110 15.5.6: a 405 says what is supported instead). */
	if (status == 405)
		r.extra = "Allow: GET, HEAD, POST, PUT, PATCH, DELETE, "
		    "OPTIONS\r\n";
	if (clt->request_id[0] == '\0' || clt->req == NULL ||
	    !clt->req->head_done)
		client_new_id(clt);
	clt->keep_alive = 0;
	clt->body_done = 0;	/* unread input: linger before closing */
	clt->decision = METRICS_DENY;
	client_send_page(clt, &r);
	client_finish(clt, reason);
}

static void
client_form_free(struct client *clt)
{
	if (clt->form != NULL)
		evbuffer_free(clt->form);
	clt->form = NULL;
	clt->form_cb = NULL;
}

/* A local answer to a well-formed request; the connection may stay. */
static void
client_local(struct client *clt, struct pages_resp *r, const char *reason)
{
	clt->body_done = !request_has_body(clt->req) || clt->req->complete;
	clt->keep_alive = clt->req->keep_alive && clt->body_done &&
	    !clt->w->draining;
	clt->decision = reason != NULL ? METRICS_DENY : METRICS_ALLOW;
	client_send_page(clt, r);
	client_finish(clt, reason);
}

void
client_answer(struct client *clt, struct pages_resp *r, const char *reason)
{
	if (clt->dead || clt->req == NULL || clt->state != CLIENT_DECIDE)
		return;
	client_local(clt, r, reason);
}

/* Move form body bytes in; call the form's callback once it is whole. */
static void
client_pump_form(struct client *clt)
{
	struct evbuffer	*in = conn_input(clt->conn);
	void		(*cb)(struct client *, struct evbuffer *);

	switch (request_parse_body(clt->req, in, clt->form, SIZE_MAX)) {
	case REQUEST_MORE:
		return;
	case REQUEST_ERROR:
		client_refuse(clt, clt->req->status, clt->req->reason);
		return;
	case REQUEST_DONE:
		cb = clt->form_cb;
		clt->form_cb = NULL;
		clt->body_done = 1;
		cb(clt, clt->form);
		return;
	}
}

void
client_read_form(struct client *clt, size_t max,
    void (*cb)(struct client *, struct evbuffer *))
{
	struct request	*req = clt->req;
	struct timeval	 tv, tv2;

	if (!form_content_type_ok(request_header(req, "content-type"))) {
		client_refuse(clt, 415, "form_content_type");
		return;
	}
	if (req->chunked) {
		client_refuse(clt, 411, "form_chunked");
		return;
	}
	if (req->has_length && req->content_length > max) {
		client_refuse(clt, 413, "form_too_large");
		return;
	}
	if ((clt->form = evbuffer_new()) == NULL) {
		client_refuse(clt, 503, "nomem");
		return;
	}
	clt->form_cb = cb;
	if (request_has_body(req) && !req->complete) {
		/* Reading stays off while deciding: on for the body only. */
		conn_set_timeouts(clt->conn, timeutil_timeout(&tv,
		    clt->cfg->body_timeout), timeutil_timeout(&tv2,
		    clt->cfg->body_timeout));
		clt->read_ms = CLIENT_MS_UNSET;
		conn_enable(clt->conn, EV_READ);
	}
	if (!request_has_body(req) || req->complete) {
		clt->form_cb = NULL;
		cb(clt, clt->form);
		return;
	}
	if (req->expect_continue)
		(void)evbuffer_add(conn_output(clt->conn),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	client_pump_form(clt);
}

/* Under /.postern/: built-in endpoints, bound to the path on every host. */
static void
client_builtin(struct client *clt)
{
	struct pages_resp r = { .status = 404 };

	if (strcmp(clt->req->path, "/.postern/health") == 0) {
		/* Degraded, not down: public routes still work without
		 * Redis, so a load balancer should keep sending traffic. */
		r.status = 200;
		r.json = clt->cfg->needs_redis && clt->w->store != NULL &&
		    !store_healthy(clt->w->store) ?
		    "{\"status\":\"degraded\",\"redis\":\"down\"}" :
		    "{\"status\":\"ok\"}";
		client_local(clt, &r, NULL);
		return;
	}
	if (auth_builtin(clt))
		return;
	client_local(clt, &r, NULL);
}

/*
 * Plain HTTP, not from a TLS-terminating trusted proxy: browsers (Accept:
 * text/html, GET or HEAD) go to the same, configured, host over HTTPS; an
 * unknown host gets 421, never a redirect; anything else gets an error,
 * since a redirect would teach API clients to send secrets in clear first.
 * <redirect>: 0 on a listener with redirect: false (an error only).
 */
static void
client_https_redirect(struct client *clt, int redirect)
{
	struct request	*req = clt->req;
	struct pages_resp r = { .status = 403 };
	char		 loc[4096];

	if (redirect && pages_wants_html(request_header(req, "accept")) &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		if (plain_location(clt->cfg, req, clt->https_port, loc,
		    sizeof(loc)) == -1) {
			client_local(clt, &(struct pages_resp){
			    .status = 421 }, "https_unknown_host");
			return;
		}
		r.status = 301;
		r.location = loc;
		client_local(clt, &r, NULL);
		return;
	}
	r.json = "{\"error\":\"https_required\"}";
	clt->req->keep_alive = 0;
	client_local(clt, &r, "https_required");
}

/*
 * A request in clear (see plain.h): answer it here and return 1, or
 * return 0 to let it through (health; app paths on a listener that
 * serves plain HTTP, where auth_decide() accepts no credential).
 */
static int
client_cleartext(struct client *clt)
{
	switch (plain_path_kind(clt->req->path)) {
	case PLAIN_PATH_ACME:	/* reserved for ACME http-01, before all */
		client_local(clt, &(struct pages_resp){ .status = 404 },
		    NULL);
		return 1;
	case PLAIN_PATH_HEALTH:
		return 0;
	case PLAIN_PATH_GATEWAY:
		client_https_redirect(clt, clt->plain_redirect);
		return 1;
	case PLAIN_PATH_APP:
		break;
	}
	if (!clt->plain_redirect)
		return 0;
	client_https_redirect(clt, 1);
	return 1;
}

static void
client_forward(struct client *clt)
{
	struct request	*req = clt->req;

	clt->body_done = !request_has_body(req) || req->complete;
	if (req->expect_continue && !clt->body_done)
		(void)evbuffer_add(conn_output(clt->conn),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	(void)clock_gettime(CLOCK_MONOTONIC, &clt->up_start);
	clt->up_started = 1;
	if ((clt->px = proxy_new(clt, clt->app)) == NULL) {
		client_upstream_failed(clt, 502, "upstream_connect");
		return;
	}
	client_set_state(clt, CLIENT_FORWARD);
	if (!clt->body_done)
		proxy_pump_body(clt->px);	/* body bytes may be here */
}

void
client_resume(struct client *clt, enum client_verdict v, int status)
{
	if (clt->dead || clt->state != CLIENT_DECIDE)
		return;
	switch (v) {
	case CLIENT_ALLOW:
		client_forward(clt);
		break;
	case CLIENT_DENY:
	case CLIENT_PENDING:
		client_local(clt, &(struct pages_resp){ .status = status },
		    "policy_deny");
		break;
	}
}

/*
 * The request head is in: route it.  This is the seam for the policy
 * engine: a check that needs Redis returns CLIENT_PENDING here and calls
 * client_resume() from its reply callback (unlinked on client_close()).
 */
static void
client_decide(struct client *clt)
{
	struct request	*req = clt->req;

	client_set_state(clt, CLIENT_DECIDE);
	clt->secure = clt->tls || (clt->trusted &&
	    plain_forwarded_https(req));
	if (!clt->secure && client_cleartext(clt))
		return;
	if (strncmp(req->path, "/.postern/", 10) == 0 ||
	    strcmp(req->path, "/.postern") == 0) {
		client_builtin(clt);
		return;
	}
	clt->app = config_app_for_host(clt->cfg,
	    req->host != NULL ? req->host : "");
	if (clt->app == NULL) {
		client_local(clt, &(struct pages_resp){ .status = 421 },
		    "unknown_host");
		return;
	}
	proxyhead_log_spoof(clt);
	if (auth_decide(clt) == AUTH_PENDING)
		return;
	client_resume(clt, CLIENT_ALLOW, 0);
}

static void
client_read_head(struct client *clt)
{
	struct evbuffer	*in = conn_input(clt->conn);
	struct request_limits lim;
	enum request_result r;

	if (evbuffer_get_length(in) > 0)
		clt->seen_bytes = 1;
	if (clt->req == NULL) {
		client_config_refresh(clt);
		request_limits_from(&lim, clt->cfg);
		if ((clt->req = request_new(&lim)) == NULL) {
			client_close(clt, "out of memory");
			return;
		}
	}
	if ((r = request_parse_head(clt->req, in)) == REQUEST_MORE)
		return;
	clt->head_deadline = 0;		/* the timer finds nothing due */
	client_config_refresh(clt);	/* a reload while the head came */
	client_new_id(clt);
	if (r == REQUEST_ERROR) {
		client_refuse(clt, clt->req->status, clt->req->reason);
		return;
	}
	client_decide(clt);
}

static void
client_on_read(struct conn *conn, void *arg)
{
	struct client	*clt = arg;

	switch (clt->state) {
	case CLIENT_IDLE:
		client_set_state(clt, CLIENT_READ_HEAD);
		client_head_arm(clt);
		__attribute__((fallthrough));	/* FALLTHROUGH */
	case CLIENT_READ_HEAD:
		client_read_head(clt);
		break;
	case CLIENT_FORWARD:
	case CLIENT_RESPOND:
		if (clt->px != NULL && !clt->body_done)
			proxy_pump_body(clt->px);
		break;
	case CLIENT_TUNNEL:
		if (clt->px != NULL)
			proxy_tunnel_pump(clt->px);
		break;
	case CLIENT_CLOSING:
		(void)evbuffer_drain(conn_input(conn),
		    evbuffer_get_length(conn_input(conn)));
		break;
	case CLIENT_DECIDE:
		if (clt->form_cb != NULL)
			client_pump_form(clt);
		break;
	}
}

static void
client_on_next(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*clt = arg;

	if (!clt->dead && clt->state == CLIENT_IDLE)
		client_on_read(clt->conn, clt);
}

static void
client_on_head_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*clt = arg;
	uint64_t	 now = timeutil_coarse_ms();
	struct timeval	 tv;

	if (clt->dead || clt->state != CLIENT_READ_HEAD ||
	    clt->head_deadline == 0)
		return;
	if (now < clt->head_deadline) {	/* moved since: the rest of it */
		(void)evtimer_add(clt->head_timer, timeutil_timeout(&tv,
		    clt->head_deadline - now));
		return;
	}
	if (!clt->seen_bytes)
		client_close(clt, "no request");
	else
		client_refuse(clt, 408, "header_timeout");
}

void
client_close_after_flush(struct client *clt)
{
	if (clt->dead)
		return;
	if (clt->px != NULL) {
		proxy_close(clt->px);
		clt->px = NULL;
	}
	(void)evtimer_del(clt->head_timer);
	client_set_state(clt, CLIENT_CLOSING);
	conn_setwatermark(clt->conn, EV_WRITE, 0, 0);
	if (evbuffer_get_length(conn_output(clt->conn)) == 0)
		client_on_write(clt->conn, clt);
}

static void
client_on_write(struct conn *conn, void *arg)
{
	struct client	*clt = arg;
	SSL		*ssl;

	if (clt->dead)
		return;
	if (clt->state != CLIENT_CLOSING) {
		if (clt->px != NULL)
			proxy_resume(clt->px);
		return;
	}
	if (evbuffer_get_length(conn_output(conn)) > 0 ||
	    clt->lingering)
		return;
	if (clt->body_done) {
		client_close(clt, "done");
		return;
	}
	/*
	 * The client may still be sending a body we refused: read and drop
	 * it for a moment, so that closing does not reset the connection
	 * before it has read our answer (nginx's lingering_close).
	 */
	clt->lingering = 1;
	client_set_state(clt, CLIENT_CLOSING);
	/* Our side is done: tell the client now, keep reading a moment. */
	if (clt->tls && (ssl = conn_ssl(conn)) != NULL)
		(void)SSL_shutdown(ssl);
	(void)shutdown(conn_fd(conn), SHUT_WR);
	(void)evbuffer_drain(conn_input(conn),
	    evbuffer_get_length(conn_input(conn)));
}

/*
 * Did the TLS handshake fail, on a TLS error?  A peer that connects and
 * closes without a word (port probes, health checks) shows up in
 * OpenSSL 3 as an "unexpected EOF": not a handshake failure.
 */
static int
client_tls_failed(struct conn *conn)
{
	SSL		*ssl = conn_ssl(conn);
	unsigned long	 e;
	int		 failed = 0;

	if (ssl == NULL || SSL_is_init_finished(ssl))
		return 0;
	while ((e = conn_ssl_error(conn)) != 0)
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&	/* not libevent's */
		    ERR_GET_REASON(e) != SSL_R_UNEXPECTED_EOF_WHILE_READING)
			failed = 1;
	return failed;
}

static void
client_on_event(struct conn *conn, short events, void *arg)
{
	struct client	*clt = arg;

	if (events & CONN_EV_CONNECTED)
		return;
	if (clt->tls && (events & CONN_EV_ERROR) && client_tls_failed(conn))
		metrics_inc(&clt->w->metrics.tls_handshake_failures);
	if (clt->state == CLIENT_CLOSING) {
		client_close(clt, clt->lingering ? "lingered" : "closed");
		return;
	}
	if ((events & CONN_EV_TIMEOUT) && clt->state == CLIENT_READ_HEAD &&
	    clt->seen_bytes) {
		client_refuse(clt, 408, "header_timeout");
		return;
	}
	/* A stalled upload: nothing answered yet, so say why (like nginx's
	 * client_body_timeout); the refusal also ends the upstream request. */
	if ((events & CONN_EV_TIMEOUT) && (events & CONN_EV_READING) &&
	    (clt->state == CLIENT_FORWARD || clt->state == CLIENT_RESPOND) &&
	    !clt->body_done && !clt->head_sent) {
		client_refuse(clt, 408, "body_timeout");
		return;
	}
	client_close(clt, (events & CONN_EV_TIMEOUT) ? "timeout" :
	    (events & CONN_EV_EOF) ? "client closed" : "client error");
}

static void
client_on_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*clt = arg;
	struct worker	*w = clt->w;
	SSL		*ssl;

	if (clt->req != NULL && clt->req->head_done) {
		clt->decision = METRICS_ERROR;
		client_log(clt, clt->head_sent ? "response_aborted" :
		    "client_closed");
	}
	TAILQ_REMOVE(&w->clients, clt, entry);
	w->nclients--;
	connlimit_release(w->srv->connlimit, &clt->climit);
	atomic_fetch_sub(&w->srv->metrics.connections_open, 1);
	if (clt->tls && (ssl = conn_ssl(clt->conn)) != NULL)
		(void)SSL_shutdown(ssl);	/* close_notify, best effort */
	conn_free(clt->conn);
	event_free(clt->reaper);
	event_free(clt->head_timer);
	event_free(clt->next);
	request_free(clt->req);
	client_form_free(clt);
	config_unref(clt->cfg);
	free(clt);
	serve_client_gone(w);
}

void
client_drain(struct client *clt)
{
	if (clt->state == CLIENT_IDLE ||
	    (clt->state == CLIENT_READ_HEAD && !clt->seen_bytes))
		client_close(clt, "draining");
}

struct evbuffer *
client_output(struct client *clt)
{
	return conn_output(clt->conn);
}

void
client_response_started(struct client *clt, int status)
{
	client_upstream_time(clt);
	clt->status = status;
	clt->head_sent = 1;
	client_set_state(clt, CLIENT_RESPOND);
}

void
client_tunnel(struct client *clt)
{
	client_log(clt, NULL);		/* the handshake is the request */
	auth_tunnel_watch(clt);		/* before the identity goes */
	request_free(clt->req);
	clt->req = NULL;
	clt->body_done = 1;		/* a close now is a clean one */
	client_set_state(clt, CLIENT_TUNNEL);
}

void
client_response_done(struct client *clt)
{
	if (clt->px != NULL) {
		proxy_close(clt->px);
		clt->px = NULL;
	}
	client_finish(clt, NULL);
}

void
client_upstream_failed(struct client *clt, int status, const char *reason)
{
	metrics_upstream_error(&clt->w->metrics, reason);
	client_upstream_time(clt);
	clt->decision = METRICS_ERROR;
	if (clt->px != NULL) {
		proxy_close(clt->px);
		clt->px = NULL;
	}
	if (clt->head_sent) {		/* too late for an error page */
		log_event(LOG_LEVEL_WARN, "upstream_error", "reason", reason,
		    "request_id", clt->request_id, (const char *)NULL);
		client_close(clt, reason);
		return;
	}
	clt->keep_alive = clt->req->keep_alive && clt->body_done &&
	    !clt->w->draining;
	client_send_page(clt, &(struct pages_resp){ .status = status });
	client_finish(clt, reason);
}

void
client_body_done(struct client *clt)
{
	struct timeval	 wtv;

	clt->body_done = 1;
	/* Keep reading (see client_set_state()), but with no timeout. */
	if (clt->state == CLIENT_FORWARD || clt->state == CLIENT_RESPOND)
		conn_set_timeouts(clt->conn, NULL, timeutil_timeout(&wtv,
		    clt->cfg->body_timeout));
	clt->read_ms = CLIENT_MS_UNSET;
}

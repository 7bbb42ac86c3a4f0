/*
 * A request on a downstream connection (see client.h): its id and access
 * log line, the gateway's own answers (pages, refusals, redirects to
 * HTTPS, built-in endpoints), reading a gateway form, routing the request
 * to the handler the app layer installed, and its response from the
 * upstream until it is over.  The connection itself (states, timeouts,
 * reading heads, closing) is client.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "catalog.h"
#include "client.h"
#include "client-int.h"
#include "config.h"
#include "conn.h"
#include "exchange.h"
#include "form.h"
#include "log.h"
#include "pages.h"
#include "plain.h"
#include "request.h"
#include "store.h"
#include "encode.h"
#include "worker.h"
#include "timeutil.h"

void
client_new_id(struct client *clt)
{
	static const unsigned char zero[16];
	struct worker	*w = clt->ex.w;
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
	encode_hex(b, 16, clt->ex.request_id);
	(void)clock_gettime(CLOCK_MONOTONIC, &clt->ex.start);
	clt->ex.decision = METRICS_ALLOW;
	clt->ex.outcome = EXCHANGE_UNDECIDED;
	clt->ex.up_started = 0;
	clt->ex.upstream_us = -1;
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
	if (clt->ex.up_started && clt->ex.upstream_us < 0)
		clt->ex.upstream_us = (int64_t)client_usec_since(
		    &clt->ex.up_start);
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
	if (clt->ex.deny_line == 0 || clt->ex.deny_file == NULL)
		return NULL;
	(void)snprintf(buf, size, "%s:%zu", clt->ex.deny_file,
	    clt->ex.deny_line);
	return buf;
}

/* The user and org the request was made as, for the access log. */
static void
client_who(const struct client *clt, const char **user, const char **org)
{
	const struct exchange *ex = &clt->ex;

	*user = ex->up.user != NULL ? ex->up.user : ex->deny_user[0] != '\0' ?
	    ex->deny_user : NULL;
	*org = ex->up.org != NULL ? ex->up.org : ex->tenant[0] != '\0' ?
	    ex->tenant : NULL;
}

/* The request's User-Agent cut to <size> - 1 bytes in <buf>, or NULL. */
static const char *
client_agent(const struct request *req, char *buf, size_t size)
{
	const char	*ua;

	if (req == NULL || !req->head_done ||
	    (ua = request_header(req, "user-agent")) == NULL)
		return NULL;
	(void)snprintf(buf, size, "%s", ua);
	return buf;
}

/* The request's metrics: by class and decision, by series, durations. */
static void
client_count(struct client *clt, int status, uint64_t us)
{
	struct metrics	*m = &clt->ex.w->metrics;
	struct request	*req = clt->ex.req;

	metrics_request(m, status, (enum metrics_decision)clt->ex.decision, us);
	metseries_count(&m->series, METSERIES_REQUESTS, clt->ex.app != NULL ?
	    clt->ex.app->name : NULL, clt->ex.route,
	    req != NULL && req->head_done ? metseries_method(
	    req->method_name) : METSERIES_OTHER, status);
	if (clt->ex.upstream_us >= 0)
		metrics_observe(&m->upstream, METRICS_SLOW,
		    (uint64_t)clt->ex.upstream_us);
}

/*
 * One access-log line per request ("request"; "reject" with the <reason>
 * when refused or failed), and the request's metrics.  The path is the
 * normalised one without the query: tokens travel in query strings.
 * Cookies and credentials are never logged; the User-Agent is cut.
 */
void
client_log(struct client *clt, const char *reason)
{
	struct request	*req = clt->ex.req;
	int		 status = clt->ex.status ? clt->ex.status : 499;
	uint64_t	 us = client_usec_since(&clt->ex.start);
	const char	*user, *org, *r;
	char		 st[8], in[24], out[24], ms[32], up[32], rule[320];
	char		 ua[CLIENT_AGENT_MAX + 1];

	client_count(clt, status, us);
	if (reason != NULL && clt->ex.decision == METRICS_DENY)
		metrics_inc(&clt->ex.w->metrics.rejects);
	if (reason == NULL && !clt->ex.cfg->access_log)
		return;
	(void)snprintf(st, sizeof(st), "%d", status);
	(void)snprintf(in, sizeof(in), "%" PRIu64,
	    req != NULL ? req->body_bytes : 0);
	(void)snprintf(out, sizeof(out), "%" PRIu64, clt->ex.bytes);
	client_who(clt, &user, &org);
	r = client_rule(clt, rule, sizeof(rule));
	log_event(reason != NULL ? LOG_LEVEL_WARN : LOG_LEVEL_INFO,
	    reason != NULL ? "reject" : "request",
	    "request_id", clt->ex.request_id, "client", clt->peer,
	    "method", req != NULL && req->head_done ? req->method_name : NULL,
	    "host", req != NULL ? req->host : NULL,
	    "path", req != NULL ? req->path : NULL,
	    "status", st, "bytes_in", in, "bytes_out", out,
	    "duration_ms", client_ms(ms, sizeof(ms), us),
	    "upstream_ms", clt->ex.upstream_us < 0 ? NULL :
	    client_ms(up, sizeof(up), (uint64_t)clt->ex.upstream_us),
	    "decision", metrics_decision_name(
	    (enum metrics_decision)clt->ex.decision),
	    "app", clt->ex.app != NULL ? clt->ex.app->name : NULL,
	    "route", clt->ex.route, "user", user, "org", org,
	    "auth", clt->ex.auth_kind,
	    "user_agent", client_agent(req, ua, sizeof(ua)),
	    "reason", reason,
	    /* a policy 403 adds its rule; else the pairs end here */
	    r != NULL ? "rule" : NULL, r, (const char *)NULL);
}

/* Answer the current request ourselves with <r> (status etc. set). */
static void
client_send_page(struct client *clt, struct pages_resp *r)
{
	struct request	*req = clt->ex.req;
	const struct config *cfg = clt->ex.cfg;
	struct pages_frame f = { cfg->brand_product, cfg->brand_logo_url,
	    cfg->brand_color, NULL, cfg->page_catalog, cfg->page_templates,
	    cfg->page_lang };
	char		*fbuf = NULL;
	long		 n;

	if (clt->ex.fwd)
		client_fwd_page(clt, r, &fbuf);

	r->request_id = clt->ex.request_id;
	r->html = req != NULL && pages_wants_html(
	    request_header(req, "accept"));
	if (r->frame == NULL) {
		/* an error page's language: read here, never on the way to
		 * the upstream */
		if (r->html && req != NULL)
			f.lang = catalog_pick(cfg->page_catalog,
			    request_header(req, "accept-language"),
			    cfg->page_lang);
		r->frame = &f;
	}
	r->head_only = req != NULL && req->head_done && (clt->ex.fwd ?
	    clt->ex.fwd_head : req->method == HTTP_HEAD);
	r->headers = clt->ex.cfg->page_headers;
	r->tls = clt->ex.tls;
	r->keep_alive = clt->ex.keep_alive;
	clt->ex.status = r->status;
	clt->ex.head_sent = 1;
	if ((n = pages_send(conn_output(clt->conn), r)) > 0)
		clt->ex.bytes = (uint64_t)n;
	if (fbuf != NULL) {
		OPENSSL_cleanse(fbuf, strlen(fbuf));
		free(fbuf);
	}
}

/* The current request is over: log it, then next request or close. */
static void
client_finish(struct client *clt, const char *reason)
{
	int	keep;

	client_log(clt, reason);
	keep = clt->ex.keep_alive && exchange_keep_alive(&clt->ex,
	    clt->ex.w->draining, 0);
	exchange_reset(&clt->ex);
	if (!keep) {
		client_close_after_flush(&clt->ex);
		return;
	}
	client_set_state(clt, CLIENT_IDLE);
	/* A pipelined request may wait in the input: next loop turn. */
	if (evbuffer_get_length(conn_input(clt->conn)) > 0)
		event_active(clt->next, EV_TIMEOUT, 0);
}

/* Refuse the request: one reject event, an error page, then close. */
void
client_refuse(struct exchange *ex, int status, const char *reason)
{
	struct client	*clt = ex->clt;
	struct pages_resp r = { .status = status };

	/* Only TRACE and CONNECT are refused by method before any route is
	 * known (RFC 9110 15.5.6: a 405 says what is supported instead). */
	if (status == 405)
		r.extra = "Allow: GET, HEAD, POST, PUT, PATCH, DELETE, "
		    "OPTIONS\r\n";
	if (clt->ex.request_id[0] == '\0' || clt->ex.req == NULL ||
	    !clt->ex.req->head_done)
		client_new_id(clt);
	clt->ex.keep_alive = 0;
	clt->ex.body_done = 0;	/* unread input: linger before closing */
	clt->ex.decision = METRICS_DENY;
	clt->ex.outcome = EXCHANGE_ANSWER;	/* the edge's own, over any */
	client_send_page(clt, &r);
	client_finish(clt, reason);
}

/*
 * A second outcome for the request of <clt>: exchange_outcome_twice()
 * aborts with assertions; without, nothing more is written: what the
 * first outcome wrote is flushed, the upstream side cut, the connection
 * closed.
 */
static void
client_twice(struct client *clt, enum exchange_outcome o)
{
	(void)exchange_outcome_twice(&clt->ex, o);
	client_close_after_flush(&clt->ex);
}

void
client_check_outcome(struct exchange *ex, const char *where)
{
	struct client	*clt = ex->clt;

	if (ex->outcome != EXCHANGE_UNDECIDED || ex->check != NULL ||
	    clt == NULL || clt->dead || clt->state != CLIENT_DECIDE)
		return;		/* decided or waiting: the usual case first */
	(void)exchange_outcome_missing(ex, where);
	client_refuse(ex, 500, "outcome_missing");
}

/* A local answer to a well-formed request; the connection may stay. */
void
client_local(struct client *clt, struct pages_resp *r, const char *reason)
{
	if (exchange_decided(&clt->ex, EXCHANGE_ANSWER) == -1) {
		client_close_after_flush(&clt->ex);	/* logged */
		return;
	}
	clt->ex.body_done = !request_has_body(clt->ex.req) ||
	    clt->ex.req->complete;
	clt->ex.keep_alive = exchange_keep_alive(&clt->ex, clt->ex.w->draining,
	    0);
	clt->ex.decision = reason != NULL ? METRICS_DENY : METRICS_ALLOW;
	client_send_page(clt, r);
	client_finish(clt, reason);
}

void
client_answer(struct exchange *ex, struct pages_resp *r, const char *reason)
{
	struct client	*clt = ex->clt;

	if (clt->dead)
		return;		/* closed: nothing more is written */
	if (clt->ex.req == NULL || clt->state != CLIENT_DECIDE) {
		client_twice(clt, EXCHANGE_ANSWER);	/* the request ended */
		return;
	}
	client_local(clt, r, reason);
}

/* The form is whole: its callback chooses the request's outcome anew. */
static void
client_form_done(struct client *clt,
    void (*cb)(struct exchange *, struct evbuffer *))
{
	clt->ex.outcome = EXCHANGE_UNDECIDED;
	cb(&clt->ex, clt->ex.form);
	client_check_outcome(&clt->ex, "form");
}

/* Move form body bytes in; call the form's callback once it is whole. */
void
client_pump_form(struct client *clt)
{
	struct evbuffer	*in = conn_input(clt->conn);
	void		(*cb)(struct exchange *, struct evbuffer *);

	switch (request_parse_body(clt->ex.req, in, clt->ex.form, SIZE_MAX)) {
	case REQUEST_MORE:
		return;
	case REQUEST_ERROR:
		client_refuse(&clt->ex, clt->ex.req->status,
		    clt->ex.req->reason);
		return;
	case REQUEST_DONE:
		cb = clt->ex.form_cb;
		clt->ex.form_cb = NULL;
		clt->ex.body_done = 1;
		client_form_done(clt, cb);
		return;
	}
}

void
client_read_form(struct exchange *ex, size_t max,
    void (*cb)(struct exchange *, struct evbuffer *))
{
	struct client	*clt = ex->clt;
	struct request	*req = clt->ex.req;
	struct timeval	 tv, tv2;

	if (clt->dead)
		return;
	if (req == NULL || clt->state != CLIENT_DECIDE) {
		client_twice(clt, EXCHANGE_READ_FORM);	/* the request ended */
		return;
	}
	if (exchange_decided(ex, EXCHANGE_READ_FORM) == -1) {
		client_close_after_flush(ex);	/* logged */
		return;
	}
	if (!form_content_type_ok(request_header(req, "content-type"))) {
		client_refuse(&clt->ex, 415, "form_content_type");
		return;
	}
	if (req->chunked) {
		client_refuse(&clt->ex, 411, "form_chunked");
		return;
	}
	if (req->has_length && req->content_length > max) {
		client_refuse(&clt->ex, 413, "form_too_large");
		return;
	}
	if ((clt->ex.form = evbuffer_new()) == NULL) {
		client_refuse(&clt->ex, 503, "nomem");
		return;
	}
	clt->ex.form_cb = cb;
	if (request_has_body(req) && !req->complete) {
		/* Reading stays off while deciding: on for the body only. */
		conn_set_timeouts(clt->conn, timeutil_timeout(&tv,
		    clt->ex.cfg->body_timeout), timeutil_timeout(&tv2,
		    clt->ex.cfg->body_timeout));
		clt->read_ms = CLIENT_MS_UNSET;
		conn_enable(clt->conn, EV_READ);
	}
	if (!request_has_body(req) || req->complete) {
		clt->ex.form_cb = NULL;
		client_form_done(clt, cb);
		return;
	}
	if (req->expect_continue)
		(void)evbuffer_add(conn_output(clt->conn),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	client_pump_form(clt);
}

/*
 * Readiness, for a load balancer or a Kubernetes probe: 503 while this
 * worker's Redis connection is down (protected routes would answer 503)
 * or the gateway is shutting down.  A refused reload keeps the running
 * configuration serving, so it is reported, not made a 503: the same bad
 * file pushed to every instance must not take them all out at once.
 */
static void
client_ready(struct client *clt, struct pages_resp *r)
{
	const struct worker *w = clt->ex.w;
	int		 redis_down, draining;

	redis_down = clt->ex.cfg->needs_redis && w->store != NULL &&
	    !store_healthy(w->store);
	draining = atomic_load(&w->srv->draining) != 0;
	r->status = redis_down || draining ? 503 : 200;
	r->json = draining ? "{\"status\":\"draining\"}" :
	    redis_down ? "{\"status\":\"not_ready\",\"redis\":\"down\"}" :
	    atomic_load(&w->srv->reload_failed) ?
	    "{\"status\":\"ready\",\"config\":\"reload_failed\"}" :
	    "{\"status\":\"ready\"}";
	client_local(clt, r, NULL);
}

/*
 * branding.logo_file, as an image only: the pages' headers (default-src
 * 'none': an SVG runs no script) and a sandbox for an SVG opened on its
 * own.  Its URL carries its hash, so it may be cached for long.
 */
static void
client_logo(struct client *clt, struct pages_resp *r)
{
	const struct config *cfg = clt->ex.cfg;
	char		 extra[128];

	if (clt->ex.req->method != HTTP_GET &&
	    clt->ex.req->method != HTTP_HEAD) {
		r->status = 405;
		r->extra = "Allow: GET, HEAD\r\n";
		client_local(clt, r, "method");
		return;
	}
	if ((r->body = evbuffer_new()) == NULL ||
	    evbuffer_add(r->body, cfg->brand_logo, cfg->brand_logo_len) == -1) {
		evbuffer_free(r->body);
		client_local(clt, &(struct pages_resp){ .status = 503 },
		    "nomem");
		return;
	}
	(void)snprintf(extra, sizeof(extra), "ETag: %s\r\n"
	    "Content-Security-Policy: sandbox\r\n", cfg->brand_logo_etag);
	r->status = 200;
	r->body_type = cfg->brand_logo_type;
	r->cache = "public, max-age=86400";
	r->extra = extra;
	client_local(clt, r, NULL);
	evbuffer_free(r->body);
}

/* Under /.postern/: built-in endpoints, bound to the path on every host. */
static void
client_builtin(struct client *clt)
{
	struct pages_resp r = { .status = 404 };

	if (strcmp(clt->ex.req->path, "/.postern/health") == 0) {
		/* Degraded, not down: public routes still work without
		 * Redis, so a load balancer should keep sending traffic. */
		r.status = 200;
		r.json = clt->ex.cfg->needs_redis && clt->ex.w->store != NULL &&
		    !store_healthy(clt->ex.w->store) ?
		    "{\"status\":\"degraded\",\"redis\":\"down\"}" :
		    "{\"status\":\"ok\"}";
		client_local(clt, &r, NULL);
		return;
	}
	if (strcmp(clt->ex.req->path, "/.postern/ready") == 0) {
		client_ready(clt, &r);
		return;
	}
	if (strcmp(clt->ex.req->path, "/.postern/static/logo") == 0 &&
	    clt->ex.cfg->brand_logo != NULL) {
		client_logo(clt, &r);
		return;
	}
	if (clt->ex.w->srv->ops->builtin(&clt->ex)) {
		client_check_outcome(&clt->ex, "builtin");
		return;
	}
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
	struct request	*req = clt->ex.req;
	struct pages_resp r = { .status = 403 };
	char		 loc[4096];

	if (redirect && pages_wants_html(request_header(req, "accept")) &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		if (plain_location(clt->ex.cfg, req, clt->ex.https_port, loc,
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
	r.error = "https_required";
	clt->ex.req->keep_alive = 0;
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
	switch (plain_path_kind(clt->ex.req->path)) {
	case PLAIN_PATH_ACME:	/* ACME http-01, before all */
		if (clt->ex.w->srv->ops->challenge != NULL) {
			clt->ex.w->srv->ops->challenge(&clt->ex);
			client_check_outcome(&clt->ex, "challenge");
		} else
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
	struct request	*req = clt->ex.req;

	if (clt->ex.fwd) {
		client_fwd_allow(clt);
		return;
	}
	if (exchange_decided(&clt->ex, EXCHANGE_FORWARD) == -1) {
		client_close_after_flush(&clt->ex);	/* logged */
		return;
	}
	clt->ex.body_done = !request_has_body(req) || req->complete;
	if (req->expect_continue && !clt->ex.body_done)
		(void)evbuffer_add(conn_output(clt->conn),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	(void)clock_gettime(CLOCK_MONOTONIC, &clt->ex.up_start);
	clt->ex.up_started = 1;
	if ((clt->px = clt->ex.w->srv->ops->forward(&clt->ex)) == NULL) {
		client_upstream_failed(&clt->ex, 502, "upstream_connect");
		return;
	}
	client_set_state(clt, CLIENT_FORWARD);
	if (!clt->ex.body_done)
		clt->ex.w->srv->ops->up_body(clt->px);	/* bytes may be here */
}

void
client_resume(struct exchange *ex, enum client_verdict v, int status)
{
	struct client	*clt = ex->clt;

	if (clt->dead)
		return;
	if (clt->state != CLIENT_DECIDE) {
		client_twice(clt, v == CLIENT_ALLOW ? EXCHANGE_FORWARD :
		    EXCHANGE_ANSWER);
		return;
	}
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

int
client_reserved(const char *path)
{
	return strncmp(path, "/.postern/", 10) == 0 ||
	    strcmp(path, "/.postern") == 0;
}

/* A request for an app's path: its app by host, then identity decides. */
void
client_app_request(struct client *clt)
{
	struct request	*req = clt->ex.req;

	clt->ex.app = config_app_for_host(clt->ex.cfg,
	    req->host != NULL ? req->host : "");
	if (clt->ex.app == NULL) {
		client_local(clt, &(struct pages_resp){ .status = 421 },
		    "unknown_host");
		return;
	}
	clt->ex.w->srv->ops->request(&clt->ex);
	client_check_outcome(&clt->ex, "request");
}

/*
 * The request head is in: route it.  A request for an app goes to the
 * handler the app layer installed (worker.h: identity decides it); a step
 * that waits for Redis or the hash pool calls client_resume() from its
 * reply (and is unlinked by client_close() through ops->detach).
 */
void
client_decide(struct client *clt)
{
	struct request	*req = clt->ex.req;

	client_set_state(clt, CLIENT_DECIDE);
	clt->ex.secure = clt->ex.tls || (clt->ex.trusted &&
	    plain_forwarded_https(req));
	if (clt->forward_auth && client_fwd_route(clt))
		return;
	if (!clt->ex.secure && client_cleartext(clt))
		return;
	if (client_reserved(req->path)) {
		client_builtin(clt);
		return;
	}
	client_app_request(clt);
}

struct evbuffer *
client_output(struct exchange *ex)
{
	return conn_output(ex->clt->conn);
}

void
client_response_started(struct exchange *ex, int status)
{
	struct client	*clt = ex->clt;

	client_upstream_time(clt);
	clt->ex.status = status;
	clt->ex.head_sent = 1;
	client_set_state(clt, CLIENT_RESPOND);
}

void
client_tunnel(struct exchange *ex)
{
	struct client	*clt = ex->clt;

	client_log(clt, NULL);		/* the handshake is the request */
	clt->ex.w->srv->ops->tunnel(&clt->ex);	/* before the identity goes */
	exchange_end_request(&clt->ex);
	clt->ex.body_done = 1;		/* a close now is a clean one */
	client_set_state(clt, CLIENT_TUNNEL);
}

void
client_response_done(struct exchange *ex)
{
	struct client	*clt = ex->clt;

	if (clt->px != NULL) {
		clt->ex.w->srv->ops->up_close(clt->px);
		clt->px = NULL;
	}
	client_finish(clt, NULL);
}

void
client_upstream_failed(struct exchange *ex, int status, const char *reason)
{
	struct client	*clt = ex->clt;

	metrics_upstream_error(&clt->ex.w->metrics, reason);
	client_upstream_time(clt);
	clt->ex.decision = METRICS_ERROR;
	if (clt->px != NULL) {
		clt->ex.w->srv->ops->up_close(clt->px);
		clt->px = NULL;
	}
	if (clt->ex.head_sent) {		/* too late for an error page */
		log_event(LOG_LEVEL_WARN, "upstream_error", "reason", reason,
		    "request_id", clt->ex.request_id, (const char *)NULL);
		client_close(&clt->ex, reason);
		return;
	}
	clt->ex.keep_alive = exchange_keep_alive(&clt->ex, clt->ex.w->draining,
	    0);
	client_send_page(clt, &(struct pages_resp){ .status = status });
	client_finish(clt, reason);
}

void
client_body_done(struct exchange *ex)
{
	struct client	*clt = ex->clt;
	struct timeval	 wtv;

	clt->ex.body_done = 1;
	/* Keep reading (see client_set_state()), but with no timeout. */
	if (clt->state == CLIENT_FORWARD || clt->state == CLIENT_RESPOND)
		conn_set_timeouts(clt->conn, NULL, timeutil_timeout(&wtv,
		    clt->ex.cfg->body_timeout));
	clt->read_ms = CLIENT_MS_UNSET;
}

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
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client.h"
#include "client-int.h"
#include "config.h"
#include "conn.h"
#include "connlimit.h"
#include "exchange.h"
#include "form.h"
#include "log.h"
#include "pages.h"
#include "plain.h"
#include "request.h"
#include "store.h"
#include "tlsacme.h"
#include "worker.h"
#include "timeutil.h"

#define CLIENT_LINGER_MS	2000

static void	client_on_read(struct conn *, void *);
static void	client_on_write(struct conn *, void *);
static void	client_on_event(struct conn *, short, void *);
static void	client_on_reap(evutil_socket_t, short, void *);
static void	client_on_head_timeout(evutil_socket_t, short, void *);
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
void
client_set_state(struct client *clt, enum client_state st)
{
	const struct config *cfg = clt->ex.cfg;
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
		r = clt->ex.body_done ? NULL : timeutil_timeout(&rtv,
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
	struct server	*srv = clt->ex.w->srv;
	struct config	*cfg;

	if (clt->cfg_gen == atomic_load(&srv->cfg_gen))
		return;
	cfg = srv->ops->config(srv, &clt->cfg_gen);
	config_unref(clt->ex.cfg);
	clt->ex.cfg = cfg;
	clt->ex.trusted = client_trusted(cfg,
	    (const struct sockaddr *)&clt->peer_sa);
}

/* An idle connection takes a reloaded snapshot now, a busy one later. */
static void
client_reload(struct client *clt)
{
	if (clt->dead || clt->ex.req != NULL)
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
	uint64_t	ms = clt->ex.cfg->header_timeout ?
			    clt->ex.cfg->header_timeout : 30000;
	struct timeval	tv;

	clt->head_deadline = timeutil_coarse_ms() + ms;
	if (!evtimer_pending(clt->head_timer, NULL))
		(void)evtimer_add(clt->head_timer, timeutil_timeout(&tv, ms));
}

void
client_forward_auth(struct client *clt)
{
	clt->forward_auth = 1;
}

struct client *
client_new(struct worker *w, struct conn *conn, struct config *cfg,
    const struct sockaddr *sa, int tls, int plain_redirect,
    uint16_t https_port, const struct connlimit_key *climit)
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
	clt->ex.w = w;
	clt->ex.clt = clt;
	clt->id = ++w->next_client_id * 1000 + w->id;
	clt->ex.cfg = cfg;
	clt->conn = conn;
	clt->ex.tls = tls;
	clt->plain_redirect = plain_redirect;
	clt->ex.https_port = https_port;
	clt->read_ms = CLIENT_MS_UNSET;	/* the listener set its own */
	clt->ex.trusted = client_trusted(cfg, sa);
	client_peer(clt, sa);
	clt->ex.peer = clt->peer;
	clt->climit = *climit;		/* released when the client is freed */
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
client_close(struct exchange *ex, const char *reason)
{
	struct client	*clt = ex != NULL ? ex->clt : NULL;

	if (clt == NULL || clt->dead)
		return;
	clt->dead = 1;
	clt->state = CLIENT_CLOSING;
	log_debug("client %" PRIu64 ": closed: %s", clt->id, reason);
	if (clt->px != NULL) {		/* cut both ends of the link */
		clt->ex.w->srv->ops->up_close(clt->px);
		clt->px = NULL;
	}
	clt->ex.w->srv->ops->detach(&clt->ex);	/* a Redis or hash reply */
	(void)evtimer_del(clt->head_timer);
	conn_disable(clt->conn, EV_READ | EV_WRITE);
	event_active(clt->reaper, EV_TIMEOUT, 0);
}

/* The request limits of <cfg> (limits:). */
static void
client_limits(struct request_limits *lim, const struct config *cfg)
{
	*lim = (struct request_limits){
		.max_request_line = cfg->max_request_line,
		.max_header_size = cfg->max_header_size,
		.max_headers = cfg->max_headers,
		.max_body_size = cfg->max_body_size,
		.allow_underscore = cfg->allow_underscore_headers,
	};
	request_limits_defaults(lim);
}

static void
client_read_head(struct client *clt)
{
	struct evbuffer	*in = conn_input(clt->conn);
	struct request_limits lim;
	enum request_result r;

	if (evbuffer_get_length(in) > 0)
		clt->ex.seen_bytes = 1;
	if (clt->ex.req == NULL) {
		client_config_refresh(clt);
		client_limits(&lim, clt->ex.cfg);
		if (clt->ex.w->nreq_free > 0) {
			clt->ex.req = clt->ex.w->req_free[--clt->ex.w->nreq_free];
			request_reset(clt->ex.req, &lim);
		} else if ((clt->ex.req = request_new(&lim)) == NULL) {
			client_close(&clt->ex, "out of memory");
			return;
		}
	}
	if ((r = request_parse_head(clt->ex.req, in)) == REQUEST_MORE)
		return;
	clt->head_deadline = 0;		/* the timer finds nothing due */
	client_config_refresh(clt);	/* a reload while the head came */
	client_new_id(clt);
	if (r == REQUEST_ERROR) {
		client_refuse(&clt->ex, clt->ex.req->status,
		    clt->ex.req->reason);
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
		if (clt->px != NULL && !clt->ex.body_done)
			clt->ex.w->srv->ops->up_body(clt->px);
		break;
	case CLIENT_TUNNEL:
		if (clt->px != NULL)
			clt->ex.w->srv->ops->up_tunnel(clt->px);
		break;
	case CLIENT_CLOSING:
		(void)evbuffer_drain(conn_input(conn),
		    evbuffer_get_length(conn_input(conn)));
		break;
	case CLIENT_DECIDE:
		if (clt->ex.form_cb != NULL)
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
	if (!clt->ex.seen_bytes)
		client_close(&clt->ex, "no request");
	else
		client_refuse(&clt->ex, 408, "header_timeout");
}

void
client_close_after_flush(struct exchange *ex)
{
	struct client	*clt = ex->clt;

	if (clt->dead)
		return;
	if (clt->px != NULL) {
		clt->ex.w->srv->ops->up_close(clt->px);
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
			clt->ex.w->srv->ops->up_resume(clt->px);
		return;
	}
	if (evbuffer_get_length(conn_output(conn)) > 0 ||
	    clt->lingering)
		return;
	if (clt->ex.body_done) {
		client_close(&clt->ex, "done");
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
	if (clt->ex.tls && (ssl = conn_ssl(conn)) != NULL)
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

	if (events & CONN_EV_CONNECTED) {
		/* a CA's TLS-ALPN-01 check: the handshake was all */
		if (clt->ex.tls && conn_ssl(conn) != NULL &&
		    tlsacme_selected(conn_ssl(conn)))
			client_close(&clt->ex, "acme-tls/1 challenge answered");
		return;
	}
	if (clt->ex.tls && (events & CONN_EV_ERROR) && client_tls_failed(conn))
		metrics_inc(&clt->ex.w->metrics.tls_handshake_failures);
	if (clt->state == CLIENT_CLOSING) {
		client_close(&clt->ex, clt->lingering ? "lingered" : "closed");
		return;
	}
	if ((events & CONN_EV_TIMEOUT) && clt->state == CLIENT_READ_HEAD &&
	    clt->ex.seen_bytes) {
		client_refuse(&clt->ex, 408, "header_timeout");
		return;
	}
	/* A stalled upload: nothing answered yet, so say why (like nginx's
	 * client_body_timeout); the refusal also ends the upstream request. */
	if ((events & CONN_EV_TIMEOUT) && (events & CONN_EV_READING) &&
	    (clt->state == CLIENT_FORWARD || clt->state == CLIENT_RESPOND) &&
	    !clt->ex.body_done && !clt->ex.head_sent) {
		client_refuse(&clt->ex, 408, "body_timeout");
		return;
	}
	client_close(&clt->ex, (events & CONN_EV_TIMEOUT) ? "timeout" :
	    (events & CONN_EV_EOF) ? "client closed" : "client error");
}

static void
client_on_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*clt = arg;
	struct worker	*w = clt->ex.w;
	SSL		*ssl;

	if (clt->ex.req != NULL && clt->ex.req->head_done) {
		clt->ex.decision = METRICS_ERROR;
		client_log(clt, clt->ex.head_sent ? "response_aborted" :
		    "client_closed");
	}
	TAILQ_REMOVE(&w->clients, clt, entry);
	w->nclients--;
	connlimit_release(w->srv->connlimit, &clt->climit);
	atomic_fetch_sub(&w->srv->metrics.connections_open, 1);
	if (clt->ex.tls && (ssl = conn_ssl(clt->conn)) != NULL)
		(void)SSL_shutdown(ssl);	/* close_notify, best effort */
	conn_free(clt->conn);
	event_free(clt->reaper);
	event_free(clt->head_timer);
	event_free(clt->next);
	exchange_reset(&clt->ex);
	config_unref(clt->ex.cfg);
	free(clt);
	if (w->draining && w->nclients == 0)	/* the last one gone */
		event_base_loopexit(w->base, NULL);
}

void
client_drain_all(struct worker *w)
{
	struct client	*clt;

	TAILQ_FOREACH(clt, &w->clients, entry)
		if (clt->state == CLIENT_IDLE ||
		    (clt->state == CLIENT_READ_HEAD && !clt->ex.seen_bytes))
			client_close(&clt->ex, "draining");
}

void
client_reload_all(struct worker *w)
{
	struct client	*clt;

	TAILQ_FOREACH(clt, &w->clients, entry)
		client_reload(clt);
}

/* client_close() only marks and defers: the list stays as it is. */
void
client_close_all(struct worker *w, const char *reason)
{
	struct client	*clt;

	TAILQ_FOREACH(clt, &w->clients, entry)
		client_close(&clt->ex, reason);
}

struct evbuffer *
client_input(struct exchange *ex)
{
	return conn_input(ex->clt->conn);
}

void
client_reading(struct exchange *ex, int on)
{
	if (on)
		conn_enable(ex->clt->conn, EV_READ);
	else
		conn_disable(ex->clt->conn, EV_READ);
}

uint64_t
client_id(const struct exchange *ex)
{
	return ex->clt->id;
}

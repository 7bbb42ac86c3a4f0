/*
 * Forwarding one request (see proxy.h): the upstream connection (pooled
 * or new, plain or TLS), the request body pumped to it, the response
 * parsed by http-parser and re-framed for the client, and the WebSocket
 * tunnel after a 101.  The heads themselves, with their header hygiene
 * and security headers, are built by proxyhead.c.  Back-pressure both
 * ways: each side stops reading while the other side's output is above
 * its high-water mark.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/event.h>

#include "client.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "pool.h"
#include "proxy.h"
#include "proxy-int.h"
#include "proxyhead.h"
#include "request.h"
#include "worker.h"
#include "tls.h"
#include "timeutil.h"

/*
 * Freed proxies a worker keeps for its next requests, with their buffers
 * (the staging evbuffer, the header arena and arrays): a keep-alive
 * request then allocates none of them.  Bounded, and only proxies whose
 * buffers stayed small.
 */
#define PROXY_CACHE_MAX		64
#define PROXY_CACHE_ARENA	(16 * 1024)

static struct proxy *
proxy_alloc(struct worker *w)
{
	struct proxy	*px = w->px_free, keep;

	if (px != NULL) {
		w->px_free = px->next_free;
		w->npx_free--;
		keep = *px;
		memset(px, 0, sizeof(*px));
		px->out = keep.out;
		px->hdrs = keep.hdrs;
		px->fields = keep.fields;
		px->caphdrs = keep.caphdrs;
		px->arena = keep.arena;
		px->arena_cap = keep.arena_cap;
		return px;
	}
	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	if ((px->out = evbuffer_new()) == NULL) {
		free(px);
		return NULL;
	}
	return px;
}

static void
proxy_dealloc(struct proxy *px)
{
	struct worker	*w = px->w;

	if (w != NULL && w->npx_free < PROXY_CACHE_MAX &&
	    px->arena_cap <= PROXY_CACHE_ARENA &&
	    evbuffer_drain(px->out, evbuffer_get_length(px->out)) == 0) {
		px->next_free = w->px_free;
		w->px_free = px;
		w->npx_free++;
		return;
	}
	evbuffer_free(px->out);
	free(px->hdrs);
	free(px->fields);
	free(px->arena);
	free(px);
}

void
proxy_cache_free(struct worker *w)
{
	struct proxy	*px;

	while ((px = w->px_free) != NULL) {
		w->px_free = px->next_free;
		px->w = NULL;
		proxy_dealloc(px);
	}
	w->npx_free = 0;
}

static void	proxy_on_read(struct conn *, void *);
static void	proxy_on_write(struct conn *, void *);
static void	proxy_on_event(struct conn *, short, void *);
static void	proxy_on_reap(evutil_socket_t, short, void *);
static void	proxy_on_tunnel_idle(evutil_socket_t, short, void *);

/* Timeouts for the phase we are in; the response wait starts only once
 * the whole request is sent, so a long upload never times out as 504. */
static void
proxy_set_timeouts(struct proxy *px)
{
	const struct config *cfg = px->ex->cfg;
	struct timeval	 r, w;

	if (!px->connected)
		conn_set_timeouts(px->conn, NULL, timeutil_timeout(&w,
		    cfg->upstream_connect_timeout));
	else
		conn_set_timeouts(px->conn, px->ex->body_done ?
		    timeutil_timeout(&r, cfg->upstream_timeout) : NULL,
		    timeutil_timeout(&w, cfg->body_timeout));
}

/* Small requests and responses go out at once, not after 40 ms. */
static void
proxy_nodelay(struct conn *conn)
{
	int	one = 1;

	(void)setsockopt(conn_fd(conn), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));	/* fails harmlessly on unix sockets */
}

/* A new connection to the app's upstream, over TLS for https://. */
static struct conn *
proxy_dial(struct proxy *px)
{
	const struct config_upstream *up = &px->app->upstream;
	struct conn	*conn;
	SSL		*ssl = NULL;

	if (up->tls && (up->ssl_ctx == NULL || (ssl = tls_upstream_ssl(
	    up->ssl_ctx, up->server_name != NULL ? up->server_name :
	    up->host)) == NULL))
		return NULL;
	/* owns ssl from here, even when it fails */
	if ((conn = conn_new(px->ex->w->base, -1, ssl, 0)) == NULL)
		return NULL;
	if (conn_connect(conn, (const struct sockaddr *)&up->addr.ss,
	    up->addr.sslen) == -1) {
		conn_free(conn);
		return NULL;
	}
	proxy_nodelay(conn);
	return conn;
}

/*
 * Queue <buf> on the output <to> of a connection.  It is written when this
 * loop turn's callbacks are done (conn.c): a small request or response
 * goes out in one write, without waiting for epoll to say the socket is
 * writable.
 */
static void
proxy_send(struct evbuffer *to, struct evbuffer *buf)
{
	if (evbuffer_get_length(buf) > 0)
		(void)evbuffer_add_buffer(to, buf);
}

/* Response bytes staged in px->out go to the client. */
static void
proxy_flush(struct proxy *px)
{
	if (px->ex != NULL)
		proxy_send(client_output(px->ex), px->out);
}

/*
 * Give <px> a connection, from the pool if <use_pool> and one is idle,
 * else a new one, and queue the request head on it.  0 or -1.
 */
static int
proxy_attach(struct proxy *px, int use_pool)
{
	struct conn	*conn = NULL;

	if (use_pool)
		conn = pool_get(px->ex->w->pool, &px->app->upstream);
	px->reused = px->connected = conn != NULL;
	if (conn == NULL && (conn = proxy_dial(px)) == NULL)
		return -1;
	px->conn = conn;
	conn_setcb(conn, proxy_on_read, proxy_on_write,
	    proxy_on_event, px);
	conn_setwatermark(conn, EV_WRITE, PROXY_HIWAT / 2, 0);
	conn_setwatermark(conn, EV_READ, 0, PROXY_HIWAT);
	if (proxyhead_write_request(px->ex, px->websocket, px->out) == -1) {
		evbuffer_drain(px->out, evbuffer_get_length(px->out));
		conn_free(conn);
		px->conn = NULL;
		return -1;
	}
	/* A new connection sends once connected; a pooled one at once. */
	proxy_send(conn_output(conn), px->out);
	proxy_set_timeouts(px);
	/* Pooled connections kept EV_WRITE enabled (see pool_get()). */
	conn_enable(conn, px->reused ? EV_READ : EV_READ | EV_WRITE);
	return 0;
}

int
proxy_is_websocket(const struct request *req)
{
	return proxyhead_is_websocket(req);
}

struct proxy *
proxy_new(struct exchange *ex, const struct config_app *app)
{
	struct event_base *base = ex->w->base;
	struct proxy	*px;

	if ((px = proxy_alloc(ex->w)) == NULL)
		return NULL;
	px->w = ex->w;
	px->ex = ex;
	px->app = app;
	px->websocket = proxyhead_is_websocket(ex->req);
	http_parser_init(&px->parser, HTTP_RESPONSE);
	px->parser.data = px;
	/* Inside the struct: no allocation per request. */
	(void)event_assign(&px->reaper, base, -1, 0, proxy_on_reap, px);
	(void)evtimer_assign(&px->idle_timer, base, proxy_on_tunnel_idle, px);
	if (proxy_attach(px, 1) == -1) {
		proxy_dealloc(px);
		return NULL;
	}
	return px;
}

void
proxy_close(struct proxy *px)
{
	if (px == NULL || px->closing)
		return;
	px->closing = 1;
	px->ex = NULL;
	if (px->conn != NULL)
		conn_disable(px->conn, EV_READ | EV_WRITE);
	(void)evtimer_del(&px->idle_timer);
	event_active(&px->reaper, EV_TIMEOUT, 0);
}

void
proxy_free_headers(struct proxy *px)
{
	px->nhdrs = 0;
	px->arena_len = 0;
	px->in_value = 0;
	free(px->reason);
	px->reason = NULL;
}

static void
proxy_on_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct proxy	*px = arg;

	if (px->conn != NULL)
		conn_free(px->conn);
	(void)evtimer_del(&px->idle_timer);
	proxy_free_headers(px);
	proxy_dealloc(px);
}

/* ---- keep-alive ---- */

/* RFC 9110 9.2.2: resending these has the effect of sending them once. */
static int
proxy_idempotent(enum http_method m)
{
	return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS ||
	    m == HTTP_PUT || m == HTTP_DELETE;
}

/*
 * A pooled connection that the upstream closed as we reused it (RFC 9112
 * 9.3.1: it may close an idle connection at any time).  Send the request
 * again, once, on a fresh connection, if no response byte came and a
 * resend is harmless: an idempotent method without a body.  Returns 1 if
 * it took over (retrying, or failed with 502), 0 to report as usual.
 */
static int
proxy_retry(struct proxy *px)
{
	struct request	*req = px->ex->req;

	if (!px->reused || px->retried || px->got_bytes ||
	    evbuffer_get_length(conn_input(px->conn)) > 0 ||
	    request_has_body(req) || !proxy_idempotent(req->method))
		return 0;
	log_debug("client %" PRIu64 ": stale upstream connection, retrying",
	    client_id(px->ex));
	px->retried = 1;
	conn_free(px->conn);	/* in its callback: conn.c frees on return */
	px->conn = NULL;
	if (proxy_attach(px, 0) == -1)
		proxy_failed(px, 502, "upstream_connect");
	return 1;
}

/*
 * The response is complete: park the connection for the next request if
 * it can carry one.  Not after HTTP/1.0 or Connection: close, nor a body
 * the close delimited, nor while request bytes are still unsent or bytes
 * beyond the response arrived (the next response would be misread).
 */
static void
proxy_release(struct proxy *px)
{
	struct exchange		*ex = px->ex;
	struct conn	*conn = px->conn;

	if (px->eof || px->tunnel || px->parser.http_minor < 1 ||
	    !http_should_keep_alive(&px->parser) || !ex->body_done ||
	    ex->w->draining ||
	    evbuffer_get_length(conn_input(conn)) > 0 ||
	    evbuffer_get_length(conn_output(conn)) > 0)
		return;
	px->conn = NULL;
	pool_put(ex->w->pool, &px->app->upstream, conn,
	    ex->cfg->upstream_idle_timeout);
}

/* Did the TLS handshake fail on the upstream's certificate? */
static int
proxy_tls_verify_failed(struct conn *conn)
{
	SSL	*ssl = conn_ssl(conn);

	return ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK;
}

/* ---- WebSocket tunnel: after a 101, bytes both ways, not parsed ---- */

static void
proxy_tunnel_touch(struct proxy *px)
{
	(void)event_base_gettimeofday_cached(px->ex->w->base, &px->last);
}

/* Upstream to client, until the client's output is full. */
static void
proxy_tunnel_up(struct proxy *px)
{
	struct evbuffer	*in = conn_input(px->conn);
	struct evbuffer	*out = client_output(px->ex);

	if (evbuffer_get_length(in) > 0) {
		proxy_tunnel_touch(px);
		proxy_send(client_output(px->ex), in);
	}
	if (evbuffer_get_length(out) >= CLIENT_HIWAT) {
		conn_disable(px->conn, EV_READ);
		px->paused = 1;
	}
}

void
proxy_tunnel_pump(struct proxy *px)
{
	struct exchange	*ex = px->ex;
	struct evbuffer	*in = client_input(ex);
	struct evbuffer	*out = conn_output(px->conn);

	if (evbuffer_get_length(in) > 0) {
		proxy_tunnel_touch(px);
		(void)evbuffer_add_buffer(out, in);
	}
	if (evbuffer_get_length(out) >= PROXY_HIWAT)
		client_reading(ex, 0);	/* proxy_on_write */
}

static void
proxy_tunnel_arm(struct proxy *px, uint64_t ms)
{
	struct timeval	tv;

	if (timeutil_timeout(&tv, ms) != NULL)
		(void)evtimer_add(&px->idle_timer, &tv);
}

/* The 101 is out: switch both sides to tunnelling. */
static void
proxy_tunnel_start(struct proxy *px)
{
	const struct config *cfg = px->ex->cfg;
	struct timeval	 w;

	conn_set_timeouts(px->conn, NULL, timeutil_timeout(&w,
	    cfg->body_timeout));
	proxy_tunnel_touch(px);
	proxy_tunnel_arm(px, cfg->tunnel_idle_timeout);
	client_tunnel(px->ex);
	if (px->ex != NULL)
		proxy_tunnel_pump(px);	/* client bytes sent early */
	if (px->ex != NULL)
		proxy_tunnel_up(px);	/* upstream bytes after the 101 */
}

/* No traffic either way for tunnel_idle_timeout: close both sides. */
static void
proxy_on_tunnel_idle(evutil_socket_t fd, short ev, void *arg)
{
	struct proxy	*px = arg;
	struct timeval	 now, idle;
	uint64_t	 ms, quiet;

	if (px->ex == NULL)
		return;
	ms = px->ex->cfg->tunnel_idle_timeout;
	(void)event_base_gettimeofday_cached(px->ex->w->base, &now);
	timersub(&now, &px->last, &idle);
	quiet = timeutil_ms(&idle);
	if (quiet < ms) {
		proxy_tunnel_arm(px, ms - quiet);
		return;
	}
	client_close(px->ex, "tunnel_idle");
}

/* The upstream ended the tunnel: what it sent reaches the client first. */
static void
proxy_tunnel_event(struct proxy *px, short events)
{
	if (events & CONN_EV_EOF) {
		proxy_tunnel_up(px);
		client_close_after_flush(px->ex);
	} else
		client_close(px->ex, "tunnel_upstream_error");
}

/* ---- request body ---- */

void
proxy_pump_body(struct proxy *px)
{
	struct exchange	*ex = px->ex;
	struct evbuffer	*in, *out;
	enum request_result r;
	size_t		 before;

	if (ex == NULL || ex->body_done)
		return;
	in = client_input(ex);
	out = conn_output(px->conn);
	for (;;) {
		if (evbuffer_get_length(out) >= PROXY_HIWAT) {
			client_reading(ex, 0);
			return;
		}
		if ((before = evbuffer_get_length(in)) == 0)
			return;
		r = request_parse_body(ex->req, in, out,
		    PROXY_HIWAT - evbuffer_get_length(out));
		if (r == REQUEST_ERROR) {
			if (ex->head_sent) {	/* too late for a 400 page */
				log_event(LOG_LEVEL_WARN, "reject", "reason",
				    ex->req->reason, "request_id",
				    ex->request_id, "client", ex->peer,
				    (const char *)NULL);
				client_close(ex, ex->req->reason);
			} else
				client_refuse(ex, ex->req->status,
				    ex->req->reason);
			return;
		}
		if (r == REQUEST_DONE) {
			client_body_done(ex);
			proxy_set_timeouts(px);
			return;
		}
		if (evbuffer_get_length(in) == before)
			return;
	}
}

static void
proxy_on_write(struct conn *conn, void *arg)
{
	struct proxy	*px = arg;

	if (px->ex != NULL && px->tunnel) {
		client_reading(px->ex, 1);
		proxy_tunnel_pump(px);
		return;
	}
	if (px->ex == NULL || px->ex->body_done)
		return;
	client_reading(px->ex, 1);
	proxy_pump_body(px);
}

static void
proxy_on_read(struct conn *conn, void *arg)
{
	struct proxy	*px = arg;
	struct evbuffer	*in = conn_input(conn);
	struct evbuffer_iovec v;
	size_t		 used;

	if (px->tunnel) {
		if (px->ex != NULL)
			proxy_tunnel_up(px);
		return;
	}
	if (evbuffer_get_length(in) > 0)
		px->got_bytes = 1;
	while (px->ex != NULL && !px->complete &&
	    evbuffer_get_length(in) > 0) {
		if (px->head_sent && evbuffer_get_length(
		    client_output(px->ex)) >= CLIENT_HIWAT) {
			conn_disable(conn, EV_READ);
			px->paused = 1;
			return;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		if (proxy_feed(px, v.iov_base, v.iov_len, &used) == -1) {
			proxy_failed(px, 502, px->error);
			return;
		}
		evbuffer_drain(in, used);
		proxy_flush(px);
		if (px->tunnel) {
			proxy_tunnel_start(px);
			return;
		}
		if (used < v.iov_len && !px->complete) {
			proxy_failed(px, 502, "upstream_bad_response");
			return;
		}
	}
	if (px->ex == NULL)
		return;
	if (!px->complete && px->eof && evbuffer_get_length(in) == 0) {
		/* A close-delimited body ends here; anything else is cut. */
		if (proxy_feed(px, NULL, 0, &used) == -1 || !px->complete) {
			proxy_failed(px, 502, "upstream_closed");
			return;
		}
	}
	proxy_flush(px);		/* the last chunk, after an EOF */
	if (px->complete) {
		proxy_release(px);
		client_response_done(px->ex);	/* closes px */
	}
}

void
proxy_resume(struct proxy *px)
{
	if (!px->paused || px->closing)
		return;
	px->paused = 0;
	conn_enable(px->conn, EV_READ);
	proxy_on_read(px->conn, px);
}

static void
proxy_on_event(struct conn *conn, short events, void *arg)
{
	struct proxy	*px = arg;

	if (px->ex == NULL)
		return;
	if (events & CONN_EV_CONNECTED) {
		px->connected = 1;
		proxy_set_timeouts(px);
		return;
	}
	if (px->tunnel) {
		proxy_tunnel_event(px, events);
		return;
	}
	if ((events & (CONN_EV_EOF | CONN_EV_ERROR)) && proxy_retry(px))
		return;
	if (events & CONN_EV_ERROR && !px->connected &&
	    px->app->upstream.tls && proxy_tls_verify_failed(conn)) {
		proxy_failed(px, 502, "upstream_tls_verify");
		return;
	}
	if (events & CONN_EV_EOF) {
		px->eof = 1;
		proxy_on_read(conn, px);
		return;
	}
	if ((events & CONN_EV_TIMEOUT) && px->connected)
		proxy_failed(px, 504, "upstream_timeout");
	else if (events & CONN_EV_TIMEOUT)	/* issue 3: connect is 502 */
		proxy_failed(px, 502, "upstream_connect_timeout");
	else
		proxy_failed(px, 502, px->connected ? "upstream_error" :
		    "upstream_connect");
}

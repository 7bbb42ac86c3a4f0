/*
 * Listeners (see listener.h): accepting, choosing TLS or plain for the new
 * connection (conn.c), handing it to client.c; and the admin listener's
 * /metrics.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "adminstatus.h"
#include "buildinfo.h"
#include "certgauge.h"
#include "client.h"
#include "config.h"
#include "conn.h"
#include "connlimit.h"
#include "hashpool.h"
#include "listener.h"
#include "log.h"
#include "request.h"
#include "store.h"
#include "worker.h"

#define LISTENER_BACKLOG	1024
#define ADMIN_TIMEOUT_S		10

/* Owned by its worker (or serve_main for the admin listener). */
struct listener {
	struct evconnlistener	*evl;
	struct worker		*w;	/* NULL for admin */
	struct server		*srv;
	int			 tls;
	int			 redirect;
	int			 forward_auth;	/* mode: forward_auth */
	uint16_t		 https_port;
};

/* One admin connection: a request, a response, closed when written. */
struct admin_conn {
	struct bufferevent	*bev;
	struct server		*srv;
	struct request		*req;
};

uint16_t
listener_port(const struct config_addr *a)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;

	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return 0;
}

static struct conn *
listener_conn(struct listener *l, evutil_socket_t fd, SSL_CTX *ctx)
{
	SSL		*ssl = NULL;

	if (l->tls && (ctx == NULL || (ssl = SSL_new(ctx)) == NULL)) {
		evutil_closesocket(fd);
		return NULL;
	}
	/* From here the connection owns ssl and fd, even if creation fails. */
	return conn_new(l->w->base, fd, ssl, 1);
}

/*
 * max_connections_per_ip: count the connection from <sa> in <key>, or
 * close <fd> and log why.  Trusted proxies are counted but not limited:
 * every client of a load balancer arrives from its address.
 */
static int
listener_limit_ip(struct server *srv, const struct config *cfg,
    evutil_socket_t fd, const struct sockaddr *sa, struct connlimit_key *key)
{
	char		 peer[INET6_ADDRSTRLEN] = "unknown";
	const void	*a;
	uint64_t	 max = cfg->max_connections_per_ip;

	if (client_trusted(cfg, sa))
		max = 0;
	if (connlimit_acquire(srv->connlimit, sa, max, key) == 0)
		return 0;
	a = sa->sa_family == AF_INET6 ? (const void *)
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)(const void *)sa)->
	    sin_addr;
	(void)inet_ntop(sa->sa_family, a, peer, sizeof(peer));
	log_event(LOG_LEVEL_WARN, "reject", "reason", "conn_limit_ip",
	    "client", peer, (const char *)NULL);
	evutil_closesocket(fd);
	return -1;
}

static void
listener_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*l = arg;
	struct server	*srv = l->srv;
	struct config	*cfg;
	SSL_CTX		*ctx;
	struct conn	*conn;
	struct client	*clt;
	struct connlimit_key key;
	int		 one = 1;

	if (atomic_load(&srv->draining)) {
		evutil_closesocket(fd);
		return;
	}
	srv->ops->snapshot(srv, &cfg, &ctx);
	if (cfg->max_connections != 0 && atomic_load(
	    &srv->metrics.connections_open) >= cfg->max_connections) {
		log_event(LOG_LEVEL_WARN, "reject", "reason",
		    "max_connections", (const char *)NULL);
		evutil_closesocket(fd);
		goto out;
	}
	if (listener_limit_ip(srv, cfg, fd, sa, &key) == -1)
		goto out;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((conn = listener_conn(l, fd, ctx)) == NULL) {
		log_warnx("listener: cannot set up a connection");
		connlimit_release(srv->connlimit, &key);
		goto out;
	}
	if ((clt = client_new(l->w, conn, cfg, sa, l->tls, !l->tls &&
	    l->redirect, l->https_port, &key)) == NULL) {
		log_warnx("listener: out of memory for a client");
		connlimit_release(srv->connlimit, &key);
		conn_free(conn);
		goto out;
	}
	if (l->forward_auth)
		client_forward_auth(clt);
	cfg = NULL;			/* the client holds that reference */
out:
	config_unref(cfg);
	SSL_CTX_free(ctx);
}

static void
listener_on_error(struct evconnlistener *evl, void *arg)
{
	log_warn("listener: accept");	/* e.g. EMFILE; libevent retries */
}

static struct listener *
listener_open(struct event_base *base, const struct config_addr *addr,
    evconnlistener_cb cb, struct listener *l, unsigned int flags,
    char *err, size_t errlen)
{
	l->evl = evconnlistener_new_bind(base, cb, l, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | flags,
	    LISTENER_BACKLOG, (const struct sockaddr *)&addr->ss,
	    (int)addr->sslen);
	if (l->evl == NULL) {
		(void)snprintf(err, errlen, "listen on %s: %s", addr->text,
		    strerror(errno));
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, listener_on_error);
	return l;
}

struct listener *
listener_new(struct worker *w, const struct config_listen *lc,
    uint16_t https_port, char *err, size_t errlen)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->w = w;
	l->srv = w->srv;
	l->tls = lc->tls;
	l->redirect = lc->redirect;
	l->forward_auth = lc->forward_auth;
	l->https_port = https_port;
	return listener_open(w->base, &lc->addr, listener_on_accept, l,
	    LEV_OPT_REUSEABLE_PORT, err, errlen);
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	free(l);
}

/* ---- admin: /metrics, /status ---- */

static void
admin_free(struct admin_conn *ac)
{
	bufferevent_free(ac->bev);
	request_free(ac->req);
	free(ac);
}

/* Sum every worker's counters now; they keep counting meanwhile. */
static void
admin_metrics(struct server *srv, struct evbuffer *b)
{
	struct metrics_snap	 snap;
	const struct metseries	**series;
	unsigned int		 i;

	if ((series = calloc(srv->nworkers + 1, sizeof(*series))) == NULL)
		return;
	memset(&snap, 0, sizeof(snap));
	snap.redis_up = 1;
	for (i = 0; i < srv->nworkers; i++) {
		metrics_add(&snap, &srv->workers[i].metrics);
		series[i] = &srv->workers[i].metrics.series;
		if (srv->workers[i].store != NULL &&
		    !store_healthy(srv->workers[i].store))
			snap.redis_up = 0;
	}
	snap.redis_failovers = store_failovers_total();
	if (srv->hashpool != NULL)
		snap.hash_queue = hashpool_queued(srv->hashpool);
	if (metrics_render(b, &snap, &srv->metrics, buildinfo_commit) == 0 &&
	    metseries_render(b, series, srv->nworkers) == 0)
		(void)certgauge_render(b, srv);
	free(series);
}

static void
admin_respond(struct admin_conn *ac, enum request_result r)
{
	struct evbuffer	*out = bufferevent_get_output(ac->bev);
	struct evbuffer	*body = evbuffer_new();
	struct request	*req = ac->req;
	int		 status = 404, json = 0;

	if (body == NULL) {
		admin_free(ac);
		return;
	}
	if (r == REQUEST_ERROR)
		status = req->status;
	else if (strcmp(req->path, "/metrics") == 0 &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		status = 200;
		admin_metrics(ac->srv, body);
	} else if (strcmp(req->path, "/status") == 0 &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		status = 200;
		json = 1;
		admin_status(ac->srv, body);
	} else
		evbuffer_add_printf(body, "not found\n");
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, status == 200 ? "OK" :
	    "Error", json ? "application/json" : status == 200 ?
	    "text/plain; version=0.0.4" : "text/plain",
	    evbuffer_get_length(body));
	if (r != REQUEST_ERROR && req->method != HTTP_HEAD)
		evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	bufferevent_disable(ac->bev, EV_READ);
}

static void
admin_on_read(struct bufferevent *bev, void *arg)
{
	struct admin_conn *ac = arg;
	enum request_result r;

	if (ac->req->head_done || ac->req->reason != NULL)
		return;
	if ((r = request_parse_head(ac->req, bufferevent_get_input(bev))) !=
	    REQUEST_MORE)
		admin_respond(ac, r);
}

static void
admin_on_write(struct bufferevent *bev, void *arg)
{
	struct admin_conn *ac = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    (ac->req->head_done || ac->req->reason != NULL))
		admin_free(ac);
}

static void
admin_on_event(struct bufferevent *bev, short events, void *arg)
{
	admin_free(arg);
}

static void
admin_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*l = arg;
	struct request_limits lim = { 0 };
	struct admin_conn *ac;
	struct timeval	 tv = { ADMIN_TIMEOUT_S, 0 };

	request_limits_defaults(&lim);
	lim.max_body_size = 1;
	if ((ac = calloc(1, sizeof(*ac))) == NULL ||
	    (ac->req = request_new(&lim)) == NULL ||
	    (ac->bev = bufferevent_socket_new(evconnlistener_get_base(evl),
	    fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		if (ac != NULL)
			request_free(ac->req);
		free(ac);
		evutil_closesocket(fd);
		return;
	}
	ac->srv = l->srv;
	bufferevent_setcb(ac->bev, admin_on_read, admin_on_write,
	    admin_on_event, ac);
	bufferevent_set_timeouts(ac->bev, &tv, &tv);
	bufferevent_enable(ac->bev, EV_READ | EV_WRITE);
}

struct listener *
listener_admin_new(struct server *srv, struct event_base *base,
    const struct config_addr *addr, char *err, size_t errlen)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->srv = srv;
	return listener_open(base, addr, admin_on_accept, l, 0, err, errlen);
}

/*
 * Upstream keep-alive pools (see pool.h).  A pool holds one bucket per
 * upstream identity (address, TLS, server name, CA); a bucket is a list of
 * idle connections, the most recently parked last, since that one is the
 * least likely to have been closed by the peer.  Buckets live as long as
 * the pool: there are few upstreams, and a reload keeps most of them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "pool.h"
#include "timeutil.h"

struct pool_bucket;

/* Owned by its bucket's idle list while parked. */
struct pool_conn {
	TAILQ_ENTRY(pool_conn)	 entry;
	struct pool_bucket	*bucket;
	struct conn		*conn;
};

TAILQ_HEAD(pool_conn_list, pool_conn);

/* One upstream identity; owned by the pool. */
struct pool_bucket {
	TAILQ_ENTRY(pool_bucket) entry;
	struct pool		*pool;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 tls;
	char			*server_name;	/* NULL: the URL's host */
	char			*ca_file;	/* NULL: system trust store */
	struct pool_conn_list	 idle;
	size_t			 nidle;
};

/* Owned by its worker. */
struct pool {
	struct event_base		*base;
	TAILQ_HEAD(, pool_bucket)	 buckets;
	size_t				 nidle;
};

static int
pool_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
pool_bucket_is(const struct pool_bucket *b, const struct config_upstream *up)
{
	return b->sslen == up->addr.sslen && b->tls == up->tls &&
	    memcmp(&b->ss, &up->addr.ss, b->sslen) == 0 &&
	    pool_str_eq(b->server_name, up->server_name) &&
	    pool_str_eq(b->ca_file, up->ca_file);
}

static struct pool_bucket *
pool_bucket_find(struct pool *pool, const struct config_upstream *up)
{
	struct pool_bucket	*b;

	TAILQ_FOREACH(b, &pool->buckets, entry)
		if (pool_bucket_is(b, up))
			return b;
	return NULL;
}

static void
pool_bucket_free(struct pool_bucket *b)
{
	if (b == NULL)
		return;
	free(b->server_name);
	free(b->ca_file);
	free(b);
}

static struct pool_bucket *
pool_bucket_new(struct pool *pool, const struct config_upstream *up)
{
	struct pool_bucket	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->pool = pool;
	memcpy(&b->ss, &up->addr.ss, up->addr.sslen);
	b->sslen = up->addr.sslen;
	b->tls = up->tls;
	TAILQ_INIT(&b->idle);
	if ((up->server_name != NULL &&
	    (b->server_name = strdup(up->server_name)) == NULL) ||
	    (up->ca_file != NULL && (b->ca_file = strdup(up->ca_file)) ==
	    NULL)) {
		pool_bucket_free(b);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&pool->buckets, b, entry);
	return b;
}

struct pool *
pool_new(struct event_base *base)
{
	struct pool	*pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	pool->base = base;
	TAILQ_INIT(&pool->buckets);
	return pool;
}

/* Unlink <pc> from its bucket; the caller takes its connection. */
static struct conn *
pool_unlink(struct pool_conn *pc)
{
	struct pool_bucket	*b = pc->bucket;
	struct conn	*conn = pc->conn;

	TAILQ_REMOVE(&b->idle, pc, entry);
	b->nidle--;
	b->pool->nidle--;
	free(pc);
	/*
	 * Reading and writing stay enabled, and the idle timeout stays: the
	 * new owner sets its callbacks and timeouts before the loop runs
	 * again, and turning events off and on would cost epoll_ctl() calls
	 * (and timer updates) on every request.
	 */
	conn_setcb(conn, NULL, NULL, NULL, NULL);
	return conn;
}

/*
 * Anything from a parked connection ends it: a close, an error, the idle
 * timeout, or bytes no request asked for (which would otherwise be read as
 * the next request's response).  Freeing the connection from its own
 * callback is safe: conn.c frees it once the callback has returned.
 */
static void
pool_on_read(struct conn *conn, void *arg)
{
	if (evbuffer_get_length(conn_input(conn)) == 0)
		return;		/* nothing new (cannot happen; cheap to check) */
	log_debug("%s: unexpected bytes on an idle upstream connection",
	    __func__);
	conn_free(pool_unlink(arg));
}

static void
pool_on_event(struct conn *conn, short events, void *arg)
{
	log_debug("%s: idle upstream connection %s", __func__,
	    (events & CONN_EV_TIMEOUT) ? "timed out" : "closed");
	conn_free(pool_unlink(arg));
}

struct conn *
pool_get(struct pool *pool, const struct config_upstream *up)
{
	struct pool_bucket	*b;

	if (pool == NULL || (b = pool_bucket_find(pool, up)) == NULL ||
	    TAILQ_EMPTY(&b->idle))
		return NULL;
	return pool_unlink(TAILQ_LAST(&b->idle, pool_conn_list));
}

void
pool_put(struct pool *pool, const struct config_upstream *up,
    struct conn *conn, uint64_t idle_ms)
{
	struct pool_bucket	*b;
	struct pool_conn	*pc;
	struct timeval		 tv;

	if (pool == NULL || ((b = pool_bucket_find(pool, up)) == NULL &&
	    (b = pool_bucket_new(pool, up)) == NULL) ||
	    (pc = calloc(1, sizeof(*pc))) == NULL) {
		conn_free(conn);
		return;
	}
	/* Full: the oldest idle connection makes room (LRU). */
	if (b->nidle >= POOL_IDLE_PER_UPSTREAM || pool->nidle >= POOL_IDLE_MAX) {
		if (TAILQ_EMPTY(&b->idle)) {
			free(pc);
			conn_free(conn);
			return;
		}
		conn_free(pool_unlink(TAILQ_FIRST(&b->idle)));
	}
	pc->bucket = b;
	pc->conn = conn;
	TAILQ_INSERT_TAIL(&b->idle, pc, entry);
	b->nidle++;
	pool->nidle++;
	conn_setcb(conn, pool_on_read, NULL, pool_on_event, pc);
	conn_setwatermark(conn, EV_READ, 0, 0);
	conn_set_timeouts(conn, timeutil_timeout(&tv, idle_ms), NULL);
	conn_enable(conn, EV_READ);	/* nothing to write: no event */
}

void
pool_free(struct pool *pool)
{
	struct pool_bucket	*b;

	if (pool == NULL)
		return;
	while ((b = TAILQ_FIRST(&pool->buckets)) != NULL) {
		while (!TAILQ_EMPTY(&b->idle))
			conn_free(pool_unlink(TAILQ_FIRST(&b->idle)));
		TAILQ_REMOVE(&pool->buckets, b, entry);
		pool_bucket_free(b);
	}
	free(pool);
}

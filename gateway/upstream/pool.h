/*
 * Idle keep-alive connections to upstreams, one pool per worker (so no
 * locking): a connection whose response ended cleanly is parked here and
 * handed to the next request for the same upstream.  While parked, the
 * pool watches it: bytes or a close from the peer, or the idle timeout,
 * discard it at once, so a stale connection is rarely handed out (and
 * proxy.c retries the rare one that is, when it is safe to).
 */
#ifndef POSTERN_POOL_H
#define POSTERN_POOL_H

#include <stdint.h>

struct conn;
struct config_upstream;
struct event_base;

/* Idle connections kept per upstream and per worker in all. */
#define POOL_IDLE_PER_UPSTREAM	256
#define POOL_IDLE_MAX		4096

struct pool;

/* A pool for the loop <base>; NULL on allocation failure. */
struct pool	*pool_new(struct event_base *base);

/* Close every idle connection and free the pool; NULL-safe. */
void		 pool_free(struct pool *);

/*
 * An idle connection to <up> (same address and TLS identity), its
 * callbacks cleared but reading and writing still enabled (nothing is
 * queued) and the pool's idle timeout still set: the caller owns it from
 * now on and must set its callbacks and timeouts before returning to the
 * loop.  NULL if there is none.
 */
struct conn *pool_get(struct pool *, const struct config_upstream *up);

/*
 * Park <conn>, a connection to <up> that is between two responses (nothing
 * buffered either way), for at most <idle_ms> (0: no limit).  The pool
 * owns it from now on, and frees it at once if it is full.
 */
void		 pool_put(struct pool *, const struct config_upstream *up,
		    struct conn *conn, uint64_t idle_ms);

#endif

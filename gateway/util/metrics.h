/*
 * Counters for /metrics (Prometheus text format 0.0.4).  Each worker owns
 * a struct metrics that only its own thread writes, with relaxed atomic
 * adds: nothing is shared or locked on the request path.  The admin
 * listener (main thread) sums every worker's struct at scrape time.
 */
#ifndef POSTERN_METRICS_H
#define POSTERN_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/*
 * What became of a request: forwarded or served by the gateway (allow),
 * refused by the gateway (deny: policy, bad input, limits, unknown host),
 * or failed (error: upstream failure, response aborted).
 */
enum metrics_decision {
	METRICS_ALLOW = 0,
	METRICS_DENY,
	METRICS_ERROR,
	METRICS_NDECISIONS,
};

/* Kinds of upstream failure, the "kind" label. */
enum metrics_upstream {
	METRICS_UP_CONNECT = 0,	/* refused, unreachable, connect timeout */
	METRICS_UP_TIMEOUT,	/* no response head in time */
	METRICS_UP_CLOSED,	/* closed or reset mid-response */
	METRICS_UP_PROTOCOL,	/* malformed or oversized response */
	METRICS_UP_TLS,		/* https:// upstream handshake or verify */
	METRICS_UP_OTHER,
	METRICS_NUPSTREAM,
};

/* Why a mail was dropped: the "reason" label of postern_mail_failed_total. */
enum metrics_mail {
	METRICS_MAIL_CONNECT = 0,	/* resolve, refused, unreachable */
	METRICS_MAIL_TLS,		/* STARTTLS missing, handshake, verify */
	METRICS_MAIL_AUTH,		/* SMTP AUTH refused */
	METRICS_MAIL_TIMEOUT,		/* mail.timeout */
	METRICS_MAIL_REJECTED,		/* 5xx: not retried */
	METRICS_MAIL_TEMPFAIL,		/* 4xx after the last retry */
	METRICS_MAIL_OTHER,
	METRICS_MAIL_QUEUE_FULL,	/* mail.queue_max: never queued */
	METRICS_MAIL_INVALID,		/* address, template or values refused */
	METRICS_NMAIL,
};

#define METRICS_NBUCKETS	12	/* duration buckets, +Inf apart */

/* One worker's counters; embedded in struct worker. */
struct metrics {
	atomic_uint_fast64_t	requests[5][METRICS_NDECISIONS]; /* 1xx..5xx */
	atomic_uint_fast64_t	duration[METRICS_NBUCKETS + 1]; /* per bucket */
	atomic_uint_fast64_t	duration_us;	/* sum, microseconds */
	atomic_uint_fast64_t	upstream_errors[METRICS_NUPSTREAM];
	atomic_uint_fast64_t	connections_total;
	atomic_uint_fast64_t	tls_handshake_failures;
	atomic_uint_fast64_t	rejects;	/* refused with a reason */
	atomic_uint_fast64_t	upstream_dropped; /* response headers */
	atomic_uint_fast64_t	mail_sent;	/* accepted by the server */
	atomic_uint_fast64_t	mail_failed[METRICS_NMAIL];
	atomic_uint_fast64_t	mail_retries;	/* attempts after a first */
	atomic_uint_fast64_t	mail_queue;	/* gauge, set by the mailer */
	atomic_uint_fast64_t	rate_limited;	/* 429 by a rate-limit class */
	atomic_uint_fast64_t	rate_shed;	/* ...of them without Redis */
	atomic_uint_fast64_t	webhook_delivered;
	atomic_uint_fast64_t	webhook_failed;	/* given up, refused, dropped */
	atomic_uint_fast64_t	webhook_retries;
	atomic_uint_fast64_t	webhook_queue;	/* gauge */
	atomic_uint_fast64_t	scache_hits;	/* session cache: served from it */
	atomic_uint_fast64_t	scache_misses;	/* ...looked up in Redis */
	atomic_uint_fast64_t	scache_invalidations;	/* entries dropped by a report */
	atomic_uint_fast64_t	scache_flushes;	/* cache emptied (tracking lost) */
	atomic_uint_fast64_t	scache_entries;	/* gauge */
	atomic_uint_fast64_t	scache_active;	/* gauge: 1 while tracking works */
	atomic_uint_fast64_t	assertion_signed;	/* assertions signed */
	atomic_uint_fast64_t	assertion_reused;	/* ...sent again from the cache */
};

/* Process-wide values, written on accept/close and reload only. */
struct metrics_global {
	atomic_uint_fast64_t	connections_open;	/* max_connections too */
	atomic_uint_fast64_t	reloads_ok;
	atomic_uint_fast64_t	reloads_failed;
};

/* Count one request of <status> that took <usec> microseconds. */
void		 metrics_request(struct metrics *, int status,
		    enum metrics_decision, uint64_t usec);
/* Count an upstream failure by its log reason (e.g. "upstream_timeout"). */
void		 metrics_upstream_error(struct metrics *, const char *reason);
/* Add one to a counter of the calling worker's own struct. */
void		 metrics_inc(atomic_uint_fast64_t *);
/* "connect", "tls", ... "queue_full", "invalid": the label and log reason. */
const char	*metrics_mail_reason(enum metrics_mail);
/* "allow", "deny", "error". */
const char	*metrics_decision_name(enum metrics_decision);

/* A scrape: plain sums of every worker's struct metrics. */
struct metrics_snap {
	uint64_t	requests[5][METRICS_NDECISIONS];
	uint64_t	duration[METRICS_NBUCKETS + 1];
	uint64_t	duration_us;
	uint64_t	upstream_errors[METRICS_NUPSTREAM];
	uint64_t	connections_total;
	uint64_t	tls_handshake_failures;
	uint64_t	rejects;
	uint64_t	upstream_dropped;
	uint64_t	mail_sent;
	uint64_t	mail_failed[METRICS_NMAIL];
	uint64_t	mail_retries;
	uint64_t	mail_queue;
	uint64_t	rate_limited;
	uint64_t	rate_shed;
	uint64_t	webhook_delivered;
	uint64_t	webhook_failed;
	uint64_t	webhook_retries;
	uint64_t	webhook_queue;
	uint64_t	scache_hits;
	uint64_t	scache_misses;
	uint64_t	scache_invalidations;
	uint64_t	scache_flushes;
	uint64_t	scache_entries;
	uint64_t	scache_active;
	uint64_t	assertion_signed;
	uint64_t	assertion_reused;
	uint64_t	redis_up;	/* 1: every worker's Redis is up */
	uint64_t	redis_failovers;	/* changes of primary followed */
};

/* Add <m> (a worker's, read with relaxed loads) into <s>. */
void		 metrics_add(struct metrics_snap *s, const struct metrics *m);

/* Append the exposition text of <s> and <g> to <out>; 0, or -1. */
int		 metrics_render(struct evbuffer *out,
		    const struct metrics_snap *s, const struct metrics_global *g);

#endif

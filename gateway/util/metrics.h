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

#include "metseries.h"

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

/*
 * A histogram of durations: per-bucket counts (made cumulative when
 * rendered) and the sum.  The bounds are METRICS_SLOW (5 ms to 30 s:
 * requests, upstream, hashing) or METRICS_FAST (0.1 ms to 1 s: Redis).
 */
struct metrics_hist {
	atomic_uint_fast64_t	b[METRICS_NBUCKETS + 1];
	atomic_uint_fast64_t	sum_us;
};
enum metrics_bounds {
	METRICS_SLOW = 0,
	METRICS_FAST,
};

/*
 * Security events by outcome, the families postern_signin_total,
 * postern_mfa_total, postern_magic_link_total, postern_password_reset_total
 * and postern_lockouts_total; metrics_auth_name() has their labels.
 */
enum metrics_auth {
	METRICS_SIGNIN_OK = 0,		/* password, session made */
	METRICS_SIGNIN_MFA,		/* ...second factor next */
	METRICS_SIGNIN_BAD,		/* wrong password */
	METRICS_SIGNIN_UNKNOWN,		/* no such user (same answer) */
	METRICS_SIGNIN_DISABLED,
	METRICS_SIGNIN_LOCKED,		/* refused by the login class */
	METRICS_SIGNIN_SSO_REQUIRED,	/* sent to the org's provider */
	METRICS_SIGNIN_OTHER,		/* bad form, ... */
	METRICS_SIGNIN_MAGIC,		/* a magic link signed in */
	METRICS_SIGNIN_SSO_OK,
	METRICS_SIGNIN_SSO_FAILED,
	METRICS_MFA_OK,
	METRICS_MFA_WRONG,
	METRICS_MFA_LOCKED,
	METRICS_MFA_BACKUP,		/* a backup code was used */
	METRICS_MAGIC_SENT,
	METRICS_MAGIC_USED,
	METRICS_MAGIC_REFUSED,		/* unknown, used or expired link */
	METRICS_RESET_SENT,
	METRICS_RESET_DONE,
	METRICS_RESET_REFUSED,
	METRICS_LOCKOUT,		/* a sign-in lockout began */
	METRICS_NAUTH,
};

/* One worker's counters; embedded in struct worker. */
struct metrics {
	atomic_uint_fast64_t	requests[5][METRICS_NDECISIONS]; /* 1xx..5xx */
	struct metrics_hist	duration;	/* head to end of response */
	struct metrics_hist	upstream;	/* forwarded to response head */
	struct metrics_hist	redis;		/* command to reply */
	atomic_uint_fast64_t	redis_reconnects; /* connection restored */
	atomic_uint_fast64_t	auth[METRICS_NAUTH];
	struct metseries	series;		/* labelled (metseries.h) */
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
	struct metrics_hist	hash_wait;	/* queued for a hash thread */
};

/* Count one request of <status> that took <usec> microseconds. */
void		 metrics_request(struct metrics *, int status,
		    enum metrics_decision, uint64_t usec);
/* Add a duration of <usec> microseconds to <h> with its <bounds>. */
void		 metrics_observe(struct metrics_hist *h,
		    enum metrics_bounds bounds, uint64_t usec);
/*
 * Count audit event <action> (docs/audit.md) with <ok> and <reason> in
 * the security families, if it is one of theirs.
 */
void		 metrics_audit(struct metrics *, const char *action, int ok,
		    const char *reason);
/* Count an upstream failure by its log reason (e.g. "upstream_timeout"). */
void		 metrics_upstream_error(struct metrics *, const char *reason);
/* Add one to a counter of the calling worker's own struct. */
void		 metrics_inc(atomic_uint_fast64_t *);
/* "connect", "tls", ... "queue_full", "invalid": the label and log reason. */
const char	*metrics_mail_reason(enum metrics_mail);
/* "allow", "deny", "error". */
const char	*metrics_decision_name(enum metrics_decision);

/* A histogram read at scrape time. */
struct metrics_hsnap {
	uint64_t	b[METRICS_NBUCKETS + 1];
	uint64_t	sum_us;
};

/* A scrape: plain sums of every worker's struct metrics. */
struct metrics_snap {
	uint64_t	requests[5][METRICS_NDECISIONS];
	struct metrics_hsnap duration;
	struct metrics_hsnap upstream;
	struct metrics_hsnap redis;
	uint64_t	redis_reconnects;
	uint64_t	auth[METRICS_NAUTH];
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
	uint64_t	hash_queue;	/* hashes waiting for a thread */
};

/* Add <m> (a worker's, read with relaxed loads) into <s>. */
void		 metrics_add(struct metrics_snap *s, const struct metrics *m);
/* Add histogram <h> into <s>. */
void		 metrics_add_hist(struct metrics_hsnap *s,
		    const struct metrics_hist *h);
/* Append "# HELP <name> <help>" and "# TYPE <name> <type>"; 0, or -1. */
int		 metrics_head(struct evbuffer *out, const char *name,
		    const char *type, const char *help);
/* Append the security families (metricsauth.c) of <auth>; 0, or -1. */
int		 metrics_auth_render(struct evbuffer *out,
		    const uint64_t auth[METRICS_NAUTH]);

/*
 * Append the exposition text of <s> and <g> to <out>, with
 * postern_build_info naming <commit>; 0, or -1.
 */
int		 metrics_render(struct evbuffer *out,
		    const struct metrics_snap *s,
		    const struct metrics_global *g, const char *commit);

#endif

/*
 * What the ACME driver did, for /metrics and the audit trail: orders by
 * outcome, failures by a bounded reason (the last segment of the CA's
 * problem type from a fixed list, or a local reason), the hosts whose
 * last order failed, and the exposition of the certificates' states and
 * expiry from a host list the admin listener assembles (the configured
 * and registered hosts only: never a name a client sent).
 *
 * One per server (srv->acmestat).  The driver (worker 0) writes, the
 * admin listener (main thread) reads: counters are relaxed atomics, the
 * set of failing hosts is under a mutex.  An optional sink, set once
 * before the workers start, hears each outcome on the driver's thread
 * (the app layer records it in the audit trail).
 */
#ifndef POSTERN_ACMESTAT_H
#define POSTERN_ACMESTAT_H

#include <stddef.h>
#include <time.h>

struct evbuffer;
struct acmestat;

/* A certificate with less than this left is "expiring". */
#define ACMESTAT_EXPIRING	(14 * 86400)

/* The reason label of a failed order (postern_acme_failures_total). */
enum acmestat_reason {
	ACMESTAT_BADNONCE = 0,		/* CA problem types (RFC 8555 6.7) */
	ACMESTAT_RATELIMITED,
	ACMESTAT_CONNECTION,
	ACMESTAT_UNAUTHORIZED,
	ACMESTAT_DNS,
	ACMESTAT_CAA,
	ACMESTAT_TLS,
	ACMESTAT_INCORRECT,		/* incorrectResponse */
	ACMESTAT_REJECTED,		/* rejectedIdentifier */
	ACMESTAT_SERVERINTERNAL,
	ACMESTAT_TIMEOUT,		/* local: no answer, or polls ran out */
	ACMESTAT_LOCK,			/* local: the lock was lost */
	ACMESTAT_CSR,			/* local: key or CSR not made */
	ACMESTAT_OTHER,
	ACMESTAT_NREASONS,
};

/* One outcome, as the sink hears it. */
struct acmestat_outcome {
	const char	*host;
	int		 issued;	/* 1: a certificate was stored */
	int		 renewal;	/* it replaced one */
	const char	*reason;	/* failed: the reason label */
};

typedef void	(*acmestat_sink)(void *arg, const struct acmestat_outcome *);

/* A host of the exposition and its certificate's end (0: none). */
struct acmestat_host {
	const char	*host;
	time_t		 not_after;
};

/* Empty statistics; NULL when out of memory. */
struct acmestat	*acmestat_new(void);
/* NULL-safe. */
void		 acmestat_free(struct acmestat *st);
/* Hear every outcome from now on (call before the driver runs). */
void		 acmestat_set_sink(struct acmestat *st, acmestat_sink fn,
		    void *arg);

/*
 * The reason of a failure from the driver's text <detail> ("step: type:
 * detail (HTTP n)", "challenge failed: type: detail", "step:
 * httpc_timeout", ...): the first segment that is a known problem type,
 * else a local reason, else ACMESTAT_OTHER.  Never looks past the first
 * few segments, so the CA's free text cannot pick the label.
 */
enum acmestat_reason acmestat_reason(const char *detail);
/* The label of <r> ("badNonce", ..., "other"). */
const char	*acmestat_reason_name(enum acmestat_reason r);

/* The order of <host> stored a certificate (<renewal>: it had one). */
void		 acmestat_issued(struct acmestat *st, const char *host,
		    int renewal);
/*
 * The order of <host> failed with <r>.  NULL-safe in <st>, like
 * acmestat_issued(): a driver without statistics counts nothing.
 */
void		 acmestat_failed(struct acmestat *st, const char *host,
		    enum acmestat_reason r);
/* Whether the last order of <host> on this instance failed. */
int		 acmestat_failing(struct acmestat *st, const char *host);

/*
 * Append the exposition to <out>: the counters, and of the <n> hosts <h>
 * (duplicates counted once) their states at <now> -- valid, expiring
 * (less than ACMESTAT_EXPIRING left), expired, failed (no certificate
 * and the last order failed), pending (no certificate yet) -- with the
 * seconds left of each certificate and of the soonest.  0, or -1.
 */
int		 acmestat_render(struct evbuffer *out, struct acmestat *st,
		    struct acmestat_host *h, size_t n, time_t now);

#endif

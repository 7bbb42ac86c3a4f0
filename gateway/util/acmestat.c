/*
 * ACME statistics (see acmestat.h).  The failing hosts are a sorted array
 * of names: at most one per host the driver orders, which the
 * configuration and the custom-domain registry bound.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "acmestat.h"

#define RELAXED		memory_order_relaxed
#define ACMESTAT_SEGMENTS	3	/* of a detail looked at */

struct acmestat {
	atomic_uint_fast64_t	 issued;
	atomic_uint_fast64_t	 failed;
	atomic_uint_fast64_t	 reasons[ACMESTAT_NREASONS];
	pthread_mutex_t		 lock;		/* guards what follows */
	char			**failing;	/* sorted host names */
	size_t			 nfailing, cap;
	acmestat_sink		 sink;		/* set before any outcome */
	void			*sink_arg;
};

static const char *const acmestat_names[ACMESTAT_NREASONS] = {
	[ACMESTAT_BADNONCE] = "badNonce",
	[ACMESTAT_RATELIMITED] = "rateLimited",
	[ACMESTAT_CONNECTION] = "connection",
	[ACMESTAT_UNAUTHORIZED] = "unauthorized",
	[ACMESTAT_DNS] = "dns",
	[ACMESTAT_CAA] = "caa",
	[ACMESTAT_TLS] = "tls",
	[ACMESTAT_INCORRECT] = "incorrectResponse",
	[ACMESTAT_REJECTED] = "rejectedIdentifier",
	[ACMESTAT_SERVERINTERNAL] = "serverInternal",
	[ACMESTAT_TIMEOUT] = "timeout",
	[ACMESTAT_LOCK] = "lock",
	[ACMESTAT_CSR] = "csr",
	[ACMESTAT_OTHER] = "other",
};

/* Local failures, by a segment of the driver's text. */
static const struct {
	const char		*segment;
	enum acmestat_reason	 reason;
} acmestat_local[] = {
	{ "httpc_timeout", ACMESTAT_TIMEOUT },
	{ "httpc_connect", ACMESTAT_CONNECTION },
	{ "httpc_tls", ACMESTAT_TLS },
};

struct acmestat *
acmestat_new(void)
{
	struct acmestat	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

void
acmestat_free(struct acmestat *st)
{
	size_t	i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nfailing; i++)
		free(st->failing[i]);
	free(st->failing);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void
acmestat_set_sink(struct acmestat *st, acmestat_sink fn, void *arg)
{
	st->sink = fn;
	st->sink_arg = arg;
}

const char *
acmestat_reason_name(enum acmestat_reason r)
{
	return (unsigned int)r < ACMESTAT_NREASONS ? acmestat_names[r] :
	    "other";
}

/* The reason segment <s> (<len> bytes) names, or ACMESTAT_NREASONS. */
static enum acmestat_reason
acmestat_segment(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < ACMESTAT_TIMEOUT; i++)
		if (strlen(acmestat_names[i]) == len &&
		    strncmp(s, acmestat_names[i], len) == 0)
			return (enum acmestat_reason)i;
	for (i = 0; i < sizeof(acmestat_local) / sizeof(acmestat_local[0]);
	    i++)
		if (strlen(acmestat_local[i].segment) == len &&
		    strncmp(s, acmestat_local[i].segment, len) == 0)
			return acmestat_local[i].reason;
	return ACMESTAT_NREASONS;
}

enum acmestat_reason
acmestat_reason(const char *detail)
{
	const char		*s = detail, *end;
	enum acmestat_reason	 r;
	int			 i;

	if (detail == NULL)
		return ACMESTAT_OTHER;
	for (i = 0; i < ACMESTAT_SEGMENTS && *s != '\0'; i++) {
		end = strstr(s, ": ");
		r = acmestat_segment(s, end != NULL ? (size_t)(end - s) :
		    strlen(s));
		if (r != ACMESTAT_NREASONS)
			return r;
		if (end == NULL)
			break;
		s = end + 2;
	}
	if (strstr(detail, "polls") != NULL)
		return ACMESTAT_TIMEOUT;
	if (strstr(detail, "CSR") != NULL)
		return ACMESTAT_CSR;
	return ACMESTAT_OTHER;
}

/* The index of <host> in the failing set, or where it would go (-1 - i). */
static long
acmestat_find(const struct acmestat *st, const char *host)
{
	size_t	lo = 0, hi = st->nfailing, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcasecmp(host, st->failing[mid])) == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1 - (long)lo;
}

/* Put <host> in (<on>) or out of the failing set; out of memory: as is. */
static void
acmestat_mark(struct acmestat *st, const char *host, int on)
{
	long	at;
	char	**grown, *copy;
	size_t	i;

	pthread_mutex_lock(&st->lock);
	at = acmestat_find(st, host);
	if (!on && at >= 0) {
		free(st->failing[at]);
		memmove(&st->failing[at], &st->failing[at + 1],
		    (st->nfailing - (size_t)at - 1) * sizeof(char *));
		st->nfailing--;
	} else if (on && at < 0) {
		i = (size_t)(-1 - at);
		if (st->nfailing == st->cap && (grown = reallocarray(
		    st->failing, st->cap * 2 + 8, sizeof(char *))) != NULL) {
			st->failing = grown;
			st->cap = st->cap * 2 + 8;
		}
		if (st->nfailing < st->cap && (copy = strdup(host)) != NULL) {
			memmove(&st->failing[i + 1], &st->failing[i],
			    (st->nfailing - i) * sizeof(char *));
			st->failing[i] = copy;
			st->nfailing++;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

void
acmestat_issued(struct acmestat *st, const char *host, int renewal)
{
	struct acmestat_outcome	o = { host, 1, renewal, NULL };

	if (st == NULL)
		return;
	atomic_fetch_add_explicit(&st->issued, 1, RELAXED);
	acmestat_mark(st, host, 0);
	if (st->sink != NULL)
		st->sink(st->sink_arg, &o);
}

void
acmestat_failed(struct acmestat *st, const char *host,
    enum acmestat_reason r)
{
	struct acmestat_outcome	o = { host, 0, 0, acmestat_reason_name(r) };

	if (st == NULL)
		return;
	if ((unsigned int)r >= ACMESTAT_NREASONS)
		r = ACMESTAT_OTHER;
	atomic_fetch_add_explicit(&st->failed, 1, RELAXED);
	atomic_fetch_add_explicit(&st->reasons[r], 1, RELAXED);
	acmestat_mark(st, host, 1);
	if (st->sink != NULL)
		st->sink(st->sink_arg, &o);
}

int
acmestat_failing(struct acmestat *st, const char *host)
{
	int	on;

	pthread_mutex_lock(&st->lock);
	on = acmestat_find(st, host) >= 0;
	pthread_mutex_unlock(&st->lock);
	return on;
}

/* ---- exposition ---- */

enum acmestat_state {
	ACMESTAT_VALID = 0,
	ACMESTAT_EXPIRING_SOON,
	ACMESTAT_EXPIRED,
	ACMESTAT_PENDING,
	ACMESTAT_FAILED,
	ACMESTAT_NSTATES,
};

static const char *const acmestat_states[ACMESTAT_NSTATES] = {
	"valid", "expiring", "expired", "pending", "failed",
};

static int
acmestat_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0 ? -1 : 0;
}

static int
acmestat_render_counters(struct evbuffer *out, struct acmestat *st)
{
	size_t	i;
	int	rc;

	rc = acmestat_head(out, "postern_acme_orders_total", "counter",
	    "ACME orders this instance finished, by outcome.");
	if (rc == 0 && evbuffer_add_printf(out, "postern_acme_orders_total"
	    "{outcome=\"issued\"} %" PRIu64 "\npostern_acme_orders_total"
	    "{outcome=\"failed\"} %" PRIu64 "\n",
	    (uint64_t)atomic_load_explicit(&st->issued, RELAXED),
	    (uint64_t)atomic_load_explicit(&st->failed, RELAXED)) < 0)
		rc = -1;
	if (rc == 0)
		rc = acmestat_head(out, "postern_acme_failures_total",
		    "counter", "Failed ACME orders, by the CA's problem type "
		    "or a local reason.");
	for (i = 0; i < ACMESTAT_NREASONS && rc == 0; i++)
		rc = evbuffer_add_printf(out, "postern_acme_failures_total"
		    "{reason=\"%s\"} %" PRIu64 "\n", acmestat_names[i],
		    (uint64_t)atomic_load_explicit(&st->reasons[i], RELAXED)) <
		    0 ? -1 : 0;
	return rc;
}

static int
acmestat_host_cmp(const void *a, const void *b)
{
	const struct acmestat_host *x = a, *y = b;
	int	c;

	if ((c = strcasecmp(x->host, y->host)) != 0)
		return c;
	return x->not_after < y->not_after ? 1 : x->not_after > y->not_after ?
	    -1 : 0;			/* the one with a certificate first */
}

static enum acmestat_state
acmestat_state_of(struct acmestat *st, const struct acmestat_host *h,
    time_t now)
{
	if (h->not_after == 0)
		return acmestat_failing(st, h->host) ? ACMESTAT_FAILED :
		    ACMESTAT_PENDING;
	if (h->not_after <= now)
		return ACMESTAT_EXPIRED;
	return h->not_after - now < ACMESTAT_EXPIRING ?
	    ACMESTAT_EXPIRING_SOON : ACMESTAT_VALID;
}

/* The per-host series; host names are DNS names (no quote, backslash or
 * newline: acmestat_label_ok()), any other is left out. */
static int
acmestat_label_ok(const char *s)
{
	return strpbrk(s, "\"\\\n") == NULL && strlen(s) < 254;
}

static int
acmestat_render_hosts(struct evbuffer *out, struct acmestat_host *h,
    size_t n, time_t now)
{
	int64_t	soonest = INT64_MAX;
	size_t	i;
	int	rc;

	rc = acmestat_head(out, "postern_certificate_expiry_seconds", "gauge",
	    "Seconds until the certificate served for a configured or "
	    "registered host expires (negative once expired).");
	for (i = 0; i < n && rc == 0; i++) {
		if (h[i].not_after == 0 || (i > 0 &&
		    strcasecmp(h[i].host, h[i - 1].host) == 0) ||
		    !acmestat_label_ok(h[i].host))
			continue;
		if ((int64_t)(h[i].not_after - now) < soonest)
			soonest = (int64_t)(h[i].not_after - now);
		rc = evbuffer_add_printf(out, "postern_certificate_expiry_"
		    "seconds{host=\"%s\"} %" PRId64 "\n", h[i].host,
		    (int64_t)(h[i].not_after - now)) < 0 ? -1 : 0;
	}
	if (rc == 0 && soonest != INT64_MAX && (acmestat_head(out,
	    "postern_certificate_soonest_expiry_seconds", "gauge",
	    "Seconds until the first of those certificates expires.") ==
	    -1 || evbuffer_add_printf(out, "postern_certificate_soonest_"
	    "expiry_seconds %" PRId64 "\n", soonest) < 0))
		rc = -1;
	return rc;
}

int
acmestat_render(struct evbuffer *out, struct acmestat *st,
    struct acmestat_host *h, size_t n, time_t now)
{
	uint64_t	count[ACMESTAT_NSTATES] = { 0 };
	size_t		i;
	int		rc;

	if (n > 0)
		qsort(h, n, sizeof(*h), acmestat_host_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcasecmp(h[i].host, h[i - 1].host) != 0)
			count[acmestat_state_of(st, &h[i], now)]++;
	rc = acmestat_render_counters(out, st);
	if (rc == 0)
		rc = acmestat_head(out, "postern_certificates", "gauge",
		    "Configured and registered hosts of ACME or run-time "
		    "certificates, by the state of their certificate.");
	for (i = 0; i < ACMESTAT_NSTATES && rc == 0; i++)
		rc = evbuffer_add_printf(out, "postern_certificates"
		    "{state=\"%s\"} %" PRIu64 "\n", acmestat_states[i],
		    count[i]) < 0 ? -1 : 0;
	return rc == 0 ? acmestat_render_hosts(out, h, n, now) : -1;
}

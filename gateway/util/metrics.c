/*
 * Metrics (see metrics.h).  Writers are the owning worker only, so relaxed
 * order is enough: the scraper may see one counter a request ahead of
 * another, never a torn value.  Histogram buckets are kept per bucket and
 * made cumulative at render time, so +Inf always equals _count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "metrics.h"

#define RELAXED	memory_order_relaxed

/* Upper bounds of the duration buckets, in microseconds and as printed. */
static const uint64_t metrics_bounds_us[2][METRICS_NBUCKETS] = {
	[METRICS_SLOW] = { 5000, 10000, 25000, 50000, 100000, 250000,
	    500000, 1000000, 2500000, 5000000, 10000000, 30000000 },
	[METRICS_FAST] = { 100, 250, 500, 1000, 2500, 5000, 10000, 25000,
	    50000, 100000, 250000, 1000000 },
};
static const char *const metrics_bounds[2][METRICS_NBUCKETS] = {
	[METRICS_SLOW] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	    "0.5", "1", "2.5", "5", "10", "30" },
	[METRICS_FAST] = { "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
	    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1" },
};

static const char *const metrics_decisions[METRICS_NDECISIONS] = {
	[METRICS_ALLOW] = "allow",
	[METRICS_DENY] = "deny",
	[METRICS_ERROR] = "error",
};

static const char *const metrics_kinds[METRICS_NUPSTREAM] = {
	[METRICS_UP_CONNECT] = "connect",
	[METRICS_UP_TIMEOUT] = "timeout",
	[METRICS_UP_CLOSED] = "closed",
	[METRICS_UP_PROTOCOL] = "protocol",
	[METRICS_UP_TLS] = "tls",
	[METRICS_UP_OTHER] = "other",
};

static const char *const metrics_mail_reasons[METRICS_NMAIL] = {
	[METRICS_MAIL_CONNECT] = "connect",
	[METRICS_MAIL_TLS] = "tls",
	[METRICS_MAIL_AUTH] = "auth",
	[METRICS_MAIL_TIMEOUT] = "timeout",
	[METRICS_MAIL_REJECTED] = "rejected",
	[METRICS_MAIL_TEMPFAIL] = "tempfail",
	[METRICS_MAIL_OTHER] = "other",
	[METRICS_MAIL_QUEUE_FULL] = "queue_full",
	[METRICS_MAIL_INVALID] = "invalid",
};

/* Log reasons of proxy.c and client.c, by kind; the first match wins. */
static const struct {
	const char		*prefix;
	enum metrics_upstream	 kind;
} metrics_reasons[] = {
	{ "upstream_connect", METRICS_UP_CONNECT },	/* and _timeout */
	{ "upstream_tls", METRICS_UP_TLS },
	{ "upstream_timeout", METRICS_UP_TIMEOUT },
	{ "upstream_closed", METRICS_UP_CLOSED },
	{ "upstream_error", METRICS_UP_CLOSED },
	{ "upstream_bad", METRICS_UP_PROTOCOL },
	{ "upstream_head", METRICS_UP_PROTOCOL },
	{ "upstream_upgrade", METRICS_UP_PROTOCOL },
};

void
metrics_inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, RELAXED);
}

const char *
metrics_mail_reason(enum metrics_mail r)
{
	return (unsigned int)r < METRICS_NMAIL ? metrics_mail_reasons[r] :
	    "other";
}

const char *
metrics_decision_name(enum metrics_decision d)
{
	return (unsigned int)d < METRICS_NDECISIONS ? metrics_decisions[d] :
	    "error";
}

void
metrics_request(struct metrics *m, int status, enum metrics_decision d,
    uint64_t usec)
{
	if (status >= 100 && status < 600 &&
	    (unsigned int)d < METRICS_NDECISIONS)
		metrics_inc(&m->requests[status / 100 - 1][d]);
	metrics_observe(&m->duration, METRICS_SLOW, usec);
}

void
metrics_observe(struct metrics_hist *h, enum metrics_bounds bounds,
    uint64_t usec)
{
	const uint64_t	*bound = metrics_bounds_us[bounds == METRICS_FAST];
	size_t		 b;

	for (b = 0; b < METRICS_NBUCKETS && usec > bound[b]; b++)
		;
	metrics_inc(&h->b[b]);
	atomic_fetch_add_explicit(&h->sum_us, usec, RELAXED);
}

void
metrics_upstream_error(struct metrics *m, const char *reason)
{
	enum metrics_upstream	 kind = METRICS_UP_OTHER;
	size_t			 i, len;

	for (i = 0; reason != NULL && i < sizeof(metrics_reasons) /
	    sizeof(metrics_reasons[0]); i++) {
		len = strlen(metrics_reasons[i].prefix);
		if (strncmp(reason, metrics_reasons[i].prefix, len) == 0) {
			kind = metrics_reasons[i].kind;
			break;
		}
	}
	metrics_inc(&m->upstream_errors[kind]);
}

static uint64_t
metrics_load(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, RELAXED);
}

void
metrics_add_hist(struct metrics_hsnap *s, const struct metrics_hist *h)
{
	size_t	i;

	for (i = 0; i <= METRICS_NBUCKETS; i++)
		s->b[i] += metrics_load(&h->b[i]);
	s->sum_us += metrics_load(&h->sum_us);
}

void
metrics_add(struct metrics_snap *s, const struct metrics *m)
{
	size_t	i, j;

	for (i = 0; i < 5; i++)
		for (j = 0; j < METRICS_NDECISIONS; j++)
			s->requests[i][j] += metrics_load(&m->requests[i][j]);
	metrics_add_hist(&s->duration, &m->duration);
	metrics_add_hist(&s->upstream, &m->upstream);
	metrics_add_hist(&s->redis, &m->redis);
	s->redis_reconnects += metrics_load(&m->redis_reconnects);
	for (i = 0; i < METRICS_NAUTH; i++)
		s->auth[i] += metrics_load(&m->auth[i]);
	for (i = 0; i < METRICS_NUPSTREAM; i++)
		s->upstream_errors[i] += metrics_load(&m->upstream_errors[i]);
	s->connections_total += metrics_load(&m->connections_total);
	s->tls_handshake_failures += metrics_load(
	    &m->tls_handshake_failures);
	s->rejects += metrics_load(&m->rejects);
	s->upstream_dropped += metrics_load(&m->upstream_dropped);
	s->mail_sent += metrics_load(&m->mail_sent);
	for (i = 0; i < METRICS_NMAIL; i++)
		s->mail_failed[i] += metrics_load(&m->mail_failed[i]);
	s->mail_retries += metrics_load(&m->mail_retries);
	s->mail_queue += metrics_load(&m->mail_queue);
	s->rate_limited += metrics_load(&m->rate_limited);
	s->rate_shed += metrics_load(&m->rate_shed);
	s->webhook_delivered += metrics_load(&m->webhook_delivered);
	s->webhook_failed += metrics_load(&m->webhook_failed);
	s->webhook_retries += metrics_load(&m->webhook_retries);
	s->webhook_queue += metrics_load(&m->webhook_queue);
	s->scache_hits += metrics_load(&m->scache_hits);
	s->scache_misses += metrics_load(&m->scache_misses);
	s->scache_invalidations += metrics_load(&m->scache_invalidations);
	s->scache_flushes += metrics_load(&m->scache_flushes);
	s->scache_entries += metrics_load(&m->scache_entries);
	s->scache_active += metrics_load(&m->scache_active);
	s->assertion_signed += metrics_load(&m->assertion_signed);
	s->assertion_reused += metrics_load(&m->assertion_reused);
}

int
metrics_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0 ? -1 : 0;
}

static int
metrics_render_requests(struct evbuffer *out, const struct metrics_snap *s)
{
	size_t	i, j;
	int	rc;

	rc = metrics_head(out, "postern_requests_total", "counter",
	    "Requests answered, by status class and decision.");
	for (i = 0; i < 5 && rc == 0; i++)
		for (j = 0; j < METRICS_NDECISIONS && rc == 0; j++)
			rc = evbuffer_add_printf(out, "postern_requests_total"
			    "{status_class=\"%zuxx\",decision=\"%s\"} %" PRIu64
			    "\n", i + 1, metrics_decisions[j],
			    s->requests[i][j]) < 0 ? -1 : 0;
	return rc;
}

static int
metrics_render_hist(struct evbuffer *out, const char *name,
    const char *help, enum metrics_bounds bounds,
    const struct metrics_hsnap *h)
{
	const char *const *bound = metrics_bounds[bounds == METRICS_FAST];
	uint64_t	 cum = 0;
	size_t		 i;
	int		 rc;

	rc = metrics_head(out, name, "histogram", help);
	for (i = 0; i <= METRICS_NBUCKETS && rc == 0; i++) {
		cum += h->b[i];
		rc = evbuffer_add_printf(out, "%s_bucket{le=\"%s\"} %" PRIu64
		    "\n", name, i < METRICS_NBUCKETS ? bound[i] : "+Inf",
		    cum) < 0 ? -1 : 0;
	}
	if (rc == 0 && evbuffer_add_printf(out, "%s_sum %" PRIu64 ".%06"
	    PRIu64 "\n%s_count %" PRIu64 "\n", name, h->sum_us / 1000000,
	    h->sum_us % 1000000, name, cum) < 0)
		rc = -1;
	return rc;
}

static int
metrics_render_duration(struct evbuffer *out, const struct metrics_snap *s,
    const struct metrics_global *g)
{
	struct metrics_hsnap	wait;

	memset(&wait, 0, sizeof(wait));
	metrics_add_hist(&wait, &g->hash_wait);
	if (metrics_render_hist(out, "postern_request_duration_seconds",
	    "Time from a request's head to the end of its response.",
	    METRICS_SLOW, &s->duration) == -1 ||
	    metrics_render_hist(out, "postern_upstream_duration_seconds",
	    "Time from forwarding a request to the upstream's response head.",
	    METRICS_SLOW, &s->upstream) == -1 ||
	    metrics_render_hist(out, "postern_redis_command_duration_seconds",
	    "Time from sending a Redis command to its reply (or failure).",
	    METRICS_FAST, &s->redis) == -1 ||
	    metrics_render_hist(out, "postern_password_hash_wait_seconds",
	    "Time a password hash waited in the queue for a hashing thread.",
	    METRICS_SLOW, &wait) == -1)
		return -1;
	return 0;
}

static int
metrics_render_upstream(struct evbuffer *out, const struct metrics_snap *s)
{
	size_t	i;
	int	rc;

	rc = metrics_head(out, "postern_upstream_errors_total", "counter",
	    "Upstream failures, by kind.");
	for (i = 0; i < METRICS_NUPSTREAM && rc == 0; i++)
		rc = evbuffer_add_printf(out, "postern_upstream_errors_total"
		    "{kind=\"%s\"} %" PRIu64 "\n", metrics_kinds[i],
		    s->upstream_errors[i]) < 0 ? -1 : 0;
	return rc;
}

static int
metrics_render_mail(struct evbuffer *out, const struct metrics_snap *s)
{
	size_t	i;
	int	rc;

	rc = metrics_head(out, "postern_mail_failed_total", "counter",
	    "Mail dropped after its last attempt or refused, by reason.");
	for (i = 0; i < METRICS_NMAIL && rc == 0; i++)
		rc = evbuffer_add_printf(out, "postern_mail_failed_total"
		    "{reason=\"%s\"} %" PRIu64 "\n", metrics_mail_reasons[i],
		    s->mail_failed[i]) < 0 ? -1 : 0;
	return rc;
}

static int
metrics_render_one(struct evbuffer *out, const char *name, const char *type,
    const char *help, uint64_t v)
{
	if (metrics_head(out, name, type, help) == -1)
		return -1;
	return evbuffer_add_printf(out, "%s %" PRIu64 "\n", name, v) < 0 ?
	    -1 : 0;
}

static int
metrics_render_build(struct evbuffer *out, const char *commit)
{
	if (metrics_head(out, "postern_build_info", "gauge", "Always 1: the "
	    "version and git commit the gateway was built from.") == -1 ||
	    evbuffer_add_printf(out, "postern_build_info{version=\"") < 0 ||
	    metseries_label(out, POSTERN_VERSION) == -1 ||
	    evbuffer_add_printf(out, "\",commit=\"") < 0 ||
	    metseries_label(out, commit != NULL && commit[0] != '\0' ? commit :
	    "unknown") == -1)
		return -1;
	return evbuffer_add_printf(out, "\"} 1\n") < 0 ? -1 : 0;
}

int
metrics_render(struct evbuffer *out, const struct metrics_snap *s,
    const struct metrics_global *g, const char *commit)
{
	if (metrics_render_requests(out, s) == -1 ||
	    metrics_render_duration(out, s, g) == -1 ||
	    metrics_auth_render(out, s->auth) == -1 ||
	    metrics_render_build(out, commit) == -1 ||
	    metrics_render_one(out, "postern_redis_reconnects_total", "counter",
	    "Redis connections restored after being lost.",
	    s->redis_reconnects) ||
	    metrics_render_one(out, "postern_password_hash_queue", "gauge",
	    "Password hashes waiting for a hashing thread.", s->hash_queue) ||
	    metrics_render_upstream(out, s) == -1 ||
	    metrics_render_one(out, "postern_rejects_total", "counter",
	    "Requests refused by the gateway with a reason.", s->rejects) ||
	    metrics_render_one(out, "postern_upstream_headers_dropped_total",
	    "counter", "Upstream response headers dropped for touching the "
	    "gateway's cookies (Set-Cookie, Clear-Site-Data).",
	    s->upstream_dropped) ||
	    metrics_render_one(out, "postern_connections_open", "gauge",
	    "Open client connections.", metrics_load(&g->connections_open)) ||
	    metrics_render_one(out, "postern_connections_total", "counter",
	    "Accepted client connections.", s->connections_total) ||
	    metrics_render_one(out, "postern_tls_handshake_failures_total",
	    "counter", "Client TLS handshakes that failed.",
	    s->tls_handshake_failures) ||
	    metrics_render_one(out, "postern_mail_sent_total", "counter",
	    "Mail accepted by the SMTP server.", s->mail_sent) ||
	    metrics_render_mail(out, s) == -1 ||
	    metrics_render_one(out, "postern_mail_retries_total", "counter",
	    "Mail delivery attempts after a failed one.", s->mail_retries) ||
	    metrics_render_one(out, "postern_mail_queue", "gauge",
	    "Mail queued and not yet sent or dropped.", s->mail_queue) ||
	    metrics_render_one(out, "postern_rate_limited_total", "counter",
	    "Requests refused with 429 by a rate-limit class (the log names "
	    "the class).", s->rate_limited) ||
	    metrics_render_one(out, "postern_rate_limited_local_total",
	    "counter", "Of those, refused by the worker itself: Redis had "
	    "refused the same client moments before.", s->rate_shed) ||
	    metrics_render_one(out, "postern_webhook_delivered_total", "counter",
	    "Webhook deliveries answered 2xx.", s->webhook_delivered) ||
	    metrics_render_one(out, "postern_webhook_failed_total", "counter",
	    "Webhook deliveries given up, refused by the address guard or "
	    "dropped (the log says why).", s->webhook_failed) ||
	    metrics_render_one(out, "postern_webhook_retries_total", "counter",
	    "Webhook delivery attempts after a failed one.",
	    s->webhook_retries) ||
	    metrics_render_one(out, "postern_webhook_queue", "gauge",
	    "Webhook deliveries queued or in flight.", s->webhook_queue) ||
	    metrics_render_one(out, "postern_session_cache_hits_total",
	    "counter", "Signed-in requests whose session came from the "
	    "worker's cache.", s->scache_hits) ||
	    metrics_render_one(out, "postern_session_cache_misses_total",
	    "counter", "Signed-in requests whose session was looked up in "
	    "Redis.", s->scache_misses) ||
	    metrics_render_one(out, "postern_session_cache_invalidations_total",
	    "counter", "Cached sessions dropped because Redis reported a "
	    "change.", s->scache_invalidations) ||
	    metrics_render_one(out, "postern_session_cache_flushes_total",
	    "counter", "Times a worker emptied its cache because Redis' "
	    "change reports stopped or restarted.", s->scache_flushes) ||
	    metrics_render_one(out, "postern_session_cache_entries", "gauge",
	    "Sessions cached, all workers.", s->scache_entries) ||
	    metrics_render_one(out, "postern_session_cache_active", "gauge",
	    "Workers whose cache is in use (change reports in force).",
	    s->scache_active) ||
	    metrics_render_one(out, "postern_assertion_signed_total",
	    "counter", "Identity assertions signed.", s->assertion_signed) ||
	    metrics_render_one(out, "postern_assertion_reused_total",
	    "counter", "Identity assertions sent again from the session "
	    "cache.", s->assertion_reused) ||
	    metrics_render_one(out, "postern_redis_up", "gauge", "1 while "
	    "every worker's Redis connection is up, else 0.", s->redis_up) ||
	    metrics_render_one(out, "postern_redis_failovers_total", "counter",
	    "Changes of Redis primary followed (redis.sentinels), counted by "
	    "each connection that followed one.", s->redis_failovers) ||
	    metrics_head(out, "postern_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.") == -1)
		return -1;
	return evbuffer_add_printf(out, "postern_config_reloads_total"
	    "{result=\"success\"} %" PRIu64 "\npostern_config_reloads_total"
	    "{result=\"failure\"} %" PRIu64 "\n",
	    metrics_load(&g->reloads_ok), metrics_load(&g->reloads_failed)) < 0
	    ? -1 : 0;
}

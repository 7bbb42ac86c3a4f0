/*
 * The ACME driver's work on each host (see acme.h): the run's hosts (the
 * configuration's, then the registered custom domains), whether its
 * certificate is due (none yet, renewal time, not within a failure's
 * wait), the lock that lets one instance order it, and the outcome kept
 * in its hash: the new chain and sealed key, or the failure and the wait
 * before the next try.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "acme.h"
#include "acme-int.h"
#include "acmecsr.h"
#include "acmestat.h"
#include "config.h"
#include "encode.h"
#include "log.h"
#include "tlsacme.h"
#include "worker.h"

/* Field <name> of HGETALL <r>, or NULL. */
const char *
acme_field(const redisReply *r, const char *name)
{
	size_t	i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, name) == 0 &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			return r->element[i + 1]->str;
	return NULL;
}

int64_t
acme_int(const redisReply *r, const char *name)
{
	const char	*s = acme_field(r, name);

	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

static void
acme_next_host(struct acme *a)
{
	acme_order_clear(a);
	a->host++;
	acme_host_next(a);
}

static void
acme_soonest(struct acme *a, int64_t t)
{
	if (t < a->next_run)
		a->next_run = t;
}

static void
acme_on_lock(struct acme *a, const redisReply *r, const char *err)
{
	if (err != NULL) {
		acme_run_down(a, "lock", err);
		return;
	}
	if (r->type != REDIS_REPLY_STATUS) {	/* another instance has it */
		log_event(LOG_LEVEL_DEBUG, "acme", "host", acme_host(a),
		    "detail", "another instance is ordering", NULL);
		acme_soonest(a, (int64_t)time(NULL) + 30);
		acme_next_host(a);
		return;
	}
	acme_order_start(a);
}

static void
acme_lock(struct acme *a)
{
	unsigned char	 rnd[16];
	char		 key[STORE_KEYLEN], ttl[24];
	const char	*argv[6] = { "SET", key, a->lock, "NX", "PX", ttl };

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    acme_key(a, key, sizeof(key), ACME_LAYOUT_LOCK, acme_host(a)) ==
	    -1) {
		acme_run_down(a, "lock", "no randomness or key too long");
		return;
	}
	encode_hex(rnd, sizeof(rnd), a->lock);
	(void)snprintf(ttl, sizeof(ttl), "%d", ACME_LOCK_TTL);
	acme_redis(a, acme_on_lock, 6, argv, NULL);
}

/* Due or not: order it, or look at the next host. */
static void
acme_host_decide(struct acme *a)
{
	int64_t	now = (int64_t)time(NULL);

	if (a->renew_at > now || a->retry_at > now) {	/* not due yet */
		acme_soonest(a, a->renew_at > a->retry_at ? a->renew_at :
		    a->retry_at);
		acme_next_host(a);
		return;
	}
	acme_lock(a);
}

/* The renewal time ARI gave, kept only for the certificate asked about. */
static struct store_script acme_lua_ari = STORE_SCRIPT("acme ari",
    "if redis.call('HGET', KEYS[1], 'serial') ~= ARGV[1] then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'renew_at', ARGV[2], 'ari_at', ARGV[3])\n"
    "return 1\n");

static void
acme_on_ari_kept(struct acme *a, const redisReply *r, const char *err)
{
	(void)r;
	if (err != NULL) {
		acme_run_down(a, "renewalInfo", err);
		return;
	}
	acme_host_decide(a);
}

/* The CA's renewalInfo answer <r>: its window, else the 2/3 rule. */
static void
acme_on_ari(struct acme *a, const struct acme_resp *r)
{
	char		 key[STORE_KEYLEN], at[24], next[24], why[200];
	const char	*argv[4] = { key, a->serial, at, next };
	int64_t		 start, end, now = (int64_t)time(NULL), wait;
	uint64_t	 rnd = 0;

	if (r->status == 200 && acme_parse_renewal_info(r->body, r->len,
	    &start, &end, why, sizeof(why)) == 0) {
		(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
		a->renew_at = acme_ari_pick(start, end, now, rnd);
		wait = acme_ari_wait(r->retry_after);
		(void)snprintf(at, sizeof(at), "%" PRId64, a->renew_at);
		log_event(LOG_LEVEL_INFO, "acme_ari", "host", acme_host(a),
		    "renew_at", at, NULL);
	} else {		/* the stored renew_at (2/3) stays */
		if (r->status != 200)
			(void)snprintf(why, sizeof(why), "%s (HTTP %ld)",
			    r->prob.type, r->status);
		log_event(LOG_LEVEL_WARN, "acme", "reason", "acme_ari_failed",
		    "host", acme_host(a), "detail", why, NULL);
		wait = ACME_ARI_FAIL_WAIT;
	}
	(void)snprintf(at, sizeof(at), "%" PRId64, a->renew_at);
	(void)snprintf(next, sizeof(next), "%" PRId64, now + wait);
	if (acme_key(a, key, sizeof(key), ACME_LAYOUT_CERT, acme_host(a)) ==
	    -1) {
		acme_host_decide(a);
		return;
	}
	acme_eval(a, &acme_lua_ari, acme_on_ari_kept, 1, 4, argv, NULL);
}

/* Ask the CA's renewalInfo about the current certificate (RFC 9773). */
static void
acme_ari_fetch(struct acme *a)
{
	const char	*base = a->dir.renewal_info;
	char		 url[2048];
	size_t		 n = strlen(base);
	int		 w;

	w = snprintf(url, sizeof(url), "%s%s%s", base, n > 0 &&
	    base[n - 1] == '/' ? "" : "/", a->certid);
	if (w < 0 || (size_t)w >= sizeof(url)) {
		acme_host_decide(a);
		return;
	}
	acme_get(a, url, acme_on_ari);
}

static void
acme_on_state(struct acme *a, const redisReply *r, const char *err)
{
	int64_t		 now = (int64_t)time(NULL);
	const char	*chain, *serial;

	if (err != NULL) {
		acme_run_down(a, "state", err);
		return;
	}
	chain = acme_field(r, "chain");
	serial = acme_field(r, "serial");
	a->renew_at = chain != NULL ? acme_int(r, "renew_at") : 0;
	a->retry_at = acme_int(r, "retry_at");
	a->failures = acme_int(r, "failures");
	a->renewal = chain != NULL;
	a->certid[0] = '\0';
	(void)snprintf(a->serial, sizeof(a->serial), "%s", serial != NULL ?
	    serial : "");
	/* ARI when the CA offers it: for the renewal window, "replaces" */
	if (chain != NULL && serial != NULL && a->dir.renewal_info != NULL)
		(void)acme_ari_certid(chain, a->certid, sizeof(a->certid));
	if (a->certid[0] != '\0' && a->retry_at <= now &&
	    acme_int(r, "ari_at") <= now) {
		acme_ari_fetch(a);
		return;
	}
	acme_host_decide(a);
}

/* ---- the run's hosts ---- */

void
acme_hosts_clear(struct acme *a)
{
	while (a->ndomains > 0)
		free(a->domains[--a->ndomains]);
	free(a->domains);
	a->domains = NULL;
	a->nhosts = 0;
}

/* Whether a TLS listener takes its certificates from ACME. */
static int
acme_listens(const struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].acme)
			return 1;
	return 0;
}

/* The hosts are known: go on, or end a run with nothing to look at. */
static void
acme_hosts_ready(struct acme *a)
{
	acme_step	next = a->hosts_next;

	a->hosts_next = NULL;
	if (a->nhosts == 0)
		acme_run_end(a);
	else
		next(a);
}

static void
acme_on_domains(struct acme *a, const redisReply *r, const char *err)
{
	size_t	i;

	if (err != NULL || r->type != REDIS_REPLY_ARRAY) {
		acme_run_down(a, "domains", err != NULL ? err : "bad reply");
		return;
	}
	if (r->elements > 0 && (a->domains = calloc(r->elements,
	    sizeof(*a->domains))) == NULL) {
		acme_run_down(a, "domains", "out of memory");
		return;
	}
	for (i = 0; i < r->elements; i++) {
		const redisReply *h = r->element[i];

		/* written by domain_add() (domain_check()ed), checked again */
		if (h->type != REDIS_REPLY_STRING || h->len >= 254 ||
		    strlen(h->str) != h->len || !tlsacme_host_ok(h->str))
			continue;
		if ((a->domains[a->ndomains] = strdup(h->str)) == NULL) {
			acme_run_down(a, "domains", "out of memory");
			return;
		}
		a->ndomains++;
	}
	a->nhosts += a->ndomains;
	acme_hosts_ready(a);
}

void
acme_hosts_load(struct acme *a, acme_step next)
{
	char		 key[STORE_KEYLEN];
	const char	*argv[2] = { "SMEMBERS", key };

	acme_hosts_clear(a);
	a->hosts_next = next;
	a->nhosts = a->cfg->acme->nhosts;
	if (!acme_listens(a->cfg) || acme_key(a, key, sizeof(key),
	    ACME_LAYOUT_DOMAINS, NULL) == -1) {
		acme_hosts_ready(a);
		return;
	}
	acme_redis(a, acme_on_domains, 2, argv, NULL);
}

/* ---- each host ---- */

void
acme_host_next(struct acme *a)
{
	char		 key[STORE_KEYLEN];
	const char	*argv[2] = { "HGETALL", key };

	if (a->host >= a->nhosts) {
		acme_run_end(a);
		return;
	}
	if (acme_key(a, key, sizeof(key), ACME_LAYOUT_CERT, acme_host(a)) ==
	    -1) {
		a->host++;
		acme_host_next(a);
		return;
	}
	acme_redis(a, acme_on_state, 2, argv, NULL);
}

/*
 * Record a failed order, release the lock if still ours.  A custom domain
 * (ARGV[6] "1") that was removed meanwhile leaves no trace; one still
 * registered shows the error, and "failed" while it has no certificate.
 */
static struct store_script acme_lua_fail = STORE_SCRIPT("acme fail",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "end\n"
    "if ARGV[6] == '1' then\n"
    "  if redis.call('EXISTS', KEYS[3]) == 0 then return 2 end\n"
    "  redis.call('HSET', KEYS[3], 'last_error', ARGV[2])\n"
    "  if redis.call('HEXISTS', KEYS[2], 'chain') == 0 then\n"
    "    redis.call('HSET', KEYS[3], 'state', 'failed')\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'last_error', ARGV[2], 'last_attempt',\n"
    "  ARGV[3], 'retry_at', ARGV[4], 'failures', ARGV[5])\n"
    "return 1\n");

static void
acme_on_recorded(struct acme *a, const redisReply *r, const char *err)
{
	if (err != NULL)
		log_event(LOG_LEVEL_WARN, "acme", "reason", "acme_unavailable",
		    "host", acme_host(a), "detail", err, NULL);
	(void)r;
	acme_next_host(a);
}

/* The wait after failure number <n> (1: the first): doubling from
 * retry_min up to retry_max, plus up to a tenth more at random. */
static int64_t
acme_backoff(const struct config_acme *c, int64_t n)
{
	uint64_t	ms = c->retry_min, j = 0;

	while (--n > 0 && ms < c->retry_max)
		ms *= 2;
	if (ms > c->retry_max)
		ms = c->retry_max;
	(void)RAND_bytes((unsigned char *)&j, sizeof(j));
	ms += j % (ms / 10 + 1);
	return (int64_t)((ms + 999) / 1000);
}

void
acme_fail(struct acme *a, const char *detail)
{
	char		 lock[STORE_KEYLEN], cert[STORE_KEYLEN], now[24];
	char		 dom[STORE_KEYLEN], at[24], n[24];
	const char	*argv[9] = { lock, cert, dom, a->lock, detail, now, at,
			    n, acme_is_domain(a) ? "1" : "0" };
	int64_t		 t = (int64_t)time(NULL), wait;
	enum acmestat_reason why = acmestat_reason(detail);

	wait = acme_backoff(a->cfg->acme, a->failures + 1);
	log_event(LOG_LEVEL_ERROR, "acme", "reason", "acme_order_failed",
	    "host", acme_host(a), "problem", acmestat_reason_name(why),
	    "detail", detail, NULL);
	acmestat_failed(a->w->srv->acmestat, acme_host(a), why);
	(void)snprintf(now, sizeof(now), "%" PRId64, t);
	(void)snprintf(at, sizeof(at), "%" PRId64, t + wait);
	(void)snprintf(n, sizeof(n), "%" PRId64, a->failures + 1);
	acme_soonest(a, t + wait);
	if (acme_key(a, lock, sizeof(lock), ACME_LAYOUT_LOCK, acme_host(a)) ==
	    -1 || acme_key(a, cert, sizeof(cert), ACME_LAYOUT_CERT,
	    acme_host(a)) == -1 || acme_key(a, dom, sizeof(dom),
	    ACME_LAYOUT_DOMAIN, acme_host(a)) == -1) {
		acme_next_host(a);
		return;
	}
	acme_eval(a, &acme_lua_fail, acme_on_recorded, 3, 9, argv, NULL);
}

/*
 * Store the new certificate only while the lock is still ours (the fencing
 * token: an order that outlived its lock must not overwrite a newer one),
 * release the lock and tell every instance.  A custom domain (ARGV[10]
 * "1") removed meanwhile gets nothing stored (2); one still registered
 * becomes "valid" with the new expiry.
 */
static struct store_script acme_lua_store = STORE_SCRIPT("acme store",
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "if ARGV[10] == '1' then\n"
    "  if redis.call('EXISTS', KEYS[4]) == 0 then return 2 end\n"
    "  redis.call('HSET', KEYS[4], 'state', 'valid', 'last_error', '',\n"
    "    'not_after', ARGV[5])\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'chain', ARGV[2], 'key', ARGV[3],\n"
    "  'not_before', ARGV[4], 'not_after', ARGV[5], 'renew_at', ARGV[6],\n"
    "  'issued', ARGV[7], 'serial', ARGV[8], 'last_error', '',\n"
    "  'last_attempt', ARGV[7], 'retry_at', '0', 'failures', '0',\n"
    "  'ari_at', '0')\n"
    "redis.call('PUBLISH', KEYS[3], ARGV[9])\n"
    "return 1\n");

static void
acme_on_stored(struct acme *a, const redisReply *r, const char *err)
{
	if (err != NULL || r->type != REDIS_REPLY_INTEGER)
		log_event(LOG_LEVEL_WARN, "acme", "reason", "acme_unavailable",
		    "host", acme_host(a), "detail", err != NULL ? err :
		    "bad reply", NULL);
	else if (r->integer == 0) {
		log_event(LOG_LEVEL_WARN, "acme", "reason", "acme_lock_lost",
		    "host", acme_host(a), NULL);
		acmestat_failed(a->w->srv->acmestat, acme_host(a),
		    ACMESTAT_LOCK);
	} else if (r->integer == 2)
		log_event(LOG_LEVEL_INFO, "acme", "reason",
		    "acme_domain_removed", "host", acme_host(a), NULL);
	else {
		log_event(LOG_LEVEL_INFO, "acme_issued", "host", acme_host(a),
		    NULL);
		acmestat_issued(a->w->srv->acmestat, acme_host(a),
		    a->renewal);
	}
	acme_next_host(a);
}

/* When to renew: at 2/3 of the lifetime, less up to 1/30 at random. */
static int64_t
acme_renew_at(const struct acmecsr_leaf *leaf)
{
	int64_t		life = leaf->not_after - leaf->not_before;
	uint32_t	j = 0;

	(void)RAND_bytes((unsigned char *)&j, sizeof(j));
	return leaf->not_before + life * 2 / 3 - (int64_t)(j %
	    (uint32_t)(life / 30 + 1));
}

void
acme_store_cert(struct acme *a, const char *pem, size_t len)
{
	struct acmecsr_leaf leaf;
	char		 keys[4][STORE_KEYLEN], nums[5][24], msg[300];
	char		 why[128], *sealed, *chain, aad[300];
	const char	*argv[14];
	int64_t		 now = (int64_t)time(NULL);

	if (acmecsr_chain_check(pem, len, acme_host(a), a->ckey, now, &leaf,
	    why, sizeof(why)) == -1) {
		acme_fail(a, why);
		return;
	}
	chain = strndup(pem, len);
	(void)snprintf(aad, sizeof(aad), "acme:%s", acme_host(a));
	sealed = chain != NULL ? acme_seal_key(a, a->ckey, aad) : NULL;
	if (sealed == NULL ||
	    acme_key(a, keys[0], STORE_KEYLEN, ACME_LAYOUT_LOCK,
	    acme_host(a)) == -1 || acme_key(a, keys[1], STORE_KEYLEN,
	    ACME_LAYOUT_CERT, acme_host(a)) == -1 || acme_key(a, keys[2],
	    STORE_KEYLEN, ACME_LAYOUT_EVENTS, NULL) == -1 ||
	    acme_key(a, keys[3], STORE_KEYLEN, ACME_LAYOUT_DOMAIN,
	    acme_host(a)) == -1) {
		free(chain);
		free(sealed);
		acme_fail(a, "cannot seal the certificate key");
		return;
	}
	(void)snprintf(nums[0], 24, "%" PRId64, leaf.not_before);
	(void)snprintf(nums[1], 24, "%" PRId64, leaf.not_after);
	(void)snprintf(nums[2], 24, "%" PRId64, acme_renew_at(&leaf));
	(void)snprintf(nums[3], 24, "%" PRId64, now);
	(void)snprintf(msg, sizeof(msg), "cert %s", acme_host(a));
	argv[0] = keys[0], argv[1] = keys[1], argv[2] = keys[2];
	argv[3] = keys[3], argv[4] = a->lock, argv[5] = chain;
	argv[6] = sealed, argv[7] = nums[0], argv[8] = nums[1];
	argv[9] = nums[2], argv[10] = nums[3], argv[11] = leaf.serial;
	argv[12] = msg, argv[13] = acme_is_domain(a) ? "1" : "0";
	acme_eval(a, &acme_lua_store, acme_on_stored, 4, 14, argv, NULL);
	free(chain);
	free(sealed);
}

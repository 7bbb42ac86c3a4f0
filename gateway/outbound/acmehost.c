/*
 * The ACME driver's work on each configured host (see acme.h): whether its
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
#include "worker.h"

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

static void
acme_on_state(struct acme *a, const redisReply *r, const char *err)
{
	int64_t	now = (int64_t)time(NULL), renew, retry;

	if (err != NULL) {
		acme_run_down(a, "state", err);
		return;
	}
	renew = acme_field(r, "chain") != NULL ? acme_int(r, "renew_at") : 0;
	retry = acme_int(r, "retry_at");
	a->failures = acme_int(r, "failures");
	a->renewal = acme_field(r, "chain") != NULL;
	if (renew > now || retry > now) {	/* not due yet */
		acme_soonest(a, renew > retry ? renew : retry);
		acme_next_host(a);
		return;
	}
	acme_lock(a);
}

void
acme_host_next(struct acme *a)
{
	char		 key[STORE_KEYLEN];
	const char	*argv[2] = { "HGETALL", key };

	if (a->host >= a->cfg->acme->nhosts) {
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

/* Record a failed order, release the lock if still ours. */
static struct store_script acme_lua_fail = STORE_SCRIPT("acme fail",
    "redis.call('HSET', KEYS[2], 'last_error', ARGV[2], 'last_attempt',\n"
    "  ARGV[3], 'retry_at', ARGV[4], 'failures', ARGV[5])\n"
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "end\n"
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
	char		 at[24], n[24];
	const char	*argv[7] = { lock, cert, a->lock, detail, now, at, n };
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
	    acme_host(a)) == -1) {
		acme_next_host(a);
		return;
	}
	acme_eval(a, &acme_lua_fail, acme_on_recorded, 2, 7, argv, NULL);
}

/*
 * Store the new certificate only while the lock is still ours (the fencing
 * token: an order that outlived its lock must not overwrite a newer one),
 * release the lock and tell every instance.
 */
static struct store_script acme_lua_store = STORE_SCRIPT("acme store",
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('HSET', KEYS[2], 'chain', ARGV[2], 'key', ARGV[3],\n"
    "  'not_before', ARGV[4], 'not_after', ARGV[5], 'renew_at', ARGV[6],\n"
    "  'issued', ARGV[7], 'serial', ARGV[8], 'last_error', '',\n"
    "  'last_attempt', ARGV[7], 'retry_at', '0', 'failures', '0')\n"
    "redis.call('DEL', KEYS[1])\n"
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
	} else {
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
	char		 keys[3][STORE_KEYLEN], nums[5][24], msg[300];
	char		 why[128], *sealed, *chain, aad[300];
	const char	*argv[12];
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
	    STORE_KEYLEN, ACME_LAYOUT_EVENTS, NULL) == -1) {
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
	argv[3] = a->lock, argv[4] = chain, argv[5] = sealed;
	argv[6] = nums[0], argv[7] = nums[1], argv[8] = nums[2];
	argv[9] = nums[3], argv[10] = leaf.serial, argv[11] = msg;
	acme_eval(a, &acme_lua_store, acme_on_stored, 3, 12, argv, NULL);
	free(chain);
	free(sealed);
}

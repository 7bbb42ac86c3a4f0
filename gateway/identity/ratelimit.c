/*
 * Rate limits in Redis (see ratelimit.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pages.h"
#include "ratelimit.h"
#include "request.h"
#include "worker.h"

/*
 * The key layout of the rate limits (docs/redis.md): a class's counter per
 * client address and per account (email or user id).
 */
#define RL_KEY_IP	STORE_LAYOUT("rl:<class>:ip:<address>")
#define RL_KEY_ACCT	STORE_LAYOUT("rl:<class>:acct:<email or id>")

/*
 * KEYS: one or two counters.  ARGV: (limit, period_ms) per key.  GCRA on
 * Redis' clock: each key holds its theoretical arrival time (ms).  Every
 * key must admit the request, and only then are they all advanced.
 * 0 admitted, or the ms until one more request would be.
 */
static struct store_script ratelimit_lua = STORE_SCRIPT("rate limit",
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local new, wait = {}, 0\n"
	"for i = 1, #KEYS do\n"
	"  local limit = tonumber(ARGV[2 * i - 1])\n"
	"  local period = tonumber(ARGV[2 * i])\n"
	"  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0\n"
	"  if tat < now then tat = now end\n"
	"  new[i] = tat + period / limit\n"
	"  local w = new[i] - period - now\n"
	"  if w > wait then wait = w end\n"
	"end\n"
	"if wait > 0 then return math.ceil(wait) end\n"
	"for i = 1, #KEYS do\n"
	"  redis.call('SET', KEYS[i], string.format('%.3f', new[i]), 'PX',\n"
	"    math.ceil(new[i] - now))\n"
	"end\n"
	"return 0\n");

const struct ratelimit_class *
ratelimit_class(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < cfg->nratelimits; i++)
		if (strcmp(cfg->ratelimits[i].name, name) == 0)
			return &cfg->ratelimits[i];
	return NULL;
}

/* The last address of an X-Forwarded-For list, trimmed, into <out>. */
static int
ratelimit_forwarded(const char *xff, char *out, size_t size)
{
	const char	*last = strrchr(xff, ',');
	size_t		 n;

	last = last != NULL ? last + 1 : xff;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, last, n);
	out[n] = '\0';
	return 0;
}

int
ratelimit_client_addr(const struct exchange *ex, char *out, size_t size)
{
	/* The trusted proxy's own entry is the last of the last line: a
	 * proxy that adds a line (HAProxy's option forwardfor) instead of
	 * appending leaves the client's own lines before it. */
	const char	*xff = ex->req != NULL ? request_header_last(ex->req,
			    "x-forwarded-for") : NULL;
	char		 addr[INET6_ADDRSTRLEN];
	unsigned char	 a[16];

	if (ex->trusted && xff != NULL &&
	    ratelimit_forwarded(xff, addr, sizeof(addr)) == 0)
		;
	else
		(void)snprintf(addr, sizeof(addr), "%s", ex->peer);
	/* canonical text: "2001:DB8:0::1" and "2001:db8::1" are one address,
	 * and "::ffff:192.0.2.1" is the IPv4 client 192.0.2.1 (else every
	 * mapped client would share one IPv6 /64 counter) */
	if (inet_pton(AF_INET, addr, a) == 1)
		return snprintf(out, size, "%s", addr) >= (int)size ? -1 : 0;
	if (inet_pton(AF_INET6, addr, a) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a) ? inet_ntop(AF_INET,
	    a + 12, addr, sizeof(addr)) == NULL : inet_ntop(AF_INET6, a, addr,
	    sizeof(addr)) == NULL)
		return -1;
	return snprintf(out, size, "%s", addr) >= (int)size ? -1 : 0;
}

int
ratelimit_client_key(const struct exchange *ex, char *out, size_t size)
{
	char		 addr[INET6_ADDRSTRLEN];
	unsigned char	 a6[16];
	struct in_addr	 a4;
	unsigned int	 bits, i;

	if (ratelimit_client_addr(ex, addr, sizeof(addr)) == -1)
		return -1;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return snprintf(out, size, "%s", addr) >= (int)size ? -1 : 0;
	if (inet_pton(AF_INET6, addr, a6) != 1)
		return -1;
	bits = (unsigned int)ex->cfg->ratelimit_v6_prefix;
	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a6[i] &= (unsigned char)(0xff00u >> bits);
			bits = 0;
		}
	}
	if (inet_ntop(AF_INET6, a6, addr, sizeof(addr)) == NULL)
		return -1;
	return snprintf(out, size, "%s/%u", addr,
	    (unsigned int)ex->cfg->ratelimit_v6_prefix) >= (int)size ? -1 : 0;
}

int
ratelimit_take(struct store *st, const struct ratelimit_class *c,
    const char *addr, const char *account, store_cb cb, void *arg)
{
	char		 k1[STORE_KEYLEN], k2[STORE_KEYLEN];
	char		 l1[24], p1[24], l2[24];
	const char	*argv[6];
	int		 two = account != NULL && c->account_limit > 0;

	if (store_layout_key(k1, sizeof(k1), store_prefix(st), RL_KEY_IP,
	    c->name, addr) == -1 || (two && store_layout_key(k2, sizeof(k2),
	    store_prefix(st), RL_KEY_ACCT, c->name, account) == -1))
		return -1;
	(void)snprintf(l1, sizeof(l1), "%" PRIu64, c->limit);
	(void)snprintf(p1, sizeof(p1), "%" PRIu64, c->period);
	(void)snprintf(l2, sizeof(l2), "%" PRIu64, c->account_limit);
	argv[0] = k1;
	argv[1] = two ? k2 : l1;
	if (two) {
		argv[2] = l1;
		argv[3] = p1;
		argv[4] = l2;
		argv[5] = p1;
		return store_eval(st, &ratelimit_lua, cb, arg, 2, 6, argv,
		    NULL);
	}
	argv[2] = p1;
	return store_eval(st, &ratelimit_lua, cb, arg, 1, 3, argv, NULL);
}

/* ---- local shedding ---- */

#define RATELIMIT_SHED_SLOTS	4096	/* direct-mapped; a collision only
					 * forgets a refusal */

struct ratelimit_shed {
	unsigned char	 seed[32];	/* random: slots cannot be aimed at */
	struct {
		unsigned char	 id[16];
		uint64_t	 until;	/* ms, monotonic */
	} slot[RATELIMIT_SHED_SLOTS];
};

struct ratelimit_shed *
ratelimit_shed_new(void)
{
	struct ratelimit_shed	*sh;

	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return NULL;
	if (RAND_bytes(sh->seed, sizeof(sh->seed)) != 1) {
		free(sh);
		return NULL;
	}
	return sh;
}

void
ratelimit_shed_free(struct ratelimit_shed *sh)
{
	free(sh);
}

void
ratelimit_shed_key(const struct ratelimit_shed *sh,
    const struct ratelimit_class *c, const char *addr, const char *account,
    struct ratelimit_shed_id *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 head[RATELIMIT_NAMEMAX + 64];
	int		 n, two = account != NULL && c->account_limit > 0;
	EVP_MD_CTX	*ctx;

	/* the class's numbers too: a reload that changes them starts over */
	n = snprintf(head, sizeof(head), "%s %" PRIu64 " %" PRIu64 " %" PRIu64,
	    c->name, c->limit, c->period, two ? c->account_limit : 0);
	memset(out, 0, sizeof(*out));
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;			/* all-zero: never remembered */
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, sh->seed, sizeof(sh->seed)) == 1 &&
	    EVP_DigestUpdate(ctx, head, (size_t)n + 1) == 1 &&
	    EVP_DigestUpdate(ctx, addr, strlen(addr) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, two ? account : "", two ?
	    strlen(account) + 1 : 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 20) {
		memcpy(out->id, md, sizeof(out->id));
		out->slot = ((size_t)md[16] << 8 | md[17]) %
		    RATELIMIT_SHED_SLOTS;
	}
	EVP_MD_CTX_free(ctx);
}

static int
ratelimit_shed_valid(const struct ratelimit_shed_id *k)
{
	static const unsigned char zero[16];

	return memcmp(k->id, zero, sizeof(zero)) != 0;
}

uint64_t
ratelimit_shed_left(const struct ratelimit_shed *sh,
    const struct ratelimit_shed_id *k, uint64_t now_ms)
{
	if (sh == NULL || !ratelimit_shed_valid(k) ||
	    memcmp(sh->slot[k->slot].id, k->id, sizeof(k->id)) != 0 ||
	    sh->slot[k->slot].until <= now_ms)
		return 0;
	return sh->slot[k->slot].until - now_ms;
}

void
ratelimit_shed_note(struct ratelimit_shed *sh,
    const struct ratelimit_shed_id *k, uint64_t until_ms)
{
	if (sh == NULL || !ratelimit_shed_valid(k))
		return;
	memcpy(sh->slot[k->slot].id, k->id, sizeof(k->id));
	sh->slot[k->slot].until = until_ms;
}

void
ratelimit_note(struct exchange *ex, const struct ratelimit_class *c,
    int shed)
{
	metrics_inc(&ex->w->metrics.rate_limited);
	metseries_count(&ex->w->metrics.series, METSERIES_RATE_LIMITED,
	    c->name, NULL, METSERIES_OTHER, 429);
	if (shed)
		metrics_inc(&ex->w->metrics.rate_shed);
	else
		log_event(LOG_LEVEL_WARN, "rate_limit", "class", c->name,
		    "request_id", ex->request_id, "client_ip", ex->peer,
		    NULL);
}

void
ratelimit_refuse(struct exchange *ex, const struct ratelimit_class *c,
    uint64_t retry_ms, int shed)
{
	char		 extra[64];
	uint64_t	 secs = (retry_ms + 999) / 1000;

	(void)snprintf(extra, sizeof(extra), "Retry-After: %" PRIu64 "\r\n",
	    secs);
	ratelimit_note(ex, c, shed);
	client_answer(ex, &(struct pages_resp){ .status = 429,
	    .retry_after = (unsigned long)secs, .extra = extra },
	    "rate_limit");
}

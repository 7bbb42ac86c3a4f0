/*
 * Rate limits in Redis (see ratelimit.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pages.h"
#include "ratelimit.h"
#include "request.h"
#include "serve.h"

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
ratelimit_client_key(const struct client *clt, char *out, size_t size)
{
	const char	*xff = clt->req != NULL ? request_header(clt->req,
			    "x-forwarded-for") : NULL;
	char		 addr[INET6_ADDRSTRLEN];
	unsigned char	 a6[16];
	struct in_addr	 a4;
	unsigned int	 bits, i;

	if (clt->trusted && xff != NULL &&
	    ratelimit_forwarded(xff, addr, sizeof(addr)) == 0)
		;
	else
		(void)snprintf(addr, sizeof(addr), "%s", clt->peer);
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return snprintf(out, size, "%s", addr) >= (int)size ? -1 : 0;
	if (inet_pton(AF_INET6, addr, a6) != 1)
		return -1;
	bits = (unsigned int)clt->cfg->ratelimit_v6_prefix;
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
	    (unsigned int)clt->cfg->ratelimit_v6_prefix) >= (int)size ? -1 : 0;
}

int
ratelimit_take(struct store *st, const struct ratelimit_class *c,
    const char *addr, const char *account, store_cb cb, void *arg)
{
	char		 k1[STORE_KEYLEN], k2[STORE_KEYLEN];
	char		 l1[24], p1[24], l2[24];
	const char	*argv[6];
	int		 two = account != NULL && c->account_limit > 0;

	if (store_key(k1, sizeof(k1), store_prefix(st), "rl:%s:ip:%s",
	    c->name, addr) == -1 || (two && store_key(k2, sizeof(k2),
	    store_prefix(st), "rl:%s:acct:%s", c->name, account) == -1))
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

void
ratelimit_refuse(struct client *clt, const struct ratelimit_class *c,
    uint64_t retry_ms)
{
	char	extra[64];

	(void)snprintf(extra, sizeof(extra), "Retry-After: %" PRIu64 "\r\n",
	    (retry_ms + 999) / 1000);
	metrics_inc(&clt->w->metrics.rate_limited);
	log_event(LOG_LEVEL_WARN, "rate_limit", "class", c->name,
	    "request_id", clt->request_id, "client_ip", clt->peer, NULL);
	client_answer(clt, &(struct pages_resp){ .status = 429,
	    .json = pages_wants_html(request_header(clt->req, "accept")) ?
	    NULL : "{\"error\":\"rate_limited\"}", .extra = extra },
	    "rate_limit");
}

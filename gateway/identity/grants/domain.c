/*
 * Custom domains in Redis (see domain.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "domain.h"
#include "store.h"
#include "tlsacme.h"
#include "user.h"

/*
 * KEYS: domain:<host>, domains, org:<slug>:domains, org:<slug>.  ARGV:
 * host, app, org, now, max, channel, message.
 */
static struct store_script domain_lua_add = STORE_SCRIPT("domain add",
    "if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end\n"
    "local cur = redis.call('HMGET', KEYS[1], 'org', 'app')\n"
    "if cur[1] then\n"
    "  if cur[1] == ARGV[3] and cur[2] == ARGV[2] then return 1 end\n"
    "  return -2\n"
    "end\n"
    "if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[5]) then\n"
    "  return -3\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'app', ARGV[2], 'org', ARGV[3],\n"
    "  'added', ARGV[4], 'state', 'pending', 'last_error', '',\n"
    "  'not_after', '0')\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[1])\n"
    "redis.call('PUBLISH', ARGV[6], ARGV[7])\n"
    "return 0\n");

/*
 * KEYS: domain:<host>, domains.  ARGV: prefix, host, org or "" (any),
 * channel, message.
 */
static struct store_script domain_lua_remove = STORE_LAYOUT_SCRIPT(
    "domain remove",
    "local org = redis.call('HGET', KEYS[1], 'org')\n"
    "if not org then return -4 end\n"
    "if ARGV[3] ~= '' and ARGV[3] ~= org then return -2 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('DEL', key('" DOMAIN_LAYOUT_CERT "', ARGV[2]))\n"
    "redis.call('SREM', KEYS[2], ARGV[2])\n"
    "redis.call('SREM', key('" DOMAIN_LAYOUT_ORG "', org), ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[4], ARGV[5])\n"
    "return 0\n");

/* KEYS: domains.  ARGV: prefix.  host, app, org for each domain. */
struct store_script domain_lua_all = STORE_LAYOUT_SCRIPT("domain all",
    "local out = {}\n"
    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local v = redis.call('HMGET', key('" DOMAIN_LAYOUT_HOST "', h),\n"
    "    'app', 'org')\n"
    "  if v[1] and v[2] then\n"
    "    out[#out + 1] = h\n"
    "    out[#out + 1] = v[1]\n"
    "    out[#out + 1] = v[2]\n"
    "  end\n"
    "end\n"
    "return out\n");

const char *
domain_check(const struct config *cfg, const char *host, char *out)
{
	size_t	i;

	for (i = 0; host[i] != '\0' && i < 253; i++)
		out[i] = host[i] >= 'A' && host[i] <= 'Z' ?
		    (char)(host[i] - 'A' + 'a') : host[i];
	out[i] = '\0';
	if (host[i] != '\0' || !tlsacme_host_ok(out) ||
	    strchr(out, '.') == NULL)
		return "domain_name";
	if (config_host_configured(cfg, out))
		return "domain_configured";
	return NULL;
}

unsigned int
domain_max_per_org(const struct config *cfg)
{
	return cfg->acme != NULL ? (unsigned int)cfg->acme->max_domains_per_org :
	    ACME_MAX_DOMAINS_PER_ORG;
}

/* The arguments of the scripts, made once for both kinds of store. */
struct domain_args {
	char		 k[4][STORE_KEYLEN];
	char		 chan[STORE_KEYLEN];
	char		 msg[300];
	char		 now[24], max[16];
	const char	*argv[11];
	int		 argc;
	int		 nkeys;
};

static int
domain_args_add(struct domain_args *a, const char *prefix, const char *host,
    const char *app, const char *org, unsigned int max)
{
	if (store_layout_key(a->k[0], STORE_KEYLEN, prefix, DOMAIN_LAYOUT_HOST,
	    host) == -1 || store_layout_key(a->k[1], STORE_KEYLEN, prefix,
	    DOMAIN_LAYOUT_ALL) == -1 || store_layout_key(a->k[2],
	    STORE_KEYLEN, prefix, DOMAIN_LAYOUT_ORG, org) == -1 ||
	    store_layout_key(a->k[3], STORE_KEYLEN, prefix, USER_LAYOUT_ORG,
	    org) == -1 || store_layout_key(a->chan, STORE_KEYLEN, prefix,
	    DOMAIN_LAYOUT_EVENTS) == -1)
		return -1;
	(void)snprintf(a->msg, sizeof(a->msg), "domain %s", host);
	(void)snprintf(a->now, sizeof(a->now), "%lld", (long long)time(NULL));
	(void)snprintf(a->max, sizeof(a->max), "%u", max);
	a->argv[0] = a->k[0];
	a->argv[1] = a->k[1];
	a->argv[2] = a->k[2];
	a->argv[3] = a->k[3];
	a->argv[4] = host;
	a->argv[5] = app;
	a->argv[6] = org;
	a->argv[7] = a->now;
	a->argv[8] = a->max;
	a->argv[9] = a->chan;
	a->argv[10] = a->msg;
	a->nkeys = 4;
	a->argc = 11;
	return 0;
}

static int
domain_args_remove(struct domain_args *a, const char *prefix,
    const char *host, const char *org)
{
	if (store_layout_key(a->k[0], STORE_KEYLEN, prefix, DOMAIN_LAYOUT_HOST,
	    host) == -1 || store_layout_key(a->k[1], STORE_KEYLEN, prefix,
	    DOMAIN_LAYOUT_ALL) == -1 || store_layout_key(a->chan,
	    STORE_KEYLEN, prefix, DOMAIN_LAYOUT_EVENTS) == -1)
		return -1;
	(void)snprintf(a->msg, sizeof(a->msg), "domain %s", host);
	a->argv[0] = a->k[0];
	a->argv[1] = a->k[1];
	a->argv[2] = prefix;
	a->argv[3] = host;
	a->argv[4] = org != NULL ? org : "";
	a->argv[5] = a->chan;
	a->argv[6] = a->msg;
	a->nkeys = 2;
	a->argc = 7;
	return 0;
}

static enum domain_result
domain_result_of(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < -4 ||
	    r->integer > 1)
		return DOMAIN_ERROR;
	return (enum domain_result)r->integer;
}

/* ---- asynchronous ---- */

/* One change in flight; owned by its store callback. */
struct domain_req {
	domain_cb	 cb;
	void		*arg;
};

static void
domain_on_reply(void *arg, const redisReply *reply, const char *err)
{
	struct domain_req	*dq = arg;

	dq->cb(dq->arg, err != NULL ? DOMAIN_ERROR : domain_result_of(reply));
	free(dq);
}

static int
domain_run(struct store *st, struct store_script *script,
    struct domain_args *a, domain_cb cb, void *arg)
{
	struct domain_req	*dq;

	if ((dq = malloc(sizeof(*dq))) == NULL)
		return -1;
	dq->cb = cb;
	dq->arg = arg;
	if (store_eval(st, script, domain_on_reply, dq, a->nkeys, a->argc,
	    a->argv, NULL) == -1) {
		free(dq);
		return -1;
	}
	return 0;
}

int
domain_add(struct store *st, const char *host, const char *app,
    const char *org, unsigned int max, domain_cb cb, void *arg)
{
	struct domain_args	a;

	if (domain_args_add(&a, store_prefix(st), host, app, org, max) == -1)
		return -1;
	return domain_run(st, &domain_lua_add, &a, cb, arg);
}

int
domain_remove(struct store *st, const char *host, const char *org,
    domain_cb cb, void *arg)
{
	struct domain_args	a;

	if (domain_args_remove(&a, store_prefix(st), host, org) == -1)
		return -1;
	return domain_run(st, &domain_lua_remove, &a, cb, arg);
}

/* ---- synchronous ---- */

static enum domain_result
domain_run_sync(struct store_sync *ss, struct store_script *script,
    struct domain_args *a, char *err, size_t errlen)
{
	redisReply		*r;
	enum domain_result	 rc;

	if ((r = store_sync_eval(ss, script, err, errlen, a->nkeys, a->argc,
	    a->argv, NULL)) == NULL)
		return DOMAIN_ERROR;
	rc = domain_result_of(r);
	freeReplyObject(r);
	if (rc == DOMAIN_ERROR)
		(void)snprintf(err, errlen, "unexpected reply from redis");
	return rc;
}

enum domain_result
domain_add_sync(struct store_sync *ss, const char *host, const char *app,
    const char *org, unsigned int max, char *err, size_t errlen)
{
	struct domain_args	a;

	if (domain_args_add(&a, store_sync_prefix(ss), host, app, org,
	    max) == -1) {
		(void)snprintf(err, errlen, "key name too long");
		return DOMAIN_ERROR;
	}
	return domain_run_sync(ss, &domain_lua_add, &a, err, errlen);
}

enum domain_result
domain_remove_sync(struct store_sync *ss, const char *host, char *err,
    size_t errlen)
{
	struct domain_args	a;

	if (domain_args_remove(&a, store_sync_prefix(ss), host, NULL) == -1) {
		(void)snprintf(err, errlen, "key name too long");
		return DOMAIN_ERROR;
	}
	return domain_run_sync(ss, &domain_lua_remove, &a, err, errlen);
}

const char *
domain_result_text(enum domain_result r)
{
	switch (r) {
	case DOMAIN_OK:
		return "done";
	case DOMAIN_SAME:
		return "already registered so";
	case DOMAIN_ENOORG:
		return "no such org";
	case DOMAIN_TAKEN:
		return "registered for another org or app";
	case DOMAIN_LIMIT:
		return "the org has its maximum of custom domains";
	case DOMAIN_ENOENT:
		return "not registered";
	default:
		return "redis failed";
	}
}

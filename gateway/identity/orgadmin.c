/*
 * Listing, showing and renaming organisations (see orgadmin.h).  The
 * scripts derive the keys of members, sessions, domains and grants from
 * what they read with key() (STORE_LAYOUT_SCRIPT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "grant.h"
#include "orgadmin.h"
#include "store.h"
#include "user.h"

#define OA_TRIES	5
#define OA_HOSTSMAX	256	/* custom domains of one org renamed at once */

/* Lua: n_of(set, org) counts the grants of <set>'s layout in <org>. */
#define OA_LUA_COUNT							\
	"local function n_of(ids, layout, org)\n"			\
	"  local n = 0\n"						\
	"  for _, id in ipairs(redis.call('SMEMBERS', ids)) do\n"	\
	"    if redis.call('HGET', layout(id), 'org') == org then\n"	\
	"      n = n + 1 end\n"						\
	"  end\n"							\
	"  return n\n"							\
	"end\n"								\
	"local function apikey(id) return key('" GRANT_LAYOUT_APIKEY	\
	"', id) end\n"							\
	"local function share(id) return key('" GRANT_LAYOUT_SHARE	\
	"', id) end\n"

/* KEYS: orgs set.  ARGV: prefix.  {slug, name, created, members}... */
static struct store_script oa_lua_list = STORE_LAYOUT_SCRIPT("org list",
	"local slugs = redis.call('SMEMBERS', KEYS[1])\n"
	"table.sort(slugs)\n"
	"local r = {}\n"
	"for _, o in ipairs(slugs) do\n"
	"  local h = redis.call('HMGET', key('" USER_LAYOUT_ORG "', o),\n"
	"    'name', 'created')\n"
	"  r[#r + 1] = o\n"
	"  r[#r + 1] = h[1] or ''\n"
	"  r[#r + 1] = h[2] or ''\n"
	"  r[#r + 1] = redis.call('HLEN',\n"
	"    key('" USER_LAYOUT_ORG_MEMBERS "', o))\n"
	"end\n"
	"return r\n");

/* KEYS: org, members, domains, apikeys, shares.  ARGV: prefix, slug.
 * nil, or {{name, created}, {id, role, email}..., {host, app, state}...,
 * keys, shares} (members by email). */
static struct store_script oa_lua_show = STORE_LAYOUT_SCRIPT("org show",
	OA_LUA_COUNT
	"local h = redis.call('HMGET', KEYS[1], 'name', 'created')\n"
	"if not h[2] then return nil end\n"
	"local m = redis.call('HGETALL', KEYS[2])\n"
	"local rows = {}\n"
	"for i = 1, #m - 1, 2 do\n"
	"  rows[#rows + 1] = {m[i], m[i + 1], redis.call('HGET',\n"
	"    key('" USER_LAYOUT_USER "', m[i]), 'email') or ''}\n"
	"end\n"
	"table.sort(rows, function(a, b) return a[3] < b[3] end)\n"
	"local mem = {}\n"
	"for _, x in ipairs(rows) do\n"
	"  mem[#mem + 1] = x[1]; mem[#mem + 1] = x[2]; mem[#mem + 1] = x[3]\n"
	"end\n"
	"local hosts = redis.call('SMEMBERS', KEYS[3])\n"
	"table.sort(hosts)\n"
	"local dom = {}\n"
	"for _, d in ipairs(hosts) do\n"
	"  local f = redis.call('HMGET', key('" DOMAIN_LAYOUT_HOST "', d),\n"
	"    'app', 'state')\n"
	"  dom[#dom + 1] = d; dom[#dom + 1] = f[1] or ''\n"
	"  dom[#dom + 1] = f[2] or ''\n"
	"end\n"
	"return {{h[1] or '', h[2]}, mem, dom, n_of(KEYS[4], apikey, ARGV[2]),\n"
	"  n_of(KEYS[5], share, ARGV[2])}\n");

/* KEYS: old org, new org, orgs, old members, new members, old domains,
 * new domains, apikeys, shares.  ARGV: prefix, old slug, new slug, the
 * events channel, n, then n pairs (host, "domain <host>"): the old org's
 * domains as read.  Members moved; -1 no old org; -2 the new slug is
 * taken; -3 the domains changed since they were read. */
static struct store_script oa_lua_rename = STORE_LAYOUT_SCRIPT("org rename",
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
	"if redis.call('EXISTS', KEYS[2]) + redis.call('EXISTS', KEYS[5]) +\n"
	"  redis.call('EXISTS', KEYS[7]) > 0 then return -2 end\n"
	"local nd = tonumber(ARGV[5])\n"
	"if redis.call('SCARD', KEYS[6]) ~= nd then return -3 end\n"
	"for i = 0, nd - 1 do\n"
	"  if redis.call('SISMEMBER', KEYS[6], ARGV[6 + 2 * i]) == 0 then\n"
	"    return -3 end\n"
	"end\n"
	"local from, to = ARGV[2], ARGV[3]\n"
	"redis.call('RENAME', KEYS[1], KEYS[2])\n"
	"redis.call('SREM', KEYS[3], from)\n"
	"redis.call('SADD', KEYS[3], to)\n"
	"local m = redis.call('HGETALL', KEYS[4])\n"
	"for i = 1, #m - 1, 2 do\n"
	"  local uo = key('" USER_LAYOUT_USER_ORGS "', m[i])\n"
	"  redis.call('HDEL', uo, from)\n"
	"  redis.call('HSET', uo, to, m[i + 1])\n"
	"  local idx = key('" USER_LAYOUT_USER_SESSIONS "', m[i])\n"
	"  for _, h in ipairs(redis.call('SMEMBERS', idx)) do\n"
	"    local sk = key('" USER_LAYOUT_SESSION "', h)\n"
	"    local ok, f = pcall(cjson.decode,\n"
	"      redis.call('HGET', sk, 'orgs') or '{}')\n"
	"    if ok and type(f) == 'table' then\n"
	"      local moved = false\n"
	"      for j = 1, #f - 1, 2 do\n"
	"        if f[j] == from then f[j] = to; moved = true end\n"
	"      end\n"
	"      if moved then redis.call('HSET', sk, 'orgs', cjson.encode(f))\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"end\n"
	"if #m > 0 then redis.call('RENAME', KEYS[4], KEYS[5]) end\n"
	"for i = 0, nd - 1 do\n"
	"  redis.call('HSET', key('" DOMAIN_LAYOUT_HOST "', ARGV[6 + 2 * i]),\n"
	"    'org', to)\n"
	"end\n"
	"if nd > 0 then redis.call('RENAME', KEYS[6], KEYS[7]) end\n"
	"for _, g in ipairs({{KEYS[8], '" GRANT_LAYOUT_APIKEY "'},\n"
	"    {KEYS[9], '" GRANT_LAYOUT_SHARE "'}}) do\n"
	"  for _, id in ipairs(redis.call('SMEMBERS', g[1])) do\n"
	"    local k = g[2] == '" GRANT_LAYOUT_APIKEY "' and\n"
	"      key('" GRANT_LAYOUT_APIKEY "', id) or\n"
	"      key('" GRANT_LAYOUT_SHARE "', id)\n"
	"    if redis.call('HGET', k, 'org') == from then\n"
	"      redis.call('HSET', k, 'org', to) end\n"
	"  end\n"
	"end\n"
	"for i = 0, nd - 1 do\n"
	"  redis.call('PUBLISH', ARGV[4], ARGV[7 + 2 * i])\n"
	"end\n"
	"return #m / 2\n");

redisReply *
org_list_read(struct store_sync *ss, char *err, size_t errlen)
{
	char		 key[STORE_KEYLEN];
	redisReply	*r;

	if (user_key(key, sizeof(key), store_sync_prefix(ss), USER_KEY_ORGS,
	    NULL) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return NULL;
	}
	if ((r = store_sync_eval(ss, &oa_lua_list, err, errlen, 1, 2,
	    (const char *[]){ key, store_sync_prefix(ss) }, NULL)) != NULL &&
	    r->type != REDIS_REPLY_ARRAY) {
		(void)snprintf(err, errlen, "org list: unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

redisReply *
org_show_read(struct store_sync *ss, const char *slug, char *err,
    size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 ko[STORE_KEYLEN], km[STORE_KEYLEN], kd[STORE_KEYLEN];
	char		 ka[STORE_KEYLEN], ks[STORE_KEYLEN];

	if (user_key(ko, sizeof(ko), prefix, USER_KEY_ORG, slug) == -1 ||
	    user_key(km, sizeof(km), prefix, USER_KEY_ORG_MEMBERS, slug) ==
	    -1 || store_layout_key(kd, sizeof(kd), prefix, DOMAIN_LAYOUT_ORG,
	    slug) == -1 || store_layout_key(ka, sizeof(ka), prefix,
	    GRANT_LAYOUT_APIKEYS) == -1 || store_layout_key(ks, sizeof(ks),
	    prefix, GRANT_LAYOUT_SHARES) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return NULL;
	}
	return store_sync_eval(ss, &oa_lua_show, err, errlen, 5, 7,
	    (const char *[]){ ko, km, kd, ka, ks, prefix, slug }, NULL);
}

/* The keys of a rename of <from> to <to> into <k> (9 of them). */
static int
oa_rename_keys(const char *prefix, const char *from, const char *to,
    char k[9][STORE_KEYLEN])
{
	return user_key(k[0], STORE_KEYLEN, prefix, USER_KEY_ORG, from) ==
	    -1 || user_key(k[1], STORE_KEYLEN, prefix, USER_KEY_ORG, to) ==
	    -1 || user_key(k[2], STORE_KEYLEN, prefix, USER_KEY_ORGS, NULL)
	    == -1 || user_key(k[3], STORE_KEYLEN, prefix,
	    USER_KEY_ORG_MEMBERS, from) == -1 || user_key(k[4], STORE_KEYLEN,
	    prefix, USER_KEY_ORG_MEMBERS, to) == -1 ||
	    store_layout_key(k[5], STORE_KEYLEN, prefix, DOMAIN_LAYOUT_ORG,
	    from) == -1 || store_layout_key(k[6], STORE_KEYLEN, prefix,
	    DOMAIN_LAYOUT_ORG, to) == -1 || store_layout_key(k[7],
	    STORE_KEYLEN, prefix, GRANT_LAYOUT_APIKEYS) == -1 ||
	    store_layout_key(k[8], STORE_KEYLEN, prefix,
	    GRANT_LAYOUT_SHARES) == -1 ? -1 : 0;
}

/* One try with the domains of the old org as they are now. */
static int
oa_rename_once(struct store_sync *ss, char k[9][STORE_KEYLEN],
    const char *from, const char *to, long long *res, char *err,
    size_t errlen)
{
	const char	*argv[14 + 2 * OA_HOSTSMAX];
	char		 events[STORE_KEYLEN], n[24];
	char		 msg[OA_HOSTSMAX][300];
	redisReply	*hosts;
	size_t		 i;
	int		 argc = 0, rc;

	if (store_layout_key(events, sizeof(events), store_sync_prefix(ss),
	    DOMAIN_LAYOUT_EVENTS) == -1 || (hosts = store_sync_command(ss,
	    err, errlen, "SMEMBERS %s", k[5])) == NULL)
		return -1;
	if (hosts->type != REDIS_REPLY_ARRAY ||
	    hosts->elements > OA_HOSTSMAX) {
		(void)snprintf(err, errlen, "org %s: more than %d custom "
		    "domains (or not a set)", from, OA_HOSTSMAX);
		freeReplyObject(hosts);
		return -1;
	}
	for (i = 0; i < 9; i++)
		argv[argc++] = k[i];
	argv[argc++] = store_sync_prefix(ss);
	argv[argc++] = from;
	argv[argc++] = to;
	argv[argc++] = events;
	(void)snprintf(n, sizeof(n), "%zu", hosts->elements);
	argv[argc++] = n;
	for (i = 0; i < hosts->elements; i++) {
		(void)snprintf(msg[i], sizeof(msg[i]), "domain %s",
		    hosts->element[i]->str);
		argv[argc++] = hosts->element[i]->str;
		argv[argc++] = msg[i];
	}
	rc = user_eval(ss, &oa_lua_rename, 9, argc, argv, res, err, errlen);
	freeReplyObject(hosts);
	return rc;
}

int
org_rename(struct store_sync *ss, const char *from, const char *to,
    long *nmembers, char *err, size_t errlen)
{
	char		k[9][STORE_KEYLEN];
	long long	res = -3;
	int		tries;

	if (oa_rename_keys(store_sync_prefix(ss), from, to, k) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	for (tries = 0; res == -3 && tries < OA_TRIES; tries++)
		if (oa_rename_once(ss, k, from, to, &res, err, errlen) == -1)
			return -1;
	if (res == -3) {
		(void)snprintf(err, errlen, "the domains of %s keep changing",
		    from);
		return -1;
	}
	if (res == -1)
		return USER_NOTFOUND;
	if (res == -2)
		return USER_EXISTS;
	*nmembers = (long)res;
	return 0;
}

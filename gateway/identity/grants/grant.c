/*
 * API keys and share links in Redis (see grant.h).  A check is two round
 * trips: HGETALL of the grant, the secret's hash compared here in constant
 * time (never in Lua), then one script that re-checks the grant still
 * exists, takes one token of its rate limit and stamps last_used (at most
 * once a minute).  Only a caller holding the secret can spend a grant's
 * rate limit.  With the worker's cache (sesscache.h) the first trip is
 * saved: the grant is kept there, and Redis reports its revocation or
 * any change (the rate limiter lives outside the grant's key names, so
 * using a grant reports nothing but the minute's last_used).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "grant.h"
#include "route.h"
#include "sesscache.h"
#include "store.h"
#include "user.h"

/* KEYS: grant, index, org (the grant again when there is none).  ARGV:
 * check org ("1"|"0"), expire-at (Unix s, "0": none), id, field, value,
 * ...  0 stored; -2 no such org; -4 the id is taken. */
static struct store_script grant_lua_create = STORE_SCRIPT("grant create",
	"if ARGV[1] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then\n"
	"  return -2 end\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then return -4 end\n"
	"local f = {}\n"
	"for i = 4, #ARGV do f[#f + 1] = ARGV[i] end\n"
	"redis.call('HSET', KEYS[1], unpack(f))\n"
	"if ARGV[2] ~= '0' then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end\n"
	"redis.call('SADD', KEYS[2], ARGV[3])\n"
	"return 0\n");

/* KEYS: grant, its limiter.  ARGV: rate per minute.  A GCRA limiter on
 * Redis' clock: 0 admitted (last_used stamped if a minute old), -1 the
 * grant is gone, or the milliseconds until one more request would be
 * admitted. */
static struct store_script grant_lua_use = STORE_SCRIPT("grant use",
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local step = 60000 / tonumber(ARGV[1])\n"
	"local tat = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
	"if tat < now then tat = now end\n"
	"local new = tat + step\n"
	"if new - 60000 > now then return math.ceil(new - 60000 - now) end\n"
	"redis.call('SET', KEYS[2], string.format('%.3f', new), 'PX',\n"
	"  math.ceil(new - now))\n"
	"local used = tonumber(redis.call('HGET', KEYS[1], 'last_used'))\n"
	"if not used or tonumber(t[1]) - used >= 60 then\n"
	"  redis.call('HSET', KEYS[1], 'last_used', t[1]) end\n"
	"return 0\n");

/* KEYS: grant, its limiter, index.  ARGV: id.  1 deleted, 0 none. */
static struct store_script grant_lua_revoke = STORE_SCRIPT("grant revoke",
	"local n = redis.call('DEL', KEYS[1])\n"
	"redis.call('DEL', KEYS[2])\n"
	"redis.call('SREM', KEYS[3], ARGV[1])\n"
	"return n\n");

/* One check in flight; owned by the store callback, which frees it. */
struct grant_req {
	struct store	*st;
	struct sesscache *sc;		/* or NULL */
	struct sesscache_ticket ticket;	/* of the HGETALL */
	int64_t		 now;
	char		 hash[TOKEN_HASHLEN + 1];	/* presented */
	grant_check_cb	 check_cb;
	grant_done_cb	 done_cb;
	void		*arg;
	struct grant	 g;
};

const char *
grant_token_kind(enum grant_kind kind)
{
	return kind == GRANT_APIKEY ? "pk" : "ps";
}

const char *
grant_kind_name(enum grant_kind kind)
{
	return kind == GRANT_APIKEY ? "apikey" : "share";
}

int
grant_scope_valid(const char *s)
{
	size_t	n = strlen(s);

	return n >= 1 && n <= GRANT_SCOPEMAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789:_.-") == n ? 0 : -1;
}

int
grant_path_valid(const char *s)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@/";
	size_t	n = strlen(s);

	if (n == 0 || n > GRANT_PATHMAX || s[0] != '/' ||
	    strspn(s, ok) != n || strstr(s, "//") != NULL ||
	    strstr(s, "/./") != NULL || strstr(s, "/../") != NULL)
		return -1;
	if ((n >= 2 && strcmp(s + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(s + n - 3, "/..") == 0))
		return -1;
	return 0;
}

void
grant_methods_string(unsigned int methods, char *buf, size_t size)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT",
	    "PATCH", "DELETE", "OPTIONS" };
	size_t	i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((methods & route_method_bit(names[i])) == 0)
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    off > 0 ? "," : "", names[i]);
		if (off >= size)
			break;
	}
}

unsigned int
grant_methods_parse(const char *s)
{
	char		 buf[64], *p, *tok, *last;
	unsigned int	 bits = 0, b;

	if (strlen(s) >= sizeof(buf))
		return 0;
	(void)strcpy(buf, s);
	p = buf;
	for (tok = strtok_r(p, ",", &last); tok != NULL;
	    tok = strtok_r(NULL, ",", &last)) {
		if ((b = route_method_bit(tok)) == ROUTE_M_OTHER)
			return 0;
		bits |= b;
	}
	return bits;
}

/*
 * The key layout of API keys and share links (docs/redis.md): a grant's
 * hash, its rate limiter and the index of every id of its kind.
 */
static const char *const grant_layouts[][3] = {
	[GRANT_APIKEY] = { GRANT_LAYOUT_APIKEY,
	    STORE_LAYOUT("grantrl:apikey:<id>"), GRANT_LAYOUT_APIKEYS },
	[GRANT_SHARE] = { GRANT_LAYOUT_SHARE,
	    STORE_LAYOUT("grantrl:share:<id>"), GRANT_LAYOUT_SHARES },
};

/* The Redis key of grant <id>, or with <rate> of its rate limiter. */
static int
grant_key(char *buf, size_t size, const char *prefix, enum grant_kind kind,
    const char *id, int rate)
{
	return store_layout_key(buf, size, prefix,
	    grant_layouts[kind][rate ? 1 : 0], id);
}

static int
grant_index_key(char *buf, size_t size, const char *prefix,
    enum grant_kind kind)
{
	return store_layout_key(buf, size, prefix, grant_layouts[kind][2]);
}

/* ---- the stored form ---- */

static int
grant_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int
grant_int(const char *s, size_t len, int64_t *v)
{
	char	buf[24], *end;
	long long n;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	n = strtoll(buf, &end, 10);
	if (*end != '\0' || n < 0)
		return -1;
	*v = (int64_t)n;
	return 0;
}

/* "a b c" into g->scopes; 0 or -1. */
static int
grant_scopes_parse(struct grant *g, const char *s, size_t len)
{
	size_t	i = 0, n;

	g->nscopes = 0;
	while (i < len) {
		n = 0;
		while (i + n < len && s[i + n] != ' ')
			n++;
		if (n == 0 || g->nscopes == GRANT_MAXSCOPES ||
		    grant_copy(g->scopes[g->nscopes], sizeof(g->scopes[0]),
		    s + i, n) == -1 ||
		    grant_scope_valid(g->scopes[g->nscopes]) == -1)
			return -1;
		g->nscopes++;
		i += n + 1;
	}
	return 0;
}

/*
 * An HGETALL reply into <g> (its kind and id already set) and the stored
 * hash into <hash>.  Returns 0, or -1 if the record is malformed (treated
 * as no grant: fail closed).
 */
static int
grant_from_reply(const redisReply *r, struct grant *g, char *hash)
{
	int64_t	 v;
	size_t	 i;
	int	 have_hash = 0;
	char	 m[64];

	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0 ||
	    r->elements == 0)
		return -1;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *val = r->element[i + 1];
		const char	*s = val->str;
		size_t		 n = val->len;
		int		 bad = 0;

		if (k->type != REDIS_REPLY_STRING ||
		    val->type != REDIS_REPLY_STRING)
			return -1;
		if (strcmp(k->str, "hash") == 0) {
			bad = grant_copy(hash, TOKEN_HASHLEN + 1, s, n) == -1 ||
			    n != TOKEN_HASHLEN;
			have_hash = !bad;
		} else if (strcmp(k->str, "org") == 0)
			bad = grant_copy(g->org, sizeof(g->org), s, n);
		else if (strcmp(k->str, "name") == 0)
			bad = grant_copy(g->name, sizeof(g->name), s, n);
		else if (strcmp(k->str, "app") == 0)
			bad = grant_copy(g->app, sizeof(g->app), s, n);
		else if (strcmp(k->str, "path") == 0)
			bad = grant_copy(g->path, sizeof(g->path), s, n);
		else if (strcmp(k->str, "scopes") == 0)
			bad = grant_scopes_parse(g, s, n);
		else if (strcmp(k->str, "methods") == 0) {
			bad = grant_copy(m, sizeof(m), s, n) == -1 ||
			    (g->methods = grant_methods_parse(m)) == 0;
		} else if (strcmp(k->str, "prefix") == 0)
			g->prefix = n == 1 && s[0] == '1';
		else if (strcmp(k->str, "rate") == 0) {
			bad = grant_int(s, n, &v) == -1 || v < 1 ||
			    v > GRANT_RATE_MAX;
			g->rate = bad ? 0 : (unsigned int)v;
		} else if (strcmp(k->str, "created") == 0)
			bad = grant_int(s, n, &g->created);
		else if (strcmp(k->str, "expires") == 0)
			bad = grant_int(s, n, &g->expires);
		else if (strcmp(k->str, "last_used") == 0)
			bad = grant_int(s, n, &g->last_used);
		if (bad)
			return -1;
	}
	if (!have_hash || g->rate == 0)
		return -1;
	if (g->kind == GRANT_SHARE && (g->app[0] == '\0' ||
	    grant_path_valid(g->path) == -1 || g->methods == 0))
		return -1;
	return 0;
}

/*
 * The HSET arguments of <g> into <argv> (from index <at>), with the
 * strings in <buf>.  Returns the new argument count.
 */
struct grant_fields {
	char	scopes[GRANT_MAXSCOPES * (GRANT_SCOPEMAX + 1) + 1];
	char	rate[16], created[24], expires[24], methods[64];
};

static int
grant_to_argv(const struct grant *g, const char *hash,
    struct grant_fields *f, const char **argv, int at)
{
	size_t	i, off = 0;

	for (i = 0; i < g->nscopes; i++)
		off += (size_t)snprintf(f->scopes + off, sizeof(f->scopes) -
		    off, "%s%s", i > 0 ? " " : "", g->scopes[i]);
	f->scopes[off] = '\0';
	(void)snprintf(f->rate, sizeof(f->rate), "%u", g->rate);
	(void)snprintf(f->created, sizeof(f->created), "%" PRId64,
	    g->created);
	(void)snprintf(f->expires, sizeof(f->expires), "%" PRId64,
	    g->expires);
	grant_methods_string(g->methods, f->methods, sizeof(f->methods));
#define GRANT_FIELD(k, v)	do { argv[at++] = (k); argv[at++] = (v); } \
				while (0)
	GRANT_FIELD("hash", hash);
	GRANT_FIELD("org", g->org);
	GRANT_FIELD("name", g->name);
	GRANT_FIELD("rate", f->rate);
	GRANT_FIELD("created", f->created);
	GRANT_FIELD("expires", f->expires);
	if (g->kind == GRANT_APIKEY) {
		GRANT_FIELD("scopes", f->scopes);
	} else {
		GRANT_FIELD("app", g->app);
		GRANT_FIELD("path", g->path);
		GRANT_FIELD("prefix", g->prefix ? "1" : "0");
		GRANT_FIELD("methods", f->methods);
	}
#undef GRANT_FIELD
	return at;
}

/*
 * The create script's keys and arguments for <g> under <prefix>.
 * Returns the argument count, or -1 if a key does not fit.
 */
struct grant_create_args {
	char			 kgrant[STORE_KEYLEN], kindex[STORE_KEYLEN];
	char			 korg[STORE_KEYLEN], expat[24];
	struct grant_fields	 f;
	const char		*argv[40];
};

static int
grant_create_args(const char *prefix, const struct grant *g,
    const char *hash, struct grant_create_args *a)
{
	if (grant_key(a->kgrant, sizeof(a->kgrant), prefix, g->kind, g->id,
	    0) == -1 || grant_index_key(a->kindex, sizeof(a->kindex),
	    prefix, g->kind) == -1 || user_key(a->korg, sizeof(a->korg),
	    prefix, USER_KEY_ORG, g->org) == -1)
		return -1;
	(void)snprintf(a->expat, sizeof(a->expat), "%" PRId64,
	    g->kind == GRANT_SHARE ? g->expires : 0);
	a->argv[0] = a->kgrant;
	a->argv[1] = a->kindex;
	a->argv[2] = g->org[0] != '\0' ? a->korg : a->kgrant;
	a->argv[3] = g->org[0] != '\0' ? "1" : "0";
	a->argv[4] = a->expat;
	a->argv[5] = g->id;
	return grant_to_argv(g, hash, &a->f, a->argv, 6);
}

static int
grant_create_result(long long res)
{
	return res == 0 ? 0 : res == -2 ? GRANT_ENOORG : -1;
}

/* ---- asynchronous: the request path ---- */

static struct grant_req *
grant_req_new(struct store *st, void *arg)
{
	struct grant_req	*gr;

	if ((gr = calloc(1, sizeof(*gr))) == NULL)
		return NULL;
	gr->st = st;
	gr->arg = arg;
	return gr;
}

static void
grant_req_free(struct grant_req *gr)
{
	OPENSSL_cleanse(gr, sizeof(*gr));
	free(gr);
}

static void
grant_check_end(struct grant_req *gr, enum grant_status s,
    unsigned int retry_ms)
{
	gr->check_cb(gr->arg, s, s == GRANT_OK ? &gr->g : NULL, retry_ms);
	grant_req_free(gr);
}

static void
grant_on_use(void *arg, const redisReply *reply, const char *err)
{
	struct grant_req	*gr = arg;

	if (err != NULL || reply == NULL || reply->type != REDIS_REPLY_INTEGER)
		grant_check_end(gr, GRANT_ERROR, 0);
	else if (reply->integer == 0)
		grant_check_end(gr, GRANT_OK, 0);
	else if (reply->integer < 0)
		grant_check_end(gr, GRANT_NONE, 0);	/* revoked meanwhile */
	else
		grant_check_end(gr, GRANT_LIMITED, reply->integer > 3600000 ?
		    3600000u : (unsigned int)reply->integer);
}

/* The cache's name of <g>'s grant ("apikey:<id>"). */
static void
grant_cache_name(const struct grant *g, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s:%s", grant_kind_name(g->kind), g->id);
}

/*
 * The stored record of gr->g is in, with the hash <stored> ("" when the
 * record is missing or malformed): compare (constant time), then spend
 * one request of its rate limit.
 */
static void
grant_verify(struct grant_req *gr, const char *stored)
{
	char			 kgrant[STORE_KEYLEN], klim[STORE_KEYLEN];
	char			 rate[16];
	const char		*argv[3];
	int			 ok;

	/* Compare even for a malformed record: one code path, one cost. */
	ok = token_hash_equal(stored[0] != '\0' ? stored : gr->hash,
	    gr->hash) && stored[0] != '\0';
	if (!ok || (gr->g.expires != 0 && gr->g.expires <= gr->now)) {
		grant_check_end(gr, GRANT_NONE, 0);
		return;
	}
	(void)snprintf(rate, sizeof(rate), "%u", gr->g.rate);
	if (grant_key(kgrant, sizeof(kgrant), store_prefix(gr->st),
	    gr->g.kind, gr->g.id, 0) == -1 || grant_key(klim, sizeof(klim),
	    store_prefix(gr->st), gr->g.kind, gr->g.id, 1) == -1) {
		grant_check_end(gr, GRANT_ERROR, 0);
		return;
	}
	argv[0] = kgrant;
	argv[1] = klim;
	argv[2] = rate;
	if (store_eval(gr->st, &grant_lua_use, grant_on_use, gr, 2, 3, argv,
	    NULL) == -1)
		grant_check_end(gr, GRANT_ERROR, 0);
}

static void
grant_on_lookup(void *arg, const redisReply *reply, const char *err)
{
	struct grant_req	*gr = arg;
	char			 stored[TOKEN_HASHLEN + 1] = "";
	char			 name[SESSCACHE_GRANTMAX];

	if (err != NULL || reply == NULL) {
		grant_check_end(gr, GRANT_ERROR, 0);
		return;
	}
	if (grant_from_reply(reply, &gr->g, stored) == -1)
		stored[0] = '\0';
	else if (token_hash_equal(stored, gr->hash)) {
		grant_cache_name(&gr->g, name, sizeof(name));
		(void)sesscache_grant_put(gr->sc, &gr->ticket,
		    store_track_epoch(gr->st), name, &gr->g, stored);
	}
	grant_verify(gr, stored);
	OPENSSL_cleanse(stored, sizeof(stored));
}

int
grant_check(struct store *st, struct sesscache *sc, enum grant_kind kind,
    const char *id, const char *hash, int64_t now, grant_check_cb cb,
    void *arg)
{
	struct grant_req	*gr;
	char			 key[STORE_KEYLEN], name[SESSCACHE_GRANTMAX];
	char			 stored[TOKEN_HASHLEN + 1];
	uint64_t		 epoch = store_track_epoch(st);

	if (!token_id_valid(id) || strlen(hash) != TOKEN_HASHLEN ||
	    grant_key(key, sizeof(key), store_prefix(st), kind, id, 0) == -1 ||
	    (gr = grant_req_new(st, arg)) == NULL)
		return -1;
	gr->check_cb = cb;
	gr->now = now;
	gr->sc = sc;
	gr->g.kind = kind;
	(void)strcpy(gr->g.id, id);
	(void)strcpy(gr->hash, hash);
	grant_cache_name(&gr->g, name, sizeof(name));
	if (sesscache_grant_get(sc, name, epoch, &gr->g, stored)) {
		grant_verify(gr, stored);	/* may end (and free) gr */
		OPENSSL_cleanse(stored, sizeof(stored));
		return 0;
	}
	sesscache_ticket(sc, epoch, 0, &gr->ticket);
	if (store_command_argv(st, grant_on_lookup, gr, 2,
	    (const char *[]){ "HGETALL", key }, NULL) == -1) {
		grant_req_free(gr);
		return -1;
	}
	return 0;
}

static void
grant_on_created(void *arg, const redisReply *reply, const char *err)
{
	struct grant_req	*gr = arg;
	int			 rc = -1;

	if (err == NULL && reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		rc = grant_create_result(reply->integer);
	gr->done_cb(gr->arg, rc);
	grant_req_free(gr);
}

int
grant_create(struct store *st, const struct grant *g, const char *hash,
    grant_done_cb cb, void *arg)
{
	struct grant_create_args *a;
	struct grant_req	*gr;
	int			 argc, rc = -1;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	if ((argc = grant_create_args(store_prefix(st), g, hash, a)) != -1 &&
	    (gr = grant_req_new(st, arg)) != NULL) {
		gr->done_cb = cb;
		if ((rc = store_eval(st, &grant_lua_create, grant_on_created,
		    gr, 3, argc, a->argv, NULL)) == -1)
			grant_req_free(gr);
	}
	free(a);
	return rc;
}

/* ---- synchronous: the command-line tools ---- */

int
grant_create_sync(struct store_sync *ss, const struct grant *g,
    const char *hash, char *err, size_t errlen)
{
	struct grant_create_args *a;
	redisReply		*r = NULL;
	int			 argc, rc = -1;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((argc = grant_create_args(store_sync_prefix(ss), g, hash, a)) ==
	    -1)
		(void)snprintf(err, errlen, "key too long");
	else if ((r = store_sync_eval(ss, &grant_lua_create, err, errlen, 3,
	    argc, a->argv, NULL)) != NULL) {
		if (r->type == REDIS_REPLY_INTEGER)
			rc = grant_create_result(r->integer);
		if (rc == -1)
			(void)snprintf(err, errlen, "unexpected reply from "
			    "redis");
	}
	freeReplyObject(r);
	free(a);
	return rc;
}

int
grant_revoke_sync(struct store_sync *ss, enum grant_kind kind,
    const char *id, char *err, size_t errlen)
{
	char		 kg[STORE_KEYLEN], kl[STORE_KEYLEN], ki[STORE_KEYLEN];
	const char	*prefix = store_sync_prefix(ss);
	redisReply	*r;
	int		 rc = -1;

	if (grant_key(kg, sizeof(kg), prefix, kind, id, 0) == -1 ||
	    grant_key(kl, sizeof(kl), prefix, kind, id, 1) == -1 ||
	    grant_index_key(ki, sizeof(ki), prefix, kind) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	if ((r = store_sync_eval(ss, &grant_lua_revoke, err, errlen, 3, 4,
	    (const char *[]){ kg, kl, ki, id }, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rc = r->integer == 1 ? 0 : GRANT_ENOENT;
	else
		(void)snprintf(err, errlen, "unexpected reply from redis");
	freeReplyObject(r);
	return rc;
}

int
grant_get_sync(struct store_sync *ss, enum grant_kind kind, const char *id,
    struct grant *g, char *err, size_t errlen)
{
	char		 key[STORE_KEYLEN], hash[TOKEN_HASHLEN + 1];
	redisReply	*r;
	int		 rc;

	memset(g, 0, sizeof(*g));
	g->kind = kind;
	if (!token_id_valid(id) || grant_key(key, sizeof(key),
	    store_sync_prefix(ss), kind, id, 0) == -1)
		return GRANT_ENOENT;
	(void)strcpy(g->id, id);
	if ((r = store_sync_command(ss, err, errlen, "HGETALL %s", key)) ==
	    NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
		rc = GRANT_ENOENT;
	else if ((rc = grant_from_reply(r, g, hash)) == -1)
		(void)snprintf(err, errlen, "%s %s: malformed record in "
		    "redis", grant_kind_name(kind), id);
	freeReplyObject(r);
	return rc;
}

static int
grant_cmp_created(const void *a, const void *b)
{
	const struct grant *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
grant_list_sync(struct store_sync *ss, enum grant_kind kind,
    grant_list_fn fn, void *arg, char *err, size_t errlen)
{
	char		 key[STORE_KEYLEN];
	redisReply	*r;
	struct grant	*v = NULL;
	size_t		 i, n = 0;
	int		 rc = 0;

	if (grant_index_key(key, sizeof(key), store_sync_prefix(ss), kind) ==
	    -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	if ((r = store_sync_command(ss, err, errlen, "SMEMBERS %s", key)) ==
	    NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY ||
	    (r->elements > 0 && (v = calloc(r->elements, sizeof(*v))) ==
	    NULL)) {
		(void)snprintf(err, errlen, "unexpected reply from redis");
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < r->elements && rc != -1; i++) {
		const char *id = r->element[i]->str;

		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		rc = grant_get_sync(ss, kind, id, &v[n], err, errlen);
		if (rc == 0)
			n++;
		else if (rc == GRANT_ENOENT) {	/* expired share: tidy up */
			redisReply *d = store_sync_command(ss, err, errlen,
			    "SREM %s %s", key, id);

			freeReplyObject(d);
			rc = 0;
		}
	}
	freeReplyObject(r);
	if (rc != -1) {
		if (n > 0)	/* v may be NULL: qsort's pointer is nonnull */
			qsort(v, n, sizeof(*v), grant_cmp_created);
		for (i = 0; i < n; i++)
			fn(&v[i], arg);
	}
	free(v);
	return rc == -1 ? -1 : 0;
}

/*
 * Users, organisations and memberships in Redis (see user.h for the key
 * layout): key naming, checks of emails, slugs, roles and names, and the
 * Lua scripts behind the command-line tools.  A script runs atomically, so
 * a crash or a lost connection never leaves an email index without its
 * user, a membership on one side only, or a disabled user with sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "acctstore.h"
#include "config.h"
#include "encode.h"
#include "password.h"
#include "store.h"
#include "user.h"

/*
 * The key layout of users, organisations and sessions (docs/redis.md):
 * user_key() makes every one of these names.
 */
static const char *const user_layouts[] = {
	[USER_KEY_USER] = USER_LAYOUT_USER,
	[USER_KEY_EMAIL] = USER_LAYOUT_EMAIL,
	[USER_KEY_USERS] = USER_LAYOUT_USERS,
	[USER_KEY_USER_ORGS] = USER_LAYOUT_USER_ORGS,
	[USER_KEY_USER_SESSIONS] = USER_LAYOUT_USER_SESSIONS,
	[USER_KEY_SESSION] = USER_LAYOUT_SESSION,
	[USER_KEY_ORG] = USER_LAYOUT_ORG,
	[USER_KEY_ORGS] = USER_LAYOUT_ORGS,
	[USER_KEY_ORG_MEMBERS] = USER_LAYOUT_ORG_MEMBERS,
	[USER_KEY_DELETED] = USER_LAYOUT_DELETED,
};

#define LUA_REVOKE	USER_LUA_REVOKE

/* KEYS: email index, user hash, users set, tombstones.
 * ARGV: id, email, name, phc, now.  1 done, 0 email taken, -1 id taken
 * (by a user, or by a deleted one: an id never comes back). */
static struct store_script user_lua_add = STORE_SCRIPT("user add",
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"if redis.call('EXISTS', KEYS[2]) == 1 or\n"
	"  redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then return -1 end\n"
	"redis.call('SET', KEYS[1], ARGV[1])\n"
	"redis.call('HSET', KEYS[2], 'email', ARGV[2], 'name', ARGV[3],\n"
	"  'password', ARGV[4], 'disabled', '0', 'created', ARGV[5],\n"
	"  'password_changed', ARGV[5])\n"
	"redis.call('SADD', KEYS[3], ARGV[1])\n"
	"return 1\n");

/* KEYS: email index.  ARGV: prefix, phc, now.
 * Sets the hash and revokes every session: sessions revoked, or -1. */
static struct store_script user_lua_passwd = STORE_LAYOUT_SCRIPT(
	"user passwd",
	LUA_REVOKE
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"redis.call('HSET', key('" USER_LAYOUT_USER "', id), 'password',\n"
	"  ARGV[2], 'password_changed', ARGV[3])\n"
	"return revoke(id)\n");

/* KEYS: email index.  ARGV: prefix, "1" (disable) or "0" (enable).
 * Disabling revokes every session: sessions revoked, or -1. */
static struct store_script user_lua_disable = STORE_LAYOUT_SCRIPT(
	"user disable",
	LUA_REVOKE
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"redis.call('HSET', key('" USER_LAYOUT_USER "', id), 'disabled',\n"
	"  ARGV[2])\n"
	"if ARGV[2] == '1' then return revoke(id) end\n"
	"return 0\n");

/* KEYS: email index.  ARGV: prefix.  Sessions revoked, or -1. */
static struct store_script user_lua_revoke = STORE_LAYOUT_SCRIPT(
	"revoke sessions",
	LUA_REVOKE
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"return revoke(id)\n");

/* KEYS: users set.  ARGV: prefix.  Every session of every user (all
 * sessions are indexed under their user): sessions revoked. */
static struct store_script user_lua_revoke_all = STORE_LAYOUT_SCRIPT(
	"revoke all sessions",
	LUA_REVOKE
	"local n = 0\n"
	"for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  n = n + revoke(id)\n"
	"end\n"
	"return n\n");

/* KEYS: org hash, orgs set.  ARGV: slug, name, now.  1 done, 0 taken. */
static struct store_script user_lua_org_add = STORE_SCRIPT("org add",
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'name', ARGV[2], 'created', ARGV[3])\n"
	"redis.call('SADD', KEYS[2], ARGV[1])\n"
	"return 1\n");

/* KEYS: email index, org hash, org members, the user's orgs.  ARGV: slug,
 * role ("" removes), the user id the index named when read.  1 done, 0 was
 * not a member, -1 no user, -2 no org, -3 the index names another id now
 * (read it again). */
static struct store_script user_lua_member = STORE_SCRIPT("org member",
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return -1 end\n"
	"if id ~= ARGV[3] then return -3 end\n"
	"if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end\n"
	"if ARGV[2] == '' then\n"
	"  redis.call('HDEL', KEYS[4], ARGV[1])\n"
	"  return redis.call('HDEL', KEYS[3], id)\n"
	"end\n"
	"redis.call('HSET', KEYS[3], id, ARGV[2])\n"
	"redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])\n"
	"return 1\n");

int
user_key(char *buf, size_t size, const char *prefix, enum user_key kind,
    const char *arg)
{
	if ((size_t)kind >= sizeof(user_layouts) / sizeof(user_layouts[0]))
		return -1;
	return store_layout_key(buf, size, prefix, user_layouts[kind], arg);
}

int
user_email_normalize(const char *in, char *out, char *why, size_t whylen)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i, len = strlen(in), at = 0, nat = 0;

	if (len < 3 || len > USER_EMAILMAX) {
		(void)snprintf(why, whylen, "an email address has 3 to %d "
		    "characters", USER_EMAILMAX);
		return -1;
	}
	if (password_utf8_len(in, len) == -1) {
		(void)snprintf(why, whylen, "the email address is not valid "
		    "UTF-8");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] == 0x7f || strchr("<>()[]\\,;:\"",
		    s[i]) != NULL) {
			(void)snprintf(why, whylen, "the email address holds "
			    "a space, control or special character");
			return -1;
		}
		if (s[i] == '@') {
			at = i;
			nat++;
		}
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' :
		    s[i]);
	}
	out[len] = '\0';
	if (nat != 1 || at == 0 || at == len - 1 || in[len - 1] == '.' ||
	    in[at + 1] == '.') {
		(void)snprintf(why, whylen, "expected an email address such "
		    "as name@example.com");
		return -1;
	}
	return 0;
}

int
user_slug_valid(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > USER_SLUGMAX || s[0] == '-' || s[len - 1] == '-')
		return -1;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return -1;
	return 0;
}

int
user_role_valid(char *const *roles, size_t nroles, const char *s)
{
	size_t	i;

	for (i = 0; i < nroles; i++)
		if (strcmp(s, roles[i]) == 0)
			return 0;
	return -1;
}

int
user_name_valid(const char *s)
{
	size_t	i, len = strlen(s);

	if (len > USER_NAMEMAX || password_utf8_len(s, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	return 0;
}

int
user_new_id(char *out)
{
	unsigned char	rnd[USER_IDLEN / 2];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	encode_hex(rnd, sizeof(rnd), out);
	return 0;
}

int
user_eval(struct store_sync *ss, struct store_script *script, int nkeys,
    int argc, const char **argv, long long *out, char *err, size_t errlen)
{
	redisReply	*r;

	if ((r = store_sync_eval(ss, script, err, errlen, nkeys, argc, argv,
	    NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER) {
		(void)snprintf(err, errlen, "%s: unexpected reply from redis",
		    script->name);
		freeReplyObject(r);
		return -1;
	}
	*out = r->integer;
	freeReplyObject(r);
	return 0;
}

static void
user_now(char *buf, size_t size)
{
	(void)snprintf(buf, size, "%lld", (long long)time(NULL));
}

int
user_add(struct store_sync *ss, const char *email, const char *name,
    const char *phc, char *id, char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 kemail[STORE_KEYLEN], kuser[STORE_KEYLEN];
	char		 kusers[STORE_KEYLEN], kdel[STORE_KEYLEN], now[32];
	const char	*argv[9];
	long long	 res;
	int		 tries;

	user_now(now, sizeof(now));
	if (user_key(kemail, sizeof(kemail), prefix, USER_KEY_EMAIL, email)
	    == -1 || user_key(kusers, sizeof(kusers), prefix, USER_KEY_USERS,
	    NULL) == -1 || user_key(kdel, sizeof(kdel), prefix,
	    USER_KEY_DELETED, NULL) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	for (tries = 0; tries < 3; tries++) {	/* -1: an id collision */
		if (user_new_id(id) == -1 || user_key(kuser, sizeof(kuser),
		    prefix, USER_KEY_USER, id) == -1) {
			(void)snprintf(err, errlen, "no random id");
			return -1;
		}
		argv[0] = kemail;
		argv[1] = kuser;
		argv[2] = kusers;
		argv[3] = kdel;
		argv[4] = id;
		argv[5] = email;
		argv[6] = name;
		argv[7] = phc;
		argv[8] = now;
		if (user_eval(ss, &user_lua_add, 4, 9, argv, &res, err,
		    errlen) == -1)
			return -1;
		if (res == 1)
			return 0;
		if (res == 0)
			return USER_EXISTS;
	}
	(void)snprintf(err, errlen, "could not allocate a user id");
	return -1;
}

int
user_by_email(struct store_sync *ss, struct store_script *script,
    const char *email, const char *a2, const char *a3, long *count,
    char *err, size_t errlen)
{
	const char	*argv[4];
	char		 kemail[STORE_KEYLEN];
	long long	 res;
	int		 argc = 2;

	if (user_key(kemail, sizeof(kemail), store_sync_prefix(ss),
	    USER_KEY_EMAIL, email) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	argv[0] = kemail;
	argv[1] = store_sync_prefix(ss);
	if (a2 != NULL)
		argv[argc++] = a2;
	if (a3 != NULL)
		argv[argc++] = a3;
	if (user_eval(ss, script, 1, argc, argv, &res, err, errlen) == -1)
		return -1;
	if (res < 0)
		return USER_NOTFOUND;
	if (count != NULL)
		*count = (long)res;
	return 0;
}

int
user_set_password(struct store_sync *ss, const char *email, const char *phc,
    long *nrevoked, char *err, size_t errlen)
{
	char	now[32];

	user_now(now, sizeof(now));
	return user_by_email(ss, &user_lua_passwd, email, phc, now, nrevoked,
	    err, errlen);
}

int
user_set_disabled(struct store_sync *ss, const char *email, int disabled,
    long *nrevoked, char *err, size_t errlen)
{
	return user_by_email(ss, &user_lua_disable, email, disabled ? "1" :
	    "0", NULL, nrevoked, err, errlen);
}

int
user_revoke_sessions(struct store_sync *ss, const char *email,
    long *nrevoked, char *err, size_t errlen)
{
	return user_by_email(ss, &user_lua_revoke, email, NULL, NULL,
	    nrevoked, err, errlen);
}

int
user_revoke_all(struct store_sync *ss, long *nrevoked, char *err,
    size_t errlen)
{
	const char	*argv[2];
	char		 kusers[STORE_KEYLEN];
	long long	 res;

	if (user_key(kusers, sizeof(kusers), store_sync_prefix(ss),
	    USER_KEY_USERS, NULL) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	argv[0] = kusers;
	argv[1] = store_sync_prefix(ss);
	if (user_eval(ss, &user_lua_revoke_all, 1, 2, argv, &res, err,
	    errlen) == -1)
		return -1;
	*nrevoked = (long)res;
	return 0;
}

int
user_org_add(struct store_sync *ss, const char *slug, const char *name,
    char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss), *argv[5];
	char		 korg[STORE_KEYLEN], korgs[STORE_KEYLEN], now[32];
	long long	 res;

	user_now(now, sizeof(now));
	if (user_key(korg, sizeof(korg), prefix, USER_KEY_ORG, slug) == -1 ||
	    user_key(korgs, sizeof(korgs), prefix, USER_KEY_ORGS, NULL) ==
	    -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	argv[0] = korg;
	argv[1] = korgs;
	argv[2] = slug;
	argv[3] = name;
	argv[4] = now;
	if (user_eval(ss, &user_lua_org_add, 2, 5, argv, &res, err, errlen) ==
	    -1)
		return -1;
	return res == 1 ? 0 : USER_EXISTS;
}

/*
 * The user id behind <kemail> into <id> (<idsize> bytes): 0, 1 if there is
 * none, or -1 with the reason in <err>.
 */
static int
user_id_of(struct store_sync *ss, const char *kemail, char *id,
    size_t idsize, char *err, size_t errlen)
{
	redisReply	*r;
	int		 rc = 0;

	if ((r = store_sync_command(ss, err, errlen, "GET %s", kemail)) ==
	    NULL)
		return -1;
	if (r->type == REDIS_REPLY_NIL)
		rc = 1;
	else if (r->type != REDIS_REPLY_STRING || r->len == 0 ||
	    r->len >= idsize) {
		(void)snprintf(err, errlen, "malformed email index %s",
		    kemail);
		rc = -1;
	} else
		(void)memcpy(id, r->str, r->len + 1);
	freeReplyObject(r);
	return rc;
}

int
user_org_member(struct store_sync *ss, const char *slug, const char *email,
    const char *role, char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 kemail[STORE_KEYLEN], korg[STORE_KEYLEN];
	char		 kmem[STORE_KEYLEN], kuo[STORE_KEYLEN];
	char		 id[128];
	long long	 res = -3;
	int		 rc, tries;

	if (user_key(kemail, sizeof(kemail), prefix, USER_KEY_EMAIL, email) ==
	    -1 || user_key(korg, sizeof(korg), prefix, USER_KEY_ORG, slug) ==
	    -1 || user_key(kmem, sizeof(kmem), prefix, USER_KEY_ORG_MEMBERS,
	    slug) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	/* the script gets the user's key: the id is read first, then checked */
	for (tries = 0; res == -3 && tries < 5; tries++) {
		if ((rc = user_id_of(ss, kemail, id, sizeof(id), err,
		    errlen)) == -1)
			return -1;
		if (rc == 1) {
			res = -1;
			break;
		}
		if (user_key(kuo, sizeof(kuo), prefix, USER_KEY_USER_ORGS,
		    id) == -1) {
			(void)snprintf(err, errlen, "key too long");
			return -1;
		}
		if (user_eval(ss, &user_lua_member, 4, 7, (const char *[]){
		    kemail, korg, kmem, kuo, slug, role != NULL ? role : "",
		    id }, &res, err, errlen) == -1)
			return -1;
	}
	if (res == -3) {
		(void)snprintf(err, errlen, "the user of %s keeps changing",
		    email);
		return -1;
	}
	if (res == -1) {
		(void)snprintf(err, errlen, "no user %s", email);
		return USER_NOTFOUND;
	}
	if (res == -2) {
		(void)snprintf(err, errlen, "no organisation %s", slug);
		return USER_NOTFOUND;
	}
	if (res == 0) {
		(void)snprintf(err, errlen, "%s is not a member of %s", email,
		    slug);
		return USER_NOTFOUND;
	}
	return 0;
}

/* ---- listing ---- */

static char *
user_dup(const redisReply *r)
{
	char	*s;

	s = strdup(r != NULL && r->type == REDIS_REPLY_STRING ? r->str : "");
	if (s == NULL)
		abort();
	return s;
}

/* "slug:role,..." from an HGETALL reply. */
static char *
user_orgs_string(const redisReply *r)
{
	size_t	 i, len = 1;
	char	*s;

	for (i = 0; i + 1 < r->elements; i += 2)
		len += r->element[i]->len + r->element[i + 1]->len + 2;
	if ((s = calloc(1, len)) == NULL)
		abort();
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, r->element[i]->str);
		strcat(s, ":");
		strcat(s, r->element[i + 1]->str);
	}
	return s;
}

static int
user_info_cmp(const void *a, const void *b)
{
	const struct user_info	*x = a, *y = b;

	return strcmp(x->email, y->email);
}

/* Read one pipelined pair (HMGET, HGETALL) into <ui>. */
static int
user_list_read(struct store_sync *ss, redisContext *c, const char *id,
    struct user_info *ui, char *err, size_t errlen)
{
	redisReply	*h = NULL, *o = NULL;
	int		 rc = -1;

	if (redisGetReply(c, (void **)&h) != REDIS_OK ||
	    redisGetReply(c, (void **)&o) != REDIS_OK ||
	    h->type != REDIS_REPLY_ARRAY || h->elements != 4 ||
	    o->type != REDIS_REPLY_ARRAY) {
		(void)snprintf(err, errlen, "redis: cannot read user %s", id);
		goto out;
	}
	if ((ui->id = strdup(id)) == NULL)
		abort();
	ui->email = user_dup(h->element[0]);
	ui->name = user_dup(h->element[1]);
	ui->disabled = h->element[2]->type == REDIS_REPLY_STRING &&
	    strcmp(h->element[2]->str, "1") == 0;
	ui->created = h->element[3]->type == REDIS_REPLY_STRING ?
	    strtoll(h->element[3]->str, NULL, 10) : 0;
	ui->orgs = user_orgs_string(o);
	rc = 0;
out:
	if (h != NULL)
		freeReplyObject(h);
	if (o != NULL)
		freeReplyObject(o);
	(void)ss;
	return rc;
}

int
user_list(struct store_sync *ss, user_list_fn fn, void *arg, char *err,
    size_t errlen)
{
	const char		*prefix = store_sync_prefix(ss);
	char			 key[STORE_KEYLEN], k2[STORE_KEYLEN];
	redisContext		*c = store_sync_context(ss);
	redisReply		*ids;
	struct user_info	*ui;
	size_t			 i, n = 0;
	int			 rc = -1;

	if (user_key(key, sizeof(key), prefix, USER_KEY_USERS, NULL) == -1 ||
	    (ids = store_sync_command(ss, err, errlen, "SMEMBERS %s", key)) ==
	    NULL)
		return -1;
	if ((ui = calloc(ids->elements + 1, sizeof(*ui))) == NULL)
		abort();
	/* Pipelined: one round trip per batch rather than per user. */
	for (i = 0; i < ids->elements; i++) {
		(void)user_key(key, sizeof(key), prefix, USER_KEY_USER,
		    ids->element[i]->str);
		(void)user_key(k2, sizeof(k2), prefix, USER_KEY_USER_ORGS,
		    ids->element[i]->str);
		(void)redisAppendCommand(c, "HMGET %s email name disabled "
		    "created", key);
		(void)redisAppendCommand(c, "HGETALL %s", k2);
	}
	for (i = 0; i < ids->elements; i++, n++)
		if (user_list_read(ss, c, ids->element[i]->str, &ui[i], err,
		    errlen) == -1)
			goto out;
	qsort(ui, n, sizeof(*ui), user_info_cmp);
	for (i = 0; i < n; i++)
		fn(&ui[i], arg);
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(ui[i].id);
		free(ui[i].email);
		free(ui[i].name);
		free(ui[i].orgs);
	}
	free(ui);
	freeReplyObject(ids);
	return rc;
}

int
user_memberships(struct store_sync *ss, const char *email,
    struct user_membership *m, char *err, size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 key[STORE_KEYLEN];
	redisReply	*r;
	size_t		 i;

	memset(m, 0, sizeof(*m));
	if (user_key(key, sizeof(key), prefix, USER_KEY_EMAIL, email) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	if ((r = store_sync_command(ss, err, errlen, "GET %s", key)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != USER_IDLEN) {
		freeReplyObject(r);
		(void)snprintf(err, errlen, "no user %s", email);
		return USER_NOTFOUND;
	}
	memcpy(m->id, r->str, USER_IDLEN + 1);
	freeReplyObject(r);
	if (user_key(key, sizeof(key), prefix, USER_KEY_USER, m->id) == -1 ||
	    (r = store_sync_command(ss, err, errlen, "HGET %s disabled",
	    key)) == NULL)
		return -1;
	m->disabled = r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") ==
	    0;
	freeReplyObject(r);
	if (user_key(key, sizeof(key), prefix, USER_KEY_USER_ORGS, m->id) ==
	    -1 || (r = store_sync_command(ss, err, errlen, "HGETALL %s",
	    key)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements &&
	    m->norgs < SESSION_MAX_ORGS; i += 2) {
		struct session_org *o = &m->orgs[m->norgs];

		if (r->element[i]->len >= sizeof(o->slug) ||
		    r->element[i + 1]->len >= sizeof(o->role))
			continue;
		(void)strcpy(o->slug, r->element[i]->str);
		(void)strcpy(o->role, r->element[i + 1]->str);
		m->norgs++;
	}
	freeReplyObject(r);
	return 0;
}

void
user_password_params(const struct config *cfg, struct password_params *p)
{
	p->memory_kib = (uint32_t)(cfg->argon2_memory / 1024);
	p->iterations = (uint32_t)cfg->argon2_iterations;
	p->parallelism = (uint32_t)cfg->argon2_parallelism;
}

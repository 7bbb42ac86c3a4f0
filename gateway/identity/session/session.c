/*
 * Sessions in Redis (see session.h).  Each operation is one Lua script so
 * that the session hash, its TTL and the per-user index change together.
 * Key names follow user.h's layout; the scripts derive a user's keys from
 * the session they read with key() (STORE_LAYOUT_SCRIPT).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "chclass.h"
#include "digest.h"
#include "encode.h"
#include "session.h"
#include "store.h"
#include "user.h"

/* KEYS: session, user hash, user's session index, user's devices.
 * Sessions over the limit go oldest first, by Redis' clock in
 * microseconds ('order'), so sign-ins within one second still have an
 * order.  'orgs' is the snapshot of the memberships the session was given
 * (see the lookup); 'ip' and 'ua' are where it was made from.  ARGV:
 * prefix, hash, user, now, idle_ms, max_per_user, method, mfa, scope, ip,
 * ua, device ("": none), devices kept, devices' TTL (s).  Created: the
 * device's enum session_device (1 when none was given); -1 no such user;
 * -2 user disabled. */
static struct store_script session_lua_create = STORE_LAYOUT_SCRIPT(
	"session create",
	"local u = redis.call('HMGET', KEYS[2], 'disabled', 'email')\n"
	"if not u[2] then return -1 end\n"
	"if u[1] == '1' then return -2 end\n"
	"local t = redis.call('TIME')\n"
	"redis.call('HSET', KEYS[1], 'user', ARGV[3], 'created', ARGV[4],\n"
	"  'auth_time', ARGV[4], 'last_seen', ARGV[4], 'method', ARGV[7],\n"
	"  'mfa', ARGV[8], 'order', t[1] * 1000000 + t[2], 'scope', ARGV[9],\n"
	"  'ip', ARGV[10], 'ua', ARGV[11], 'device', ARGV[12],\n"
	"  'orgs', cjson.encode(redis.call('HGETALL',\n"
	"  key('" USER_LAYOUT_USER_ORGS "', ARGV[3]))))\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
	"redis.call('HSET', KEYS[2], 'last_login', ARGV[4])\n"
	"redis.call('SADD', KEYS[3], ARGV[2])\n"
	"local live = {}\n"
	"for _, h in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
	"  local c = redis.call('HGET', key('" USER_LAYOUT_SESSION "', h),\n"
	"    'order')\n"
	"  if c then live[#live + 1] = {h, tonumber(c)}\n"
	"  else redis.call('SREM', KEYS[3], h) end\n"
	"end\n"
	"local max = tonumber(ARGV[6])\n"
	"if max > 0 and #live > max then\n"
	"  table.sort(live, function(a, b) return a[2] < b[2] end)\n"
	"  local drop = #live - max\n"
	"  for _, s in ipairs(live) do\n"
	"    if drop > 0 and s[1] ~= ARGV[2] then\n"
	"      redis.call('DEL', key('" USER_LAYOUT_SESSION "', s[1]))\n"
	"      redis.call('SREM', KEYS[3], s[1])\n"
	"      drop = drop - 1\n"
	"    end\n"
	"  end\n"
	"end\n"
	"if ARGV[12] == '' then return 1 end\n"
	"local seen = 1\n"
	"if not redis.call('ZSCORE', KEYS[4], ARGV[12]) then\n"
	"  seen = redis.call('ZCARD', KEYS[4]) == 0 and 2 or 3 end\n"
	"redis.call('ZADD', KEYS[4], ARGV[4], ARGV[12])\n"
	"local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[13])\n"
	"if over > 0 then\n"
	"  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1) end\n"
	"redis.call('EXPIRE', KEYS[4], ARGV[14])\n"
	"return seen\n");

/* KEYS: session.  ARGV: prefix, hash, now, idle_ms, lifetime_s, scope
 * ("": any), touch_ms.  nil, or {user, email, auth_time, method, mfa,
 * created, totp enrolled ("1"|"0"), memberships pending ("1"|"0"), ms
 * since the idle timeout was last slid, ms until the key expires, org,
 * role, ...}.  A session of another scope is nil and stays: the hosts it
 * belongs to still use it.  The idle timeout slides (last_seen, touched,
 * PEXPIRE) only when the last slide is touch_ms old or more, so a
 * session in use costs one write per touch_ms, not one per request.
 * Memberships: those of the session's snapshot whose role is unchanged.
 * One removed is gone at once; one added or changed is pending until the
 * next rotation, so a copy of an old cookie never gains a role. */
static struct store_script session_lua_lookup = STORE_LAYOUT_SCRIPT(
	"session lookup",
	"local s = redis.call('HMGET', KEYS[1], 'user', 'created',\n"
	"  'auth_time', 'method', 'mfa', 'scope', 'orgs', 'touched')\n"
	"if not s[1] then return nil end\n"
	"if ARGV[6] ~= '' and s[6] ~= ARGV[6] then return nil end\n"
	"local now = tonumber(ARGV[3])\n"
	"local left = tonumber(s[2]) + tonumber(ARGV[5]) - now\n"
	"local u = redis.call('HMGET', key('" USER_LAYOUT_USER "', s[1]),\n"
	"  'disabled', 'email', 'totp')\n"
	"if left <= 0 or not u[2] or u[1] == '1' then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  redis.call('SREM', key('" USER_LAYOUT_USER_SESSIONS "', s[1]),\n"
	"    ARGV[2])\n"
	"  return nil\n"
	"end\n"
	"local t = redis.call('TIME')\n"
	"local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local since = ms - (tonumber(s[8]) or 0)\n"
	"if since >= tonumber(ARGV[7]) or since < 0 then\n"
	"  redis.call('HSET', KEYS[1], 'last_seen', ARGV[3], 'touched', ms)\n"
	"  redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[4]),\n"
	"    left * 1000))\n"
	"  since = 0\n"
	"end\n"
	"local r = {s[1], u[2], s[3], s[4], s[5], s[2],\n"
	"  (u[3] and u[3] ~= '') and '1' or '0', '0', tostring(since),\n"
	"  tostring(redis.call('PTTL', KEYS[1]))}\n"
	"local snap = {}\n"
	"local ok, f = pcall(cjson.decode, s[7] or '{}')\n"
	"if ok and type(f) == 'table' then\n"
	"  for i = 1, #f - 1, 2 do snap[f[i]] = f[i + 1] end\n"
	"end\n"
	"local o = redis.call('HGETALL',\n"
	"  key('" USER_LAYOUT_USER_ORGS "', s[1]))\n"
	"for i = 1, #o - 1, 2 do\n"
	"  if snap[o[i]] == o[i + 1] then\n"
	"    r[#r + 1] = o[i]\n"
	"    r[#r + 1] = o[i + 1]\n"
	"  else r[8] = '1' end\n"
	"end\n"
	"return r\n");

/* KEYS: old session, new session.  ARGV: prefix, old hash, new hash, mfa
 * ("1": passed now), auth_time (Unix s, "0": unchanged).  The session
 * moves to the new key with a new membership snapshot, and the old key is
 * gone in the same step: no moment where both ids are valid, and the old
 * one never carries what the new one was given.  1 done, -1 no such
 * session (or its user is gone or disabled: the old key goes all the
 * same). */
static struct store_script session_lua_rotate = STORE_LAYOUT_SCRIPT(
	"session rotate",
	"local u = redis.call('HGET', KEYS[1], 'user')\n"
	"local ttl = redis.call('PTTL', KEYS[1])\n"
	"if not u or ttl <= 0 then return -1 end\n"
	"local f = redis.call('HGETALL', KEYS[1])\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('SREM', key('" USER_LAYOUT_USER_SESSIONS "', u), ARGV[2])\n"
	"local d = redis.call('HMGET', key('" USER_LAYOUT_USER "', u),\n"
	"  'disabled', 'email')\n"
	"if not d[2] or d[1] == '1' then return -1 end\n"
	"redis.call('HSET', KEYS[2], unpack(f))\n"
	"if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'mfa', '1') end\n"
	"if ARGV[5] ~= '0' then\n"
	"  redis.call('HSET', KEYS[2], 'auth_time', ARGV[5]) end\n"
	"redis.call('HSET', KEYS[2], 'orgs',\n"
	"  cjson.encode(redis.call('HGETALL',\n"
	"  key('" USER_LAYOUT_USER_ORGS "', u))))\n"
	"redis.call('PEXPIRE', KEYS[2], ttl)\n"
	"redis.call('SADD', key('" USER_LAYOUT_USER_SESSIONS "', u), ARGV[3])\n"
	"return 1\n");

/* KEYS: session.  ARGV: prefix, hash[, scope].  The user id it was of,
 * or 0 if there was none (or it is of another scope than a given one, and
 * stays; one stored without a scope goes). */
static struct store_script session_lua_destroy = STORE_LAYOUT_SCRIPT(
	"session destroy",
	"local s = redis.call('HMGET', KEYS[1], 'user', 'scope')\n"
	"if ARGV[3] and s[2] and s[2] ~= ARGV[3] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"if not s[1] then return 0 end\n"
	"redis.call('SREM', key('" USER_LAYOUT_USER_SESSIONS "', s[1]),\n"
	"  ARGV[2])\n"
	"return s[1]\n");

/* One command in flight; owned by the store callback, which frees it. */
struct session_req {
	session_lookup_cb	 lookup_cb;
	session_done_cb		 done_cb;
	struct session_origin	*origin;	/* session_create()'s */
	session_user_cb		 user_cb;	/* session_destroy() */
	void			*arg;
	char			 hash[SESSION_HASH_LEN + 1];
};

int
session_new_id(char *id, size_t idlen)
{
	unsigned char	rnd[32];
	int		rc = -1;

	if (RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    encode_b64url(rnd, sizeof(rnd), id, idlen) == SESSION_ID_LEN)
		rc = 0;
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rc;
}

int
session_id_valid(const char *id)
{
	unsigned int	ok = 1;
	size_t		i;

	if (strnlen(id, SESSION_ID_LEN + 1) != SESSION_ID_LEN)
		return 0;
	for (i = 0; i < SESSION_ID_LEN; i++)
		ok &= CHCLASS(id[i], CH_B64URL);
	return ok;
}

void
session_hash(const char *id, char *hex)
{
	unsigned char	dig[DIGEST_SHA256_LEN];

	(void)digest_sha256(id, strlen(id), dig);
	encode_hex(dig, sizeof(dig), hex);
}

static struct session_req *
session_req_new(session_lookup_cb lcb, session_done_cb dcb, void *arg)
{
	struct session_req	*sr;

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		return NULL;
	sr->lookup_cb = lcb;
	sr->done_cb = dcb;
	sr->arg = arg;
	return sr;
}

/* Run <script> with the session key and <argc> - 1 more arguments. */
static int
session_eval(struct store *st, struct store_script *script,
    struct session_req *sr, store_cb cb, const char *hash, int nkeys,
    const char **argv, int argc)
{
	char	key[STORE_KEYLEN];

	if (user_key(key, sizeof(key), store_prefix(st), USER_KEY_SESSION,
	    hash) == -1) {
		free(sr);
		return -1;
	}
	argv[0] = key;
	if (store_eval(st, script, cb, sr, nkeys, argc, argv, NULL) == -1) {
		free(sr);
		return -1;
	}
	return 0;
}

static void
session_on_done(void *arg, const redisReply *reply, const char *err)
{
	struct session_req	*sr = arg;
	enum session_status	 s = SESSION_ERROR;

	if (err == NULL && reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
		s = reply->integer >= 0 ? SESSION_OK : SESSION_NONE;
		if (sr->origin != NULL && sr->origin->device != NULL &&
		    reply->integer >= SESSION_DEVICE_KNOWN &&
		    reply->integer <= SESSION_DEVICE_NEW)
			sr->origin->seen = (int)reply->integer;
	} else if (err == NULL && reply != NULL &&
	    reply->type == REDIS_REPLY_STRING)
		s = SESSION_OK;
	sr->done_cb(sr->arg, s);
	free(sr);
}

int
session_create(struct store *st, const char *id, const char *user,
    const char *method, int mfa, const char *scope, int64_t now,
    const struct session_limits *lim, struct session_origin *from,
    session_done_cb cb, void *arg)
{
	struct session_req	*sr;
	char			 hash[SESSION_HASH_LEN + 1], ukey[STORE_KEYLEN];
	char			 idx[STORE_KEYLEN], dkey[STORE_KEYLEN];
	char			 snow[24], sidle[24], smax[16], sdmax[16], sttl[16];

	if ((sr = session_req_new(NULL, cb, arg)) == NULL)
		return -1;
	sr->origin = from;
	from->seen = SESSION_DEVICE_NONE;
	session_hash(id, hash);
	if (user_key(ukey, sizeof(ukey), store_prefix(st), USER_KEY_USER,
	    user) == -1 || user_key(idx, sizeof(idx), store_prefix(st),
	    USER_KEY_USER_SESSIONS, user) == -1 || store_layout_key(dkey,
	    sizeof(dkey), store_prefix(st), SESSION_LAYOUT_DEVICES, user) ==
	    -1) {
		free(sr);
		return -1;
	}
	(void)snprintf(snow, sizeof(snow), "%" PRId64, now);
	(void)snprintf(sidle, sizeof(sidle), "%" PRIu64, lim->idle_ms);
	(void)snprintf(smax, sizeof(smax), "%u", lim->max_per_user);
	(void)snprintf(sdmax, sizeof(sdmax), "%d", SESSION_DEVICES_MAX);
	(void)snprintf(sttl, sizeof(sttl), "%d", SESSION_DEVICES_TTL);
	return session_eval(st, &session_lua_create, sr, session_on_done,
	    hash, 4, (const char *[]){ NULL, ukey, idx, dkey,
	    store_prefix(st), hash, user, snow, sidle, smax, method,
	    mfa ? "1" : "0", scope, from->ip, from->ua,
	    from->device != NULL ? from->device : "", sdmax, sttl }, 18);
}

static void
session_copy(char *dst, size_t size, const redisReply *r)
{
	size_t	n = 0;

	if (r->type == REDIS_REPLY_STRING)
		n = r->len < size - 1 ? r->len : size - 1;
	memcpy(dst, r->str != NULL ? r->str : "", n);
	dst[n] = '\0';
}

/* The lookup script's reply: this many fields, then org, role pairs. */
#define SESSION_FIELDS	10

/* The reply of the lookup script, checked field by field. */
static enum session_status
session_parse(const redisReply *r, struct session *s)
{
	size_t	i;

	if (r->type == REDIS_REPLY_NIL)
		return SESSION_NONE;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < SESSION_FIELDS ||
	    (r->elements - SESSION_FIELDS) % 2 != 0)
		return SESSION_ERROR;
	for (i = 0; i < SESSION_FIELDS; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return SESSION_ERROR;
	memset(s, 0, sizeof(*s));
	session_copy(s->user, sizeof(s->user), r->element[0]);
	session_copy(s->email, sizeof(s->email), r->element[1]);
	s->auth_time = strtoll(r->element[2]->str, NULL, 10);
	session_copy(s->method, sizeof(s->method), r->element[3]);
	s->mfa = strcmp(r->element[4]->str, "1") == 0;
	s->created = strtoll(r->element[5]->str, NULL, 10);
	s->mfa_enrolled = strcmp(r->element[6]->str, "1") == 0;
	s->orgs_pending = strcmp(r->element[7]->str, "1") == 0;
	s->touched_ago_ms = strtoll(r->element[8]->str, NULL, 10);
	s->pttl_ms = strtoll(r->element[9]->str, NULL, 10);
	for (i = SESSION_FIELDS; i + 1 < r->elements && s->norgs < SESSION_MAX_ORGS;
	    i += 2) {
		session_copy(s->orgs[s->norgs].slug, sizeof(s->orgs[0].slug),
		    r->element[i]);
		session_copy(s->orgs[s->norgs].role, sizeof(s->orgs[0].role),
		    r->element[i + 1]);
		s->norgs++;
	}
	return SESSION_OK;
}

static void
session_on_lookup(void *arg, const redisReply *reply, const char *err)
{
	struct session_req	*sr = arg;
	struct session		 s;
	enum session_status	 st = SESSION_ERROR;

	if (err == NULL && reply != NULL)
		st = session_parse(reply, &s);
	if (st == SESSION_OK)
		(void)memcpy(s.hash, sr->hash, sizeof(s.hash));
	sr->lookup_cb(sr->arg, st, st == SESSION_OK ? &s : NULL);
	free(sr);
}

int
session_lookup(struct store *st, const char *id, const char *scope,
    int64_t now, const struct session_limits *lim, session_lookup_cb cb,
    void *arg)
{
	char	hash[SESSION_HASH_LEN + 1];

	session_hash(id, hash);
	return session_lookup_hash(st, hash, scope, now, lim, cb, arg);
}

int
session_lookup_hash(struct store *st, const char *hash, const char *scope,
    int64_t now, const struct session_limits *lim, session_lookup_cb cb,
    void *arg)
{
	struct session_req	*sr;
	char			 snow[24], sidle[24], slife[24], stouch[24];
	const char		*argv[8];

	if (strlen(hash) != SESSION_HASH_LEN ||
	    (sr = session_req_new(cb, NULL, arg)) == NULL)
		return -1;
	(void)memcpy(sr->hash, hash, sizeof(sr->hash));
	(void)snprintf(snow, sizeof(snow), "%" PRId64, now);
	(void)snprintf(sidle, sizeof(sidle), "%" PRIu64, lim->idle_ms);
	(void)snprintf(slife, sizeof(slife), "%" PRIu64, lim->lifetime_s);
	argv[1] = store_prefix(st);
	argv[2] = hash;
	argv[3] = snow;
	argv[4] = sidle;
	argv[5] = slife;
	(void)snprintf(stouch, sizeof(stouch), "%" PRIu64, lim->idle_ms /
	    SESSION_TOUCH_DIV);
	argv[6] = scope != NULL ? scope : "";
	argv[7] = stouch;
	return session_eval(st, &session_lua_lookup, sr, session_on_lookup,
	    hash, 1, argv, 8);
}

static void
session_on_destroyed(void *arg, const redisReply *reply, const char *err)
{
	struct session_req	*sr = arg;
	char			 user[USER_IDLEN + 1] = "";

	if (err != NULL || reply == NULL || (reply->type != REDIS_REPLY_STRING &&
	    reply->type != REDIS_REPLY_INTEGER)) {
		sr->user_cb(sr->arg, SESSION_ERROR, NULL);
	} else if (reply->type == REDIS_REPLY_STRING) {
		session_copy(user, sizeof(user), reply);
		sr->user_cb(sr->arg, SESSION_OK, user);
	} else
		sr->user_cb(sr->arg, SESSION_NONE, NULL);
	free(sr);
}

int
session_destroy(struct store *st, const char *id, const char *scope,
    session_user_cb cb, void *arg)
{
	struct session_req	*sr;
	char			 hash[SESSION_HASH_LEN + 1];
	const char		*argv[4];

	if ((sr = session_req_new(NULL, NULL, arg)) == NULL)
		return -1;
	sr->user_cb = cb;
	session_hash(id, hash);
	argv[1] = store_prefix(st);
	argv[2] = hash;
	argv[3] = scope;
	return session_eval(st, &session_lua_destroy, sr, session_on_destroyed,
	    hash, 1, argv, 4);
}

int
session_rotate(struct store *st, const char *hash, const char *newid,
    int mfa, int64_t auth_time, session_done_cb cb, void *arg)
{
	struct session_req	*sr;
	char			 newhash[SESSION_HASH_LEN + 1];
	char			 newkey[STORE_KEYLEN], at[24];
	const char		*argv[7];

	if (strlen(hash) != SESSION_HASH_LEN || !session_id_valid(newid) ||
	    (sr = session_req_new(NULL, cb, arg)) == NULL)
		return -1;
	session_hash(newid, newhash);
	if (user_key(newkey, sizeof(newkey), store_prefix(st),
	    USER_KEY_SESSION, newhash) == -1) {
		free(sr);
		return -1;
	}
	(void)snprintf(at, sizeof(at), "%" PRId64, auth_time);
	argv[1] = newkey;
	argv[2] = store_prefix(st);
	argv[3] = hash;
	argv[4] = newhash;
	argv[5] = mfa ? "1" : "0";
	argv[6] = at;
	return session_eval(st, &session_lua_rotate, sr, session_on_done,
	    hash, 2, argv, 7);
}

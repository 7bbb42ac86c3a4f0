/*
 * Redis operations of the account pages (see acctstore.h).  Key names come
 * from user_key() and the layouts below and in acctstore.h; the scripts
 * that walk a user's sessions or replace a token derive those keys with
 * key() (STORE_LAYOUT_SCRIPT).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acctstore.h"
#include "user.h"

/* The second factor's keys (acctstore.h, docs/redis.md). */
#define ACCT_KEY_BACKUP		ACCTSTORE_KEY_BACKUP
#define ACCT_KEY_MFA_FAIL	ACCTSTORE_KEY_MFA_FAIL

/* KEYS: user, backup codes, failure counter (as for every script run by
 * acct_user_eval()).  ARGV: step.  1 recorded, 0 replayed (or no user). */
static struct store_script acct_lua_accept = STORE_SCRIPT("mfa accept",
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"local last = tonumber(redis.call('HGET', KEYS[1], 'totp_step') or "
	"'-1') or -1\n"
	"if tonumber(ARGV[1]) <= last then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'totp_step', ARGV[1])\n"
	"redis.call('DEL', KEYS[3])\n"
	"return 1\n");

/* KEYS: failure counter.  ARGV: window (s).  The count. */
static struct store_script acct_lua_failed = STORE_SCRIPT("mfa failed",
	"local n = redis.call('INCR', KEYS[1])\n"
	"if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
	"return n\n");

/* KEYS: user, backup, failures.  {totp, totp_pending, totp_step, failures}. */
static struct store_script acct_lua_load = STORE_SCRIPT("mfa load",
	"local u = redis.call('HMGET', KEYS[1], 'totp', 'totp_pending',\n"
	"  'totp_step')\n"
	"local f = redis.call('GET', KEYS[3]) or '0'\n"
	"return {u[1] or '', u[2] or '', u[3] or '', f}\n");

/* KEYS: user, backup, failures.  ARGV: sealed.  1. */
static struct store_script acct_lua_enroll_start = STORE_SCRIPT(
	"mfa enroll start",
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'totp_pending', ARGV[1])\n"
	"return 1\n");

/* KEYS: user, backup, failures.  ARGV: sealed, step, hash x 10.  1, or 0. */
static struct store_script acct_lua_enroll_finish = STORE_SCRIPT(
	"mfa enroll finish",
	"if redis.call('HGET', KEYS[1], 'totp_pending') ~= ARGV[1] then\n"
	"  return 0 end\n"
	"redis.call('HSET', KEYS[1], 'totp', ARGV[1], 'totp_step', ARGV[2])\n"
	"redis.call('HDEL', KEYS[1], 'totp_pending')\n"
	"redis.call('DEL', KEYS[2], KEYS[3])\n"
	"for i = 3, #ARGV do redis.call('SADD', KEYS[2], ARGV[i])"
	" end\n"
	"return 1\n");

/* KEYS: user, backup, failures.  ARGV: hash x 10.  1, or 0 when not
 * enrolled. */
static struct store_script acct_lua_backup_replace = STORE_SCRIPT(
	"backup replace",
	"local t = redis.call('HGET', KEYS[1], 'totp')\n"
	"if not t or t == '' then return 0 end\n"
	"redis.call('DEL', KEYS[2])\n"
	"for i = 1, #ARGV do redis.call('SADD', KEYS[2], ARGV[i])"
	" end\n"
	"return 1\n");

/* KEYS: user, backup, failures.  ARGV: hash x n.  1 if every one is an
 * unused backup code, else 0. */
static struct store_script acct_lua_backup_known = STORE_SCRIPT(
	"backup known",
	"for i = 1, #ARGV do\n"
	"  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then return 0 end\n"
	"end\n"
	"return #ARGV > 0 and 1 or 0\n");

/* KEYS: user, backup, failures.  1. */
static struct store_script acct_lua_disable = STORE_SCRIPT("mfa disable",
	"redis.call('HDEL', KEYS[1], 'totp', 'totp_step', 'totp_pending')\n"
	"redis.call('DEL', KEYS[2], KEYS[3])\n"
	"return 1\n");

/* KEYS: user's session index.  ARGV: prefix.  {hash, created, last_seen,
 * method, mfa, ip, ua, ...} (ACCTSTORE_SESSION_FIELDS each); stale index
 * entries are dropped. */
struct store_script acctstore_lua_sessions = STORE_LAYOUT_SCRIPT("sessions",
	"local r = {}\n"
	"for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  local s = redis.call('HMGET', key('" USER_LAYOUT_SESSION "', h),\n"
	"    'created', 'last_seen', 'method', 'mfa', 'ip', 'ua')\n"
	"  if s[1] then\n"
	"    r[#r + 1] = h; r[#r + 1] = s[1]; r[#r + 1] = s[2] or ''\n"
	"    r[#r + 1] = s[3] or ''; r[#r + 1] = s[4] or '0'\n"
	"    r[#r + 1] = s[5] or ''; r[#r + 1] = s[6] or ''\n"
	"  else redis.call('SREM', KEYS[1], h) end\n"
	"end\n"
	"return r\n");

/* KEYS: user's session index, the session.  ARGV: hash.  1 deleted, 0
 * not the user's. */
static struct store_script acct_lua_revoke = STORE_SCRIPT("session revoke",
	"if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
	"redis.call('SREM', KEYS[1], ARGV[1])\n"
	"redis.call('DEL', KEYS[2])\n"
	"return 1\n");

/* KEYS: user, backup, failures.  {password, disabled, email} or nil. */
static struct store_script acct_lua_user = STORE_SCRIPT("account user",
	"local u = redis.call('HMGET', KEYS[1], 'password', 'disabled',\n"
	"  'email')\n"
	"if not u[1] then return nil end\n"
	"return {u[1], u[2] or '0', u[3] or ''}\n");

/* KEYS: user, its orgs.  {disabled, email, totp?, slug, ...} or nil. */
static struct store_script acct_lua_brief = STORE_SCRIPT("account brief",
	"local u = redis.call('HMGET', KEYS[1], 'email', 'disabled', 'totp')\n"
	"if not u[1] then return nil end\n"
	"local r = {u[2] or '0', u[1], (u[3] and u[3] ~= '') and '1' or '0'}\n"
	"for _, o in ipairs(redis.call('HKEYS', KEYS[2])) do r[#r + 1] = o "
	"end\n"
	"return r\n");

/* KEYS: user, its session index.  ARGV: prefix, old ("" any), new,
 * keep ("" none), now, user id.  Sessions deleted, or -1.  The user's
 * outstanding emailed links go too (the one just used is gone already). */
static struct store_script acct_lua_password = STORE_LAYOUT_SCRIPT(
	"set password",
	ACCTSTORE_LUA_DROP_LINKS
	"local cur = redis.call('HGET', KEYS[1], 'password')\n"
	"if not cur or (ARGV[2] ~= '' and cur ~= ARGV[2]) then return -1 end\n"
	"redis.call('HSET', KEYS[1], 'password', ARGV[3],\n"
	"  'password_changed', ARGV[5])\n"
	"drop_links(ARGV[6])\n"
	"local n = 0\n"
	"for _, h in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
	"  if h ~= ARGV[4] then\n"
	"    n = n + redis.call('DEL', key('" USER_LAYOUT_SESSION "', h))\n"
	"    redis.call('SREM', KEYS[2], h)\n"
	"  end\n"
	"end\n"
	"return n\n");

/* KEYS: token, the user's current token of the kind.  ARGV: prefix,
 * value, ttl (s), kind, hash.  1.  The user's earlier token of the kind
 * is deleted in the same step: only the newest link works. */
struct store_script acctstore_lua_otk_put = STORE_LAYOUT_SCRIPT("otk put",
	"local old = redis.call('GET', KEYS[2])\n"
	"if old then\n"
	"  redis.call('DEL', key('" ACCTSTORE_KEY_OTK "', ARGV[4], old))\n"
	"end\n"
	"redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])\n"
	"redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[3])\n"
	"return 1\n");

static int
acct_user_key(struct store *st, const char *user, enum user_key kind,
    char *key, size_t size)
{
	return strlen(user) != USER_IDLEN || user_key(key, size,
	    store_prefix(st), kind, user) == -1 ? -1 : 0;
}

static int
acct_mfa_key(struct store *st, const char *user, const char *layout,
    char *key, size_t size)
{
	return strlen(user) != USER_IDLEN || store_layout_key(key, size,
	    store_prefix(st), layout, user) == -1 ? -1 : 0;
}

/*
 * Run <script> with <argc> arguments on KEYS: the user hash of <user>, its
 * backup codes and its failure counter.
 */
static int
acct_user_eval(struct store *st, struct store_script *script,
    const char *user, int argc, const char **args, store_cb cb, void *arg)
{
	char		 ku[STORE_KEYLEN], kb[STORE_KEYLEN], kf[STORE_KEYLEN];
	const char	*argv[3 + 15];
	int		 i;

	if (argc > 15 || acct_user_key(st, user, USER_KEY_USER, ku,
	    sizeof(ku)) == -1 || acct_mfa_key(st, user, ACCT_KEY_BACKUP, kb,
	    sizeof(kb)) == -1 || acct_mfa_key(st, user, ACCT_KEY_MFA_FAIL, kf,
	    sizeof(kf)) == -1)
		return -1;
	argv[0] = ku;
	argv[1] = kb;
	argv[2] = kf;
	for (i = 0; i < argc; i++)
		argv[i + 3] = args[i];
	return store_eval(st, script, cb, arg, 3, argc + 3, argv, NULL);
}

int
acctstore_mfa_load(struct store *st, const char *user, store_cb cb,
    void *arg)
{
	return acct_user_eval(st, &acct_lua_load, user, 0, NULL, cb, arg);
}

int
acctstore_mfa_accept(struct store *st, const char *user, int64_t step,
    store_cb cb, void *arg)
{
	char	s[24];

	(void)snprintf(s, sizeof(s), "%" PRId64, step);
	return acct_user_eval(st, &acct_lua_accept, user, 1,
	    (const char *[]){ s }, cb, arg);
}

int
acctstore_mfa_failed(struct store *st, const char *user, store_cb cb,
    void *arg)
{
	char	key[STORE_KEYLEN], win[16];

	if (acct_mfa_key(st, user, ACCT_KEY_MFA_FAIL, key, sizeof(key)) == -1)
		return -1;
	(void)snprintf(win, sizeof(win), "%d", ACCTSTORE_FAIL_WINDOW);
	return store_eval(st, &acct_lua_failed, cb, arg, 1, 2,
	    (const char *[]){ key, win }, NULL);
}

int
acctstore_backup_use(struct store *st, const char *user, const char *hash,
    store_cb cb, void *arg)
{
	char	key[STORE_KEYLEN];

	if (acct_mfa_key(st, user, ACCT_KEY_BACKUP, key, sizeof(key)) == -1)
		return -1;
	return store_command_argv(st, cb, arg, 3,
	    (const char *[]){ "SREM", key, hash }, NULL);
}

int
acctstore_enroll_start(struct store *st, const char *user,
    const char *sealed, store_cb cb, void *arg)
{
	return acct_user_eval(st, &acct_lua_enroll_start, user, 1,
	    (const char *[]){ sealed }, cb, arg);
}

int
acctstore_enroll_finish(struct store *st, const char *user,
    const char *sealed, int64_t step,
    char hashes[ACCTSTORE_BACKUP_CODES][65], store_cb cb, void *arg)
{
	const char	*args[2 + ACCTSTORE_BACKUP_CODES];
	char		 s[24];
	int		 i;

	(void)snprintf(s, sizeof(s), "%" PRId64, step);
	args[0] = sealed;
	args[1] = s;
	for (i = 0; i < ACCTSTORE_BACKUP_CODES; i++)
		args[2 + i] = hashes[i];
	return acct_user_eval(st, &acct_lua_enroll_finish, user,
	    2 + ACCTSTORE_BACKUP_CODES, args, cb, arg);
}

int
acctstore_backup_replace(struct store *st, const char *user,
    char hashes[ACCTSTORE_BACKUP_CODES][65], store_cb cb, void *arg)
{
	const char	*args[ACCTSTORE_BACKUP_CODES];
	int		 i;

	for (i = 0; i < ACCTSTORE_BACKUP_CODES; i++)
		args[i] = hashes[i];
	return acct_user_eval(st, &acct_lua_backup_replace, user,
	    ACCTSTORE_BACKUP_CODES, args, cb, arg);
}

int
acctstore_mfa_disable(struct store *st, const char *user, store_cb cb,
    void *arg)
{
	return acct_user_eval(st, &acct_lua_disable, user, 0, NULL, cb, arg);
}

int
acctstore_backup_known(struct store *st, const char *user,
    char hashes[][65], int n, store_cb cb, void *arg)
{
	const char	*args[ACCTSTORE_BACKUP_CODES];
	int		 i;

	if (n < 1 || n > ACCTSTORE_BACKUP_CODES)
		return -1;
	for (i = 0; i < n; i++)
		args[i] = hashes[i];
	return acct_user_eval(st, &acct_lua_backup_known, user, n, args, cb,
	    arg);
}

int
acctstore_sessions(struct store *st, const char *user, store_cb cb,
    void *arg)
{
	char	key[STORE_KEYLEN];

	if (acct_user_key(st, user, USER_KEY_USER_SESSIONS, key, sizeof(key)) ==
	    -1)
		return -1;
	return store_eval(st, &acctstore_lua_sessions, cb, arg, 1, 2,
	    (const char *[]){ key, store_prefix(st) }, NULL);
}

int
acctstore_session_revoke(struct store *st, const char *user,
    const char *hash, store_cb cb, void *arg)
{
	char	key[STORE_KEYLEN], ks[STORE_KEYLEN];

	if (acct_user_key(st, user, USER_KEY_USER_SESSIONS, key, sizeof(key)) ==
	    -1 || user_key(ks, sizeof(ks), store_prefix(st), USER_KEY_SESSION,
	    hash) == -1)
		return -1;
	return store_eval(st, &acct_lua_revoke, cb, arg, 2, 3,
	    (const char *[]){ key, ks, hash }, NULL);
}

int
acctstore_user(struct store *st, const char *user, store_cb cb, void *arg)
{
	return acct_user_eval(st, &acct_lua_user, user, 0, NULL, cb, arg);
}

int
acctstore_set_password(struct store *st, const char *user, const char *old,
    const char *phc, const char *keep, int64_t now, store_cb cb, void *arg)
{
	char	ku[STORE_KEYLEN], ks[STORE_KEYLEN], snow[24];

	if (acct_user_key(st, user, USER_KEY_USER, ku, sizeof(ku)) == -1 ||
	    acct_user_key(st, user, USER_KEY_USER_SESSIONS, ks, sizeof(ks)) ==
	    -1)
		return -1;
	(void)snprintf(snow, sizeof(snow), "%" PRId64, now);
	return store_eval(st, &acct_lua_password, cb, arg, 2, 8,
	    (const char *[]){ ku, ks, store_prefix(st), old, phc, keep, snow,
	    user }, NULL);
}

int
acctstore_user_brief(struct store *st, const char *user, store_cb cb,
    void *arg)
{
	char	ku[STORE_KEYLEN], ko[STORE_KEYLEN];

	if (acct_user_key(st, user, USER_KEY_USER, ku, sizeof(ku)) == -1 ||
	    acct_user_key(st, user, USER_KEY_USER_ORGS, ko, sizeof(ko)) == -1)
		return -1;
	return store_eval(st, &acct_lua_brief, cb, arg, 2, 2,
	    (const char *[]){ ku, ko }, NULL);
}

static int
acct_otk_key(struct store *st, const char *kind, const char *hash,
    char *key, size_t size)
{
	return store_layout_key(key, size, store_prefix(st), ACCTSTORE_KEY_OTK,
	    kind, hash) == -1 ? -1 : 0;
}

int
acctstore_otk_put(struct store *st, const char *kind, const char *hash,
    const char *user, const char *value, uint64_t ttl_s, store_cb cb,
    void *arg)
{
	char	key[STORE_KEYLEN], cur[STORE_KEYLEN];
	char	ttl[24];

	if (acct_otk_key(st, kind, hash, key, sizeof(key)) == -1 ||
	    strlen(user) != USER_IDLEN || store_layout_key(cur,
	    sizeof(cur), store_prefix(st), ACCTSTORE_KEY_OTK_USER, kind,
	    user) == -1)
		return -1;
	(void)snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_s);
	return store_eval(st, &acctstore_lua_otk_put, cb, arg, 2, 7,
	    (const char *[]){ key, cur, store_prefix(st), value, ttl, kind,
	    hash }, NULL);
}

int
acctstore_otk_take(struct store *st, const char *kind, const char *hash,
    int consume, store_cb cb, void *arg)
{
	char	key[STORE_KEYLEN];

	if (acct_otk_key(st, kind, hash, key, sizeof(key)) == -1)
		return -1;
	return store_command_argv(st, cb, arg, 2,
	    (const char *[]){ consume ? "GETDEL" : "GET", key }, NULL);
}

int
acctstore_user_by_email(struct store *st, const char *email, store_cb cb,
    void *arg)
{
	char	key[STORE_KEYLEN];

	if (user_key(key, sizeof(key), store_prefix(st), USER_KEY_EMAIL,
	    email) == -1)
		return -1;
	return store_command_argv(st, cb, arg, 2,
	    (const char *[]){ "GET", key }, NULL);
}

int
acctstore_org_exists(struct store *st, const char *slug, store_cb cb,
    void *arg)
{
	char	key[STORE_KEYLEN];

	if (user_key(key, sizeof(key), store_prefix(st), USER_KEY_ORGS,
	    NULL) == -1)
		return -1;
	return store_command_argv(st, cb, arg, 3,
	    (const char *[]){ "SISMEMBER", key, slug }, NULL);
}

/*
 * Single sign-on, the account's half (sso.h): a verified id_token names a
 * user by (provider, sub); the first sign-in links it to the user with the
 * same verified email (link_by_email) or creates one (provision), each in
 * one Redis script so that no half-made account is ever seen.  The claim
 * maps set org memberships and roles at every sign-in; then a session is
 * created (method "sso:<provider>") exactly as for a password.  A valid
 * logout token from the provider ends the sessions it names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "encode.h"
#include "exchange.h"
#include "log.h"
#include "pages.h"
#include "sso.h"
#include "newdevice.h"
#include "sso-int.h"
#include "store.h"
#include "user.h"

#define SSO_KEY_SID	STORE_LAYOUT("ssosid:<provider>:<sha256hex>")
#define SSO_KEY_JTI	STORE_LAYOUT("ssojti:<provider>:<sha256hex>")
#define SSO_MAPS_MAX	16	/* org grants one sign-in applies */
#define SSO_JTI_TTL	"720000"	/* ms a logout token's jti is kept */

/*
 * KEYS: the (provider, sub) link, the email index, the users set.
 * ARGV: prefix, provider, sub, email, email verified, link_by_email,
 * provision, a new id, name, now.
 * {how, id, has totp} with how "known", "linked" or "provisioned"; or
 * {error}: "unverified", "taken" (the email is another user's and linking
 * is off), "unknown" (no account, no provisioning), "disabled".
 */
static struct store_script sso_lua_link = STORE_LAYOUT_SCRIPT("sso link",
	"local id = redis.call('GET', KEYS[1])\n"
	"local how = 'known'\n"
	"if not id then\n"
	"  if ARGV[5] ~= '1' or ARGV[4] == '' then return {'unverified'} end\n"
	"  id = redis.call('GET', KEYS[2])\n"
	"  if id then\n"
	"    if ARGV[6] ~= '1' then return {'taken'} end\n"
	"    how = 'linked'\n"
	"  else\n"
	"    if ARGV[7] ~= '1' then return {'unknown'} end\n"
	"    id = ARGV[8]\n"
	"    if redis.call('EXISTS', key('" USER_LAYOUT_USER "', id)) == 1 or\n"
	"      redis.call('SISMEMBER', key('" USER_LAYOUT_DELETED "'), id) ==\n"
	"      1 then return {'unknown'} end\n"
	"    redis.call('SET', KEYS[2], id)\n"
	"    redis.call('HSET', key('" USER_LAYOUT_USER "', id), 'email',\n"
	"      ARGV[4],\n"
	"      'name', ARGV[9], 'password', '', 'disabled', '0',\n"
	"      'created', ARGV[10], 'password_changed', ARGV[10])\n"
	"    redis.call('SADD', KEYS[3], id)\n"
	"    how = 'provisioned'\n"
	"  end\n"
	"  redis.call('SET', KEYS[1], id)\n"
	"  redis.call('HSET', key('" SSO_KEY_LINKS "', id), ARGV[2],\n"
	"    ARGV[3])\n"
	"end\n"
	"local u = redis.call('HMGET', key('" USER_LAYOUT_USER "', id),\n"
	"  'disabled', 'totp', 'email')\n"
	"if not u[3] then return {'unknown'} end\n"
	"if u[1] == '1' then return {'disabled'} end\n"
	"return {how, id, (u[2] and u[2] ~= '') and '1' or '0', u[3]}\n");

/*
 * KEYS: the user's orgs.  ARGV: prefix, user id, then per org: slug, role
 * ("" : not granted now, remove a membership).  Orgs that do not exist
 * are skipped.  The changes: {slug, old role or "", new role or ""}...
 */
static struct store_script sso_lua_orgs = STORE_LAYOUT_SCRIPT("sso orgs",
	"local out = {}\n"
	"for i = 3, #ARGV, 2 do\n"
	"  local slug, role = ARGV[i], ARGV[i + 1]\n"
	"  local okey = key('" USER_LAYOUT_ORG "', slug)\n"
	"  local mkey = key('" USER_LAYOUT_ORG_MEMBERS "', slug)\n"
	"  local old = redis.call('HGET', KEYS[1], slug) or ''\n"
	"  if old ~= role and redis.call('EXISTS', okey) == 1 then\n"
	"    if role == '' then\n"
	"      redis.call('HDEL', KEYS[1], slug)\n"
	"      redis.call('HDEL', mkey, ARGV[2])\n"
	"    else\n"
	"      redis.call('HSET', KEYS[1], slug, role)\n"
	"      redis.call('HSET', mkey, ARGV[2], role)\n"
	"    end\n"
	"    out[#out + 1] = slug\n"
	"    out[#out + 1] = old\n"
	"    out[#out + 1] = role\n"
	"  end\n"
	"end\n"
	"return out\n");

/*
 * KEYS: the logout token's jti, the (provider, sub) link, the sid index.
 * ARGV: prefix, SHA-256 of the sid or "", the session method, has a sub.
 * -1 for a jti seen before; else the number of sessions ended: those of
 * the provider's method with that sid (or all of them without a sid).
 */
static struct store_script sso_lua_logout = STORE_LAYOUT_SCRIPT(
	"sso logout",
	"if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', '"
	SSO_JTI_TTL "') then\n"
	"  return -1 end\n"
	"local id = nil\n"
	"if ARGV[4] == '1' then id = redis.call('GET', KEYS[2]) end\n"
	"if not id and ARGV[2] ~= '' then id = redis.call('GET', KEYS[3]) end\n"
	"if not id then return 0 end\n"
	"local idx = key('" USER_LAYOUT_USER_SESSIONS "', id)\n"
	"local n = 0\n"
	"for _, h in ipairs(redis.call('SMEMBERS', idx)) do\n"
	"  local k = key('" USER_LAYOUT_SESSION "', h)\n"
	"  local s = redis.call('HMGET', k, 'method', 'sso_sid')\n"
	"  if s[1] == ARGV[3] and (ARGV[2] == '' or s[2] == ARGV[2]) then\n"
	"    redis.call('DEL', k)\n"
	"    redis.call('SREM', idx, h)\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n");

/* The key of <layout> for the provider of <f> and the SHA-256 of <v>:
 * its length, or -1. */
static int
sso_key(struct sso_flow *f, const char *layout, const char *v, char *key,
    size_t size)
{
	char	h[65];

	sso_sha256_hex(v, strlen(v), h);
	return store_layout_key(key, size, store_prefix(f->step.st), layout,
	    f->p->name, h);
}

/* ---- the session ---- */

/* The answer of a write nothing waits for (a failure is the store's to
 * log). */
static void
sso_on_ignored(void *arg, const redisReply *reply, const char *err)
{
	(void)arg;
	(void)reply;
	(void)err;
}

/* The provider's amr as the session keeps it. */
static const char *
sso_amr_text(unsigned amr)
{
	if ((amr & SSO_AMR_MFA) && (amr & SSO_AMR_PWD))
		return "pwd mfa";
	if (amr & SSO_AMR_MFA)
		return "mfa";
	return (amr & SSO_AMR_PWD) ? "pwd" : "";
}

static void
sso_on_created(void *arg, enum session_status status)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = sso_detach(f);
	struct pages_resp r = { .status = 303 };
	char		 extra[1000], enc[3 * REDIRECT_MAX + 1];
	char		 loc[3 * REDIRECT_MAX + 32], hash[SESSION_HASH_LEN + 1];
	char		 key[STORE_KEYLEN], sh[65];

	if (ex == NULL)
		goto out;
	if (status != SESSION_OK) {
		if (status == SESSION_NONE)
			sso_page(ex, 403, f->rd, "sso.no_account.title",
			    "sso.disabled.text", "sso_user_disabled");
		else
			auth_unavailable(ex);
		goto out;
	}
	/* what the provider said (amr, acr) and its session id (for
	 * back-channel logout), beside the session's own fields */
	session_hash(f->sid, hash);
	if (f->claims.sid[0] != '\0')
		sso_sha256_hex(f->claims.sid, strlen(f->claims.sid), sh);
	else
		sh[0] = '\0';
	if (user_key(key, sizeof(key), store_prefix(f->step.st),
	    USER_KEY_SESSION, hash) != -1)
		(void)store_command(f->step.st, sso_on_ignored, NULL,
		    "HSET %s sso_sid %s sso_amr %s sso_acr %s", key, sh,
		    sso_amr_text(f->claims.amr), f->claims.acr);
	if (f->claims.sid[0] != '\0' && sso_key(f, SSO_KEY_SID,
	    f->claims.sid, key, sizeof(key)) != -1)
		(void)store_command(f->step.st, sso_on_ignored, NULL,
		    "SET %s %s PX %llu", key, f->user,
		    (unsigned long long)ex->cfg->session_lifetime);
	auth_session_cookie(ex->cfg, f->sid, extra, sizeof(extra));
	(void)snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
	    "Set-Cookie: " SSO_COOKIE "=; Path=/; Max-Age=0; Secure; "
	    "HttpOnly; SameSite=Lax\r\n%s", f->dev.cookie);
	r.extra = extra;
	r.location = f->rd;
	if (f->totp && !f->mfa) {	/* the second factor comes next */
		(void)encode_pct(f->rd, "/", enc, sizeof(enc));
		(void)snprintf(loc, sizeof(loc), "/.postern/2fa?rd=%s", enc);
		r.location = loc;
	}
	auth_audit(ex, "sso_login", f->user, f->email, 1, f->how);
	newdevice_notify(ex, f->user, f->email, &f->dev);
	client_answer(ex, &r, NULL);
	OPENSSL_cleanse(extra, sizeof(extra));
out:
	(void)auth_step_done(&f->step);
}

static void
sso_session(struct sso_flow *f)
{
	struct exchange		*ex = f->step.ex;
	struct session_limits	 lim;
	char			 scope[AUTH_SCOPE_MAX], method[48];

	auth_limits(ex->cfg, &lim);
	auth_scope(ex, scope, sizeof(scope));
	auth_drop_current(ex, f->step.st);
	(void)snprintf(method, sizeof(method), "sso:%s", f->p->name);
	device_origin(ex, f->email, &f->dev);
	if (session_new_id(f->sid, sizeof(f->sid)) == -1 ||
	    session_create(f->step.st, f->sid, f->user, method, f->mfa,
	    scope, (int64_t)time(NULL), &lim, &f->dev.origin, sso_on_created,
	    f) == -1)
		auth_step_unavailable(&f->step);
}

/* ---- org roles from claims ---- */

struct sso_grant {
	const char	*org;
	const char	*role;
};

/* The rank of <role> in the ladder (0 highest), or the ladder's size. */
static size_t
sso_rank(const struct config *cfg, const char *role)
{
	size_t	i;

	for (i = 0; i < cfg->nroles; i++)
		if (strcmp(cfg->roles[i], role) == 0)
			break;
	return i;
}

/* Grant <org> <role> in <g> (the higher role wins). */
static void
sso_grant(const struct config *cfg, struct sso_grant *g, size_t *n,
    const char *org, const char *role)
{
	size_t	i;

	if (org == NULL || user_slug_valid(org) != 0)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(g[i].org, org) == 0) {
			if (role[0] != '\0' && (g[i].role[0] == '\0' ||
			    sso_rank(cfg, role) < sso_rank(cfg, g[i].role)))
				g[i].role = role;
			return;
		}
	if (*n < SSO_MAPS_MAX) {
		g[*n].org = org;
		g[(*n)++].role = role;
	}
}

/* What claim map <m> grants given the claims <raw>. */
static void
sso_map(const struct config *cfg, const struct config_sso_map *m,
    json_t *raw, struct sso_grant *g, size_t *n)
{
	json_t		*v = json_object_get(raw, m->claim), *it;
	const char	*s;
	size_t		 i, k = json_is_array(v) ? json_array_size(v) : 1;

	for (i = 0; i < k && i < 256; i++) {
		it = json_is_array(v) ? json_array_get(v, i) : v;
		if ((s = json_string_value(it)) == NULL)
			continue;
		if (m->value != NULL && strcmp(s, m->value) != 0)
			continue;
		sso_grant(cfg, g, n, m->org != NULL ? m->org : s, m->role);
	}
}

static void
sso_on_orgs(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = auth_step_reply(&f->step, reply, err);
	char		 what[200];
	size_t		 i;

	if (ex == NULL)
		return;
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i + 2 <
	    reply->elements; i += 3) {
		(void)snprintf(what, sizeof(what), "org %s: role '%s' -> '%s' "
		    "(claims of %s)", reply->element[i]->str,
		    reply->element[i + 1]->str, reply->element[i + 2]->str,
		    f->p->name);
		auth_audit(ex, "sso_role", f->user, f->email, 1, what);
	}
	sso_session(f);
}

/* Apply the provider's claim maps to the user's memberships. */
static void
sso_orgs(struct sso_flow *f)
{
	const struct config_sso_provider *p = f->p;
	struct sso_grant g[SSO_MAPS_MAX];
	const char	*argv[3 + 2 * SSO_MAPS_MAX];
	char		 key[STORE_KEYLEN];
	size_t		 i, n = 0;

	if (p->nmaps == 0) {
		sso_session(f);
		return;
	}
	for (i = 0; i < p->nmaps; i++)	/* managed orgs: "" unless granted */
		sso_grant(f->step.cfg, g, &n, p->maps[i].org, "");
	for (i = 0; i < p->nmaps; i++)
		sso_map(f->step.cfg, &p->maps[i], f->claims.raw, g, &n);
	if (user_key(key, sizeof(key), store_prefix(f->step.st),
	    USER_KEY_USER_ORGS, f->user) == -1) {
		auth_step_unavailable(&f->step);
		return;
	}
	argv[0] = key;
	argv[1] = store_prefix(f->step.st);
	argv[2] = f->user;
	for (i = 0; i < n; i++) {
		argv[3 + 2 * i] = g[i].org;
		argv[4 + 2 * i] = g[i].role;
	}
	if (store_eval(f->step.st, &sso_lua_orgs, sso_on_orgs, f, 1,
	    (int)(3 + 2 * n), argv, NULL) == -1)
		auth_step_unavailable(&f->step);
}

/* ---- orgs that sign in with another provider (sso.orgs required) ---- */

/* Refuse <f>: the user's org signs in with provider <p> only. */
static void
sso_fail_required(struct sso_flow *f, const struct config_sso_provider *p)
{
	sso_fail_as(f, 403, "sso.required.title", "sso.required.text",
	    p->display_name, "sso_required");
}

/* A provider other than f->p that <email>'s domain must use, or NULL. */
static const struct config_sso_provider *
sso_required_by_domain(struct sso_flow *f, const char *email)
{
	const struct config_sso_provider *p;
	int	required;

	p = sso_realm(f->step.cfg, email, &required);
	return required && p != NULL && strcmp(p->name, f->p->name) != 0 ?
	    p : NULL;
}

static void
sso_on_member_orgs(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	const struct config_sso_provider *p;
	size_t		 i;

	if (auth_step_reply(&f->step, reply, err) == NULL)
		return;
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	    i++) {
		if (reply->element[i]->type != REDIS_REPLY_STRING)
			continue;
		p = sso_org_required(f->step.cfg, reply->element[i]->str);
		if (p != NULL && strcmp(p->name, f->p->name) != 0) {
			sso_fail_required(f, p);
			return;
		}
	}
	sso_orgs(f);
}

/* The user's orgs that require a provider: f->p, or the sign-in ends. */
static void
sso_required_orgs(struct sso_flow *f)
{
	const struct config_sso_provider *p;
	char	key[STORE_KEYLEN];

	if ((p = sso_required_by_domain(f, f->email)) != NULL) {
		sso_fail_required(f, p);
		return;
	}
	if (!sso_any_required(f->step.cfg)) {
		sso_orgs(f);
		return;
	}
	if (user_key(key, sizeof(key), store_prefix(f->step.st),
	    USER_KEY_USER_ORGS, f->user) == -1 || store_command(f->step.st,
	    sso_on_member_orgs, f, "HKEYS %s", key) == -1)
		auth_step_unavailable(&f->step);
}

/* ---- the account ---- */

/* What "sso link" refusing says; the last entry for any other answer. */
static const struct {
	const char	*answer;
	const char	*text;
	const char	*reason;
} sso_refusals[] = {
	{ "unverified", "sso.email_unverified.text", "sso_email_unverified" },
	{ "taken", "sso.taken.text", "sso_email_taken" },
	{ "disabled", "sso.disabled.text", "sso_user_disabled" },
	{ "", "sso.no_account.text", "sso_no_account" },
};
#define NREFUSALS	(sizeof(sso_refusals) / sizeof(sso_refusals[0]))

static void
sso_on_link(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = auth_step_reply(&f->step, reply, err);
	const char	*how;
	size_t		 i;

	if (ex == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		auth_step_unavailable(&f->step);
		return;
	}
	how = reply->element[0]->str;
	if (reply->elements != 4 || reply->element[1]->len != USER_IDLEN ||
	    reply->element[3]->len >= sizeof(f->email)) {
		for (i = 0; i < NREFUSALS - 1; i++)
			if (strcmp(how, sso_refusals[i].answer) == 0)
				break;
		sso_fail(f, 403, "sso.no_account.title", sso_refusals[i].text,
		    sso_refusals[i].reason);
		return;
	}
	f->how = strcmp(how, "linked") == 0 ? "linked" :
	    strcmp(how, "provisioned") == 0 ? "provisioned" : "known";
	memcpy(f->user, reply->element[1]->str, USER_IDLEN);
	f->user[USER_IDLEN] = '\0';
	f->totp = strcmp(reply->element[2]->str, "1") == 0;
	memcpy(f->email, reply->element[3]->str, reply->element[3]->len);
	f->email[reply->element[3]->len] = '\0';
	if (f->how[0] != 'k')
		auth_audit(ex, f->how[0] == 'l' ? "sso_link" : "sso_provision",
		    f->user, f->email, 1, f->p->name);
	sso_required_orgs(f);
}

void
sso_link(struct sso_flow *f)
{
	const struct config_sso_provider *p;
	char		 kid[STORE_KEYLEN], kem[STORE_KEYLEN], kus[STORE_KEYLEN];
	char		 email[USER_EMAILMAX + 1], why[128], id[USER_IDLEN + 1];
	char		 now[24];
	const char	*argv[13], *name;

	if (user_email_normalize(f->claims.email, email, why,
	    sizeof(why)) == -1)
		email[0] = '\0';
	if ((p = sso_required_by_domain(f, email)) != NULL) {
		sso_fail_required(f, p);	/* before any link is made */
		return;
	}
	name = f->claims.name[0] != '\0' && user_name_valid(f->claims.name) ==
	    0 ? f->claims.name : "";
	(void)snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if (sso_key(f, SSO_KEY_ID, f->claims.sub, kid, sizeof(kid)) == -1 ||
	    user_key(kem, sizeof(kem), store_prefix(f->step.st),
	    USER_KEY_EMAIL, email[0] != '\0' ? email : "-") == -1 ||
	    user_key(kus, sizeof(kus), store_prefix(f->step.st),
	    USER_KEY_USERS, NULL) == -1 || user_new_id(id) == -1) {
		auth_step_unavailable(&f->step);
		return;
	}
	argv[0] = kid; argv[1] = kem; argv[2] = kus;
	argv[3] = store_prefix(f->step.st);
	argv[4] = f->p->name;
	argv[5] = f->claims.sub;
	argv[6] = email;
	argv[7] = f->claims.email_verified && email[0] != '\0' ? "1" : "0";
	argv[8] = f->p->link_by_email ? "1" : "0";
	argv[9] = f->p->provision ? "1" : "0";
	argv[10] = id;
	argv[11] = name;
	argv[12] = now;
	if (store_eval(f->step.st, &sso_lua_link, sso_on_link, f, 3, 13, argv,
	    NULL) == -1)
		auth_step_unavailable(&f->step);
}

/* ---- back-channel logout ---- */

static void
sso_on_logout(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = auth_step_reply(&f->step, reply, err);
	char		 n[24];

	if (ex == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER) {
		auth_step_unavailable(&f->step);
		return;
	}
	if (reply->integer < 0) {
		sso_bcl_answer(f, 400, "sso_logout_token_replay");
		return;
	}
	(void)snprintf(n, sizeof(n), "%lld", (long long)reply->integer);
	log_event(LOG_LEVEL_INFO, "sso", "reason", "sso_backchannel_logout",
	    "provider", f->p->name, "sessions", n, "request_id",
	    ex->request_id, NULL);
	sso_bcl_answer(f, 200, NULL);
}

void
sso_logout_sessions(struct sso_flow *f)
{
	char		 kj[STORE_KEYLEN], ks[STORE_KEYLEN], kd[STORE_KEYLEN];
	char		 sh[65] = "", method[48];
	const char	*argv[7];

	(void)snprintf(method, sizeof(method), "sso:%s", f->p->name);
	if (f->claims.sid[0] != '\0')
		sso_sha256_hex(f->claims.sid, strlen(f->claims.sid), sh);
	if (sso_key(f, SSO_KEY_JTI, f->claims.jti, kj, sizeof(kj)) == -1 ||
	    sso_key(f, SSO_KEY_ID, f->claims.sub, ks, sizeof(ks)) == -1 ||
	    sso_key(f, SSO_KEY_SID, f->claims.sid, kd, sizeof(kd)) == -1) {
		auth_step_unavailable(&f->step);
		return;
	}
	argv[0] = kj; argv[1] = ks; argv[2] = kd;
	argv[3] = store_prefix(f->step.st);
	argv[4] = sh;
	argv[5] = method;
	argv[6] = f->claims.sub[0] != '\0' ? "1" : "0";
	if (store_eval(f->step.st, &sso_lua_logout, sso_on_logout, f, 3, 7,
	    argv, NULL) == -1)
		auth_step_unavailable(&f->step);
}

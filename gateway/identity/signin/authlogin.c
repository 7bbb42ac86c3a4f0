/*
 * The sign-in and sign-out endpoints (see auth.h): the sign-in page and
 * form, the password check on the hash pool, the new session, sign-out;
 * and the page frame (CSRF token and cookie, nonce, branding) every
 * gateway page uses.  Part of auth.c, split along the seam between
 * deciding requests (auth.c) and signing people in (here).
 *
 * Sign-in, step by step: the form (CSRF token bound to a pre-session
 * cookie) -> POST checks Origin and the token -> rate limit "login" (by
 * address and by account) -> Redis: the user's id, hash, disabled flag,
 * second factor -> hash pool: verify (a dummy hash when the user is
 * unknown or disabled, so every failure costs the same) -> Redis: create
 * the session with a fresh id (no fixation) -> 303 to the checked rd, or
 * to /.postern/2fa first when the user has a second factor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "account.h"
#include "auth.h"
#include "auth-int.h"
#include "catalog.h"
#include "client.h"
#include "config.h"
#include "cookie.h"
#include "csrf.h"
#include "device.h"
#include "newdevice.h"
#include "encode.h"
#include "form.h"
#include "hashpool.h"
#include "log.h"
#include "loginpage.h"
#include "mail.h"
#include "pages.h"
#include "password.h"
#include "redirect.h"
#include "request.h"
#include "secret.h"
#include "worker.h"
#include "session.h"
#include "sso.h"
#include "store.h"
#include "user.h"

/* Verified against when the user is unknown or disabled: same cost. */
static const char auth_dummy_phc[] = "$argon2id$v=19$m=19456,t=2,p=1$"
    "cG9zdGVybi1kdW1teS1zYWx0$"
    "ZHVtbXktaGFzaC1mb3ItdGltaW5nLWVxdWFsaXR5LTMy";

/* ---- the sign-in pages ---- */

/* The pre-session id from the CSRF cookie, or a new one (then *<set>). */
static void
auth_csrf_id(struct exchange *ex, char *id, size_t idlen, int *set)
{
	const char	*hdr = request_cookies(ex->req);

	*set = 0;
	if (cookie_get(hdr, CSRF_COOKIE, id, idlen) == COOKIE_FOUND &&
	    strlen(id) == CSRF_ID_LEN)
		return;
	if (csrf_new_id(id, idlen) == -1)
		id[0] = '\0';
	*set = 1;
}

/*
 * Render a gateway page: <render> fills the body given the page fields
 * (nonce, CSRF token and branding set here).  Status <status>; <reason>
 * for the log when the page answers a failure.
 */
void
auth_page_ctx(struct exchange *ex, int status, struct loginpage *lp,
    auth_render_fn render, void *ctx, const char *extra_in,
    const char *reason)
{
	const struct config *cfg = ex->cfg;
	struct pages_resp r = { .status = status };
	char		 id[CSRF_ID_LEN + 2], tok[CSRF_TOKEN_LEN + 1];
	char		 nonce[32], extra[1024];
	int		 set;

	auth_csrf_id(ex, id, sizeof(id), &set);
	if (id[0] == '\0' || csrf_token(cfg->keys->csrf, id, tok,
	    sizeof(tok)) == -1 || pages_nonce(nonce, sizeof(nonce)) == -1 ||
	    (r.body = evbuffer_new()) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 500 },
		    "page_render");
		return;
	}
	(void)snprintf(extra, sizeof(extra), "%s", extra_in != NULL ?
	    extra_in : "");
	if (set)
		(void)snprintf(extra + strlen(extra), sizeof(extra) -
		    strlen(extra), "Set-Cookie: %s=%s; Path=/; Secure; "
		    "HttpOnly; SameSite=Strict\r\n", CSRF_COOKIE, id);
	lp->frame.product = cfg->brand_product;
	lp->frame.logo_url = cfg->brand_logo_url;
	lp->frame.color = cfg->brand_color;
	lp->frame.nonce = nonce;
	lp->frame.cat = cfg->page_catalog;
	lp->frame.tmpl = cfg->page_templates;
	lp->frame.lang = catalog_pick(cfg->page_catalog,
	    request_header(ex->req, "accept-language"), cfg->page_lang);
	r.lang = catalog_tag(cfg->page_catalog, lp->frame.lang);
	lp->csrf = tok;
	if (render(r.body, lp, ctx) != 0) {
		evbuffer_free(r.body);
		client_answer(ex, &(struct pages_resp){ .status = 500 },
		    "page_render");
		return;
	}
	r.body_type = "text/html; charset=utf-8";
	r.nonce = nonce;
	r.extra = extra;
	client_answer(ex, &r, reason);
	evbuffer_free(r.body);
	OPENSSL_cleanse(id, sizeof(id));
}

/* A plain page renderer, carried through auth_page_ctx(). */
struct auth_plain {
	int	(*render)(struct evbuffer *, const struct loginpage *);
};

static int
auth_render_plain(struct evbuffer *out, const struct loginpage *lp,
    void *ctx)
{
	return ((struct auth_plain *)ctx)->render(out, lp);
}

static void
auth_page(struct exchange *ex, int status, struct loginpage *lp,
    int (*render)(struct evbuffer *, const struct loginpage *),
    const char *extra_in, const char *reason)
{
	struct auth_plain	p = { render };

	auth_page_ctx(ex, status, lp, auth_render_plain, &p, extra_in,
	    reason);
}

static void
auth_login_notice(struct exchange *ex, int status, const char *rd,
    const char *email, const char *error, const char *notice,
    const char *reason)
{
	const struct config *cfg = ex->cfg;
	struct loginpage lp = { .rd = rd, .email = email, .error = error,
	    .notice = notice };

	lp.reset_link = mail_configured(cfg);
	lp.magic_link = lp.reset_link && (cfg->magic_links ||
	    cfg->magic_orgs.n > 0);
	lp.sso = cfg->sso;
	auth_page(ex, status, &lp, loginpage_login, NULL, reason);
}

static void
auth_login_page(struct exchange *ex, int status, const char *rd,
    const char *email, const char *error, const char *reason)
{
	auth_login_notice(ex, status, rd, email, error, NULL, reason);
}

void
auth_login_locked(struct exchange *ex, const char *rd, const char *email,
    uint64_t retry_ms)
{
	const struct config *cfg = ex->cfg;
	struct loginpage lp = { .rd = rd, .email = email };
	char		 extra[64];
	uint64_t	 secs = (retry_ms + 999) / 1000;

	lp.reset_link = mail_configured(cfg);
	lp.magic_link = lp.reset_link && (cfg->magic_links ||
	    cfg->magic_orgs.n > 0);
	(void)snprintf(extra, sizeof(extra), "Retry-After: %" PRIu64 "\r\n",
	    secs);
	lp.error = lp.reset_link ? lp.magic_link ? "login.paused_links" :
	    "login.paused_reset" : "login.paused";
	lp.wait = (unsigned long)secs;
	auth_page(ex, 429, &lp, loginpage_login, extra, "rate_limit");
}

void
auth_signed_in_page(struct exchange *ex, const struct session *s)
{
	struct loginpage lp = { .rd = "/" };

	if (s == NULL) {	/* the cookie named no session */
		char	extra[512];

		auth_session_cookie(ex->cfg, NULL, extra, sizeof(extra));
		auth_page(ex, 200, &lp, loginpage_login, extra, NULL);
		return;
	}
	lp.email = s->email;
	auth_page(ex, 200, &lp, loginpage_signed_in, NULL, NULL);
}

void
auth_rd(struct exchange *ex, const char *value, char *out, size_t outlen)
{
	if (redirect_check(ex->cfg, value, out, outlen) == -1 &&
	    value != NULL && strcmp(value, "/") != 0)
		log_event(LOG_LEVEL_WARN, "reject", "reason", "open_redirect",
		    "request_id", ex->request_id, "client_ip", ex->peer,
		    NULL);
}

/* A pending auth_rd_verify(): owned by its store callback. */
struct auth_rd_wait {
	struct auth_step	*step;
	char			*rd;
};

static void
auth_rd_refuse(struct exchange *ex, char *rd, const char *why)
{
	log_event(LOG_LEVEL_WARN, "reject", "reason", "open_redirect",
	    "detail", why, "request_id", ex->request_id, "client_ip",
	    ex->peer, NULL);
	(void)strcpy(rd, "/");
}

static void
auth_on_rd_org(void *arg, const redisReply *reply, const char *err)
{
	struct auth_rd_wait	*w = arg;
	struct auth_step	*chk = w->step;
	char			*rd = w->rd;

	free(w);
	if (chk->ex == NULL) {		/* closed meanwhile */
		(void)auth_step_done(chk);
		return;
	}
	if (err != NULL || reply == NULL)
		auth_rd_refuse(chk->ex, rd, "rd_org_unavailable");
	else if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1)
		auth_rd_refuse(chk->ex, rd, "rd_unknown_org");
	auth_step_resume(chk);
}

void
auth_rd_verify(struct auth_step *chk, char *rd, auth_step_fn next)
{
	struct auth_rd_wait	*w = NULL;
	char			 org[64], key[STORE_KEYLEN];

	chk->next = next;
	if (!redirect_tenant(chk->ex->cfg, rd, org, sizeof(org))) {
		auth_step_resume(chk);
		return;
	}
	if (org[0] == '\0' || user_key(key, sizeof(key),
	    store_prefix(chk->st), USER_KEY_ORG, org) == -1) {
		auth_rd_refuse(chk->ex, rd, "rd_unknown_org");
	} else if (!store_healthy(chk->st) ||
	    (w = malloc(sizeof(*w))) == NULL) {
		auth_rd_refuse(chk->ex, rd, "rd_org_unavailable");
	} else {
		w->step = chk;
		w->rd = rd;
		if (store_command(chk->st, auth_on_rd_org, w, "EXISTS %s",
		    key) == 0)
			return;		/* auth_on_rd_org() goes on */
		free(w);
		auth_rd_refuse(chk->ex, rd, "rd_org_unavailable");
	}
	auth_step_resume(chk);
}

void
auth_login_get(struct exchange *ex)
{
	struct form	 f;
	const char	*why, *q = ex->req->query, *v;
	char		 rd[REDIRECT_MAX + 1], id[SESSION_ID_LEN + 2];
	int		 parsed, out;

	parsed = q != NULL && form_parse(q, strlen(q), &f, &why) == 0;
	auth_rd(ex, parsed ? form_get(&f, "rd") : NULL, rd, sizeof(rd));
	out = parsed && (v = form_get(&f, "signed_out")) != NULL &&
	    strcmp(v, "1") == 0;
	if (parsed)
		form_free(&f);
	if (auth_cookie(ex, id, sizeof(id))) {
		if (auth_lookup(ex, id, AUTH_SIGNED_IN) == -1)
			auth_unavailable(ex);
		return;
	}
	auth_login_notice(ex, 200, rd, NULL, NULL, out ?
	    "login.signed_out" : NULL, NULL);
}

int
auth_form_genuine(struct exchange *ex, const struct form *f)
{
	struct request	*req = ex->req;
	char		 id[CSRF_ID_LEN + 2];
	int		 ok;

	if (!csrf_origin_ok(request_header(req, "origin"),
	    request_header(req, "referer"), request_header(req, "host"),
	    ex->secure))
		return 0;
	ok = cookie_get(request_cookies(req), CSRF_COOKIE, id,
	    sizeof(id)) == COOKIE_FOUND && csrf_verify(ex->cfg->keys->csrf,
	    id, form_get(f, "csrf"));
	OPENSSL_cleanse(id, sizeof(id));
	return ok;
}

static const char auth_bad_login[] = "login.bad";

void
auth_pwcheck_run(struct auth_pwcheck *c)
{
	c->result = password_verify(c->usable ? c->phc : auth_dummy_phc,
	    c->password, c->pwlen);
	/* An imported bcrypt hash, or an older argon2id cost: upgrade it
	 * now, while the password is in hand (and still off the loop). */
	if (c->usable && c->result == PASSWORD_OK &&
	    password_needs_rehash(&c->params, c->phc) &&
	    password_hash(&c->params, c->password, c->pwlen,
	    c->rehash, sizeof(c->rehash)) == -1)
		c->rehash[0] = '\0';
	OPENSSL_cleanse(c->password, c->pwlen);
}

/*
 * A sign-in: its step record and what the chain learns on the way.
 * Owned by its pending callback.
 */
struct auth_signin {
	struct auth_step step;
	struct auth_rate rate;
	struct store	*st;		/* the store (step.st) */
	char		 email[USER_EMAILMAX + 1];
	char		 rd[REDIRECT_MAX + 1];
	char		 user[USER_IDLEN + 1];
	char		 sid[SESSION_ID_LEN + 1];
	int		 mfa;		/* the user has a second factor */
	struct auth_pwcheck pw;
	struct device_origin dev;	/* address, browser, device cookie */
};

static void
auth_signin_free(struct auth_step *step)
{
	struct auth_signin *chk = AUTH_STEP_STATE(step, struct auth_signin,
			    step);

	auth_pwcheck_clear(&chk->pw);
	OPENSSL_cleanse(chk, sizeof(*chk));
	free(chk);
}

static struct auth_signin *
auth_signin_of(void *step)
{
	return AUTH_STEP_STATE(step, struct auth_signin, step);
}

/* On a hashing thread: the sign-in's password. */
static void
auth_signin_work(void *step)
{
	auth_pwcheck_run(&auth_signin_of(step)->pw);
}

/* KEYS: user hash.  ARGV: old hash, new hash.  Only if unchanged since
 * the check, so a concurrent `user passwd` is never overwritten. */
static struct store_script auth_lua_rehash = STORE_SCRIPT("login rehash",
	"if redis.call('HGET', KEYS[1], 'password') ~= ARGV[1] then\n"
	"  return 0 end\n"
	"redis.call('HSET', KEYS[1], 'password', ARGV[2])\n"
	"return 1\n");

static void
auth_on_rehash(void *arg, const redisReply *reply, const char *err)
{
	char	*user = arg;

	if (err != NULL || reply == NULL || reply->type != REDIS_REPLY_INTEGER)
		log_event(LOG_LEVEL_WARN, "rehash", "outcome", "failure",
		    "user", user, NULL);
	else if (reply->integer == 1)
		log_event(LOG_LEVEL_INFO, "rehash", "outcome", "upgraded",
		    "user", user, NULL);
	free(user);
}

/* Store the upgraded hash; best effort, the sign-in does not wait. */
static void
auth_store_rehash(struct auth_signin *chk)
{
	char		 key[STORE_KEYLEN], *user;
	const char	*argv[3];

	if (chk->pw.rehash[0] == '\0' || (user = strdup(chk->user)) == NULL)
		return;
	argv[0] = key;
	argv[1] = chk->pw.phc;
	argv[2] = chk->pw.rehash;
	if (user_key(key, sizeof(key), store_prefix(chk->st), USER_KEY_USER,
	    chk->user) == -1 || store_eval(chk->st, &auth_lua_rehash,
	    auth_on_rehash, user, 1, 3, argv, NULL) == -1)
		free(user);
}

static void
auth_login_failed(struct exchange *ex, struct auth_signin *chk,
    const char *reason)
{
	auth_audit(ex, "login", chk->pw.usable ? chk->user : "", chk->email, 0,
	    reason);
	auth_login_page(ex, 401, chk->rd, chk->email, auth_bad_login,
	    "login_failed");
}

static void
auth_on_created(void *arg, enum session_status status)
{
	struct auth_signin *chk = arg;
	struct exchange	*ex = chk->step.ex;
	struct pages_resp r = { .status = 303 };
	char		 extra[600], enc[3 * REDIRECT_MAX + 1];
	char		 loc[3 * REDIRECT_MAX + 32];

	if (ex != NULL) {
		ex->check = NULL;
		chk->step.ex = NULL;
		if (status == SESSION_OK) {
			auth_session_cookie(ex->cfg, chk->sid, extra,
			    sizeof(extra));
			/* this browser now knows the password: its next
			 * sign-ins skip the account's lockout (device.h) */
			(void)snprintf(extra + strlen(extra), sizeof(extra) -
			    strlen(extra), "%s", chk->dev.cookie);
			r.extra = extra;
			r.location = chk->rd;
			if (chk->mfa) {	/* second factor: next step */
				(void)encode_pct(chk->rd, "/", enc, sizeof(enc));
				(void)snprintf(loc, sizeof(loc),
				    "/.postern/2fa?rd=%s", enc);
				r.location = loc;
			}
			auth_audit(ex, "login", chk->user, chk->email, 1,
			    chk->mfa ? "password, second factor next" :
			    "password");
			newdevice_notify(ex, chk->user, chk->email, &chk->dev);
			client_answer(ex, &r, NULL);
			OPENSSL_cleanse(extra, sizeof(extra));
		} else if (status == SESSION_NONE) {
			auth_login_failed(ex, chk, "user_disabled");
		} else {
			auth_unavailable(ex);
		}
	}
	(void)auth_step_done(&chk->step);
}

/* The password was right: the session. */
static void
auth_login_session(struct auth_signin *chk)
{
	struct exchange		*ex = chk->step.ex;
	struct session_limits	 lim;
	char			 scope[AUTH_SCOPE_MAX];

	auth_limits(ex->cfg, &lim);
	auth_scope(ex, scope, sizeof(scope));
	auth_drop_current(ex, chk->st);
	device_origin(ex, chk->email, &chk->dev);
	if (session_new_id(chk->sid, sizeof(chk->sid)) == -1 ||
	    session_create(chk->st, chk->sid, chk->user, "password", 0, scope,
	    (int64_t)time(NULL), &lim, &chk->dev.origin, auth_on_created,
	    chk) == -1) {
		auth_unavailable(ex);
		(void)auth_step_done(&chk->step);
	}
}

/* The user's orgs: a member of one whose sso.orgs entry is required
 * goes to its provider instead (the password was right: nothing leaks). */
static void
auth_on_orgs(void *arg, const redisReply *reply, const char *err)
{
	struct auth_signin	*chk = arg;
	struct exchange		*ex = auth_step_reply(&chk->step, reply, err);
	const struct config_sso_provider *p = NULL;
	size_t			 i;

	if (ex == NULL)
		return;
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && p == NULL &&
	    i < reply->elements; i++)
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			p = sso_org_required(ex->cfg, reply->element[i]->str);
	if (p == NULL) {
		auth_login_session(chk);
		return;
	}
	auth_audit(ex, "login", chk->user, chk->email, 0, "sso_required");
	chk->step.ex = NULL;
	ex->check = NULL;
	sso_send_to(ex, p, chk->rd, chk->email);
	(void)auth_step_done(&chk->step);
}

static void
auth_login_orgs(struct auth_signin *chk)
{
	char	key[STORE_KEYLEN];

	if (user_key(key, sizeof(key), store_prefix(chk->st),
	    USER_KEY_USER_ORGS, chk->user) == -1 || store_command(chk->st,
	    auth_on_orgs, chk, "HKEYS %s", key) == -1) {
		auth_unavailable(chk->step.ex);
		(void)auth_step_done(&chk->step);
	}
}

static void
auth_verify_done(void *arg)
{
	struct auth_signin	*chk = auth_signin_of(arg);
	struct exchange		*ex = chk->step.ex;

	if (ex == NULL) {
		(void)auth_step_done(&chk->step);
		return;
	}
	if (chk->pw.result != PASSWORD_OK || !chk->pw.usable) {
		auth_login_failed(ex, chk, !chk->pw.usable ? "unknown_user" :
		    "bad_password");
		(void)auth_step_done(&chk->step);
		return;
	}
	auth_store_rehash(chk);
	if (sso_any_required(ex->cfg))
		auth_login_orgs(chk);
	else
		auth_login_session(chk);
}

/* KEYS: email index.  ARGV: prefix.  nil or {id, password, disabled,
 * has a second factor}. */
static struct store_script auth_lua_user = STORE_LAYOUT_SCRIPT("login user",
	"local id = redis.call('GET', KEYS[1])\n"
	"if not id then return nil end\n"
	"local u = redis.call('HMGET', key('" USER_LAYOUT_USER "', id),\n"
	"  'password', 'disabled', 'totp')\n"
	"if not u[1] then return nil end\n"
	"return {id, u[1], u[2] or '0', (u[3] and u[3] ~= '') and '1' or "
	"'0'}\n");

static void
auth_on_user(void *arg, const redisReply *reply, const char *err)
{
	struct auth_signin	*chk = arg;
	struct exchange		*ex = chk->step.ex;

	if (ex == NULL) {
		(void)auth_step_done(&chk->step);
		return;
	}
	if (err != NULL) {
		auth_unavailable(ex);
		(void)auth_step_done(&chk->step);
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_STRING &&
	    reply->element[2]->type == REDIS_REPLY_STRING &&
	    reply->element[3]->type == REDIS_REPLY_STRING &&
	    reply->element[0]->len == USER_IDLEN &&
	    reply->element[1]->len < sizeof(chk->pw.phc)) {
		memcpy(chk->user, reply->element[0]->str, USER_IDLEN);
		memcpy(chk->pw.phc, reply->element[1]->str,
		    reply->element[1]->len);
		chk->pw.usable = strcmp(reply->element[2]->str, "1") != 0;
		chk->mfa = strcmp(reply->element[3]->str, "1") == 0;
	}
	user_password_params(ex->cfg, &chk->pw.params);
	auth_hash(&chk->step, auth_signin_work, auth_verify_done);
}

/* The sign-in is within its limits: look the user up. */
static void
auth_login_lookup(struct auth_step *step)
{
	struct auth_signin *chk = auth_signin_of(step);
	char		 key[STORE_KEYLEN];
	const char	*argv[2];

	argv[0] = key;
	argv[1] = store_prefix(chk->st);
	if (user_key(key, sizeof(key), argv[1], USER_KEY_EMAIL, chk->email) ==
	    -1 || store_eval(chk->st, &auth_lua_user, auth_on_user, chk, 1, 2,
	    argv, NULL) == -1)
		auth_step_unavailable(&chk->step);
}

/* Within its limits: make sure rd names no dangling org, then look up. */
static void
auth_login_rd(struct auth_step *step)
{
	auth_rd_verify(step, auth_signin_of(step)->rd, auth_login_lookup);
}

/*
 * Count the sign-in in the "login" class: by address, and by account --
 * or, from a browser holding a device cookie of this account, by that
 * device instead, so that failures sprayed at the account from elsewhere
 * do not lock its owner out of a browser they signed in with before.
 */
static void
auth_login_rate(struct exchange *ex, struct auth_signin *chk)
{
	char	dev[DEVICE_NONCE_LEN + 1], acct[DEVICE_NONCE_LEN + 8];

	chk->rate.email = chk->email;
	chk->rate.rd = chk->rd;
	if (device_check(ex->cfg, request_header(ex->req, "cookie"),
	    chk->email, dev, sizeof(dev)) == 0) {
		(void)snprintf(acct, sizeof(acct), "device:%s", dev);
		auth_rate(&chk->rate, &chk->step, "login", acct,
		    auth_login_rd);
	} else
		auth_rate(&chk->rate, &chk->step, "login", chk->email,
		    auth_login_rd);
}

/*
 * Home-realm discovery: the provider an address of an org in sso.orgs
 * signs in with, when that org requires it or no password was typed (the
 * page asks for the email first), else NULL.
 */
static const struct config_sso_provider *
auth_login_realm(struct exchange *ex, const char *email, const char *pw)
{
	const struct config_sso_provider *p;
	char		 norm[USER_EMAILMAX + 1], why[128];
	int		 required;

	if (email == NULL || user_email_normalize(email, norm, why,
	    sizeof(why)) == -1 || (p = sso_realm(ex->cfg, norm,
	    &required)) == NULL)
		return NULL;
	if (!required && pw != NULL && pw[0] != '\0')
		return NULL;
	if (required && pw != NULL && pw[0] != '\0')
		log_event(LOG_LEVEL_INFO, "login", "reason", "sso_required",
		    "request_id", ex->request_id, NULL);
	return p;
}

/*
 * What an incompletely filled sign-in form lacks, as the page says it, or
 * NULL.  It depends on the form alone, never on the account, so saying it
 * tells nothing about who has one.
 */
static const char *
auth_login_missing(const char *email, const char *pw)
{
	int	no_email = email == NULL || email[0] == '\0';
	int	no_pw = pw == NULL || pw[0] == '\0';

	if (no_email && no_pw)
		return "login.missing_both";
	if (no_email)
		return "login.missing_email";
	return no_pw ? "login.missing_password" : NULL;
}

void
auth_on_login_form(struct exchange *ex, struct evbuffer *body)
{
	const struct config_sso_provider *sp;
	struct auth_signin *chk;
	struct form	 f;
	const char	*why, *email, *pw;
	char		 rd[REDIRECT_MAX + 1], reason[160];
	size_t		 len = evbuffer_get_length(body);

	if (form_parse((const char *)evbuffer_pullup(body, -1), len, &f,
	    &why) == -1) {
		auth_login_page(ex, 400, "/", NULL, "login.bad_form", why);
		return;
	}
	auth_rd(ex, form_get(&f, "rd"), rd, sizeof(rd));
	email = form_get(&f, "email");
	pw = form_get(&f, "password");
	if (!auth_form_genuine(ex, &f)) {
		auth_login_page(ex, 403, rd, NULL, "login.expired", "csrf");
	} else if ((sp = auth_login_realm(ex, email, pw)) != NULL) {
		sso_send_to(ex, sp, rd, email);
	} else if ((why = auth_login_missing(email, pw)) != NULL) {
		auth_login_page(ex, 400, rd, email, why, email == NULL ||
		    email[0] == '\0' ? "login_no_email" : "login_no_password");
	} else if (ex->w->store == NULL ||
	    !store_healthy(ex->w->store)) {
		auth_unavailable(ex);
	} else if ((chk = calloc(1, sizeof(*chk))) == NULL) {
		auth_unavailable(ex);
	} else {
		auth_step_start(&chk->step, ex, ex->w->store,
		    auth_signin_free);
		chk->st = chk->step.st;
		(void)strcpy(chk->rd, rd);
		if (email == NULL || pw == NULL || strlen(pw) >
		    PASSWORD_MAX_BYTES || user_email_normalize(email,
		    chk->email, reason, sizeof(reason)) == -1 ||
		    (chk->pw.password = strdup(pw)) == NULL) {
			(void)snprintf(chk->email, sizeof(chk->email), "%.*s",
			    (int)(sizeof(chk->email) - 1), email != NULL ?
			    email : "");
			auth_login_failed(ex, chk, "bad_form");
			(void)auth_step_done(&chk->step);
		} else {
			chk->pw.pwlen = strlen(pw);
			auth_login_rate(ex, chk);
		}
	}
	form_free(&f);
}

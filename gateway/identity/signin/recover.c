/*
 * Sign-in by emailed link and password reset (see recover.h).
 *
 * A request form takes an email address and always answers the same page,
 * whether or not the address has an account (no enumeration); for a real
 * account a 256-bit token is made, Redis keeps SHA-256(token) -> user id
 * for account.token_ttl (acctstore_otk_put), and the mail carries the
 * token.  The link opens a page whose button POSTs the token (a mail
 * scanner that fetches links consumes nothing); the POST consumes it
 * atomically with GETDEL, so it works once on every gateway instance.
 * The link is built from the configuration only (auth_link_host): the
 * request's host name if an app has it by name, or by its "{org}.rest"
 * pattern when the label is an existing org (checked in Redis; a made-up
 * label gets no mail), never a "*." wildcard's label, and the port of the
 * gateway's TLS listener, never the Host header's: a forged Host never
 * sends a token elsewhere.
 *
 *   GET  /.postern/magic[?token=T]  request form, or the confirmation
 *   POST /.postern/magic            email -> mail; token -> session
 *   GET  /.postern/reset[?token=T]  request form, or the new-password form
 *   POST /.postern/reset            email -> mail; token + new password
 *                                   -> password set, every session revoked
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "acctstore.h"
#include "auth-int.h"
#include "client.h"
#include "cookie.h"
#include "config.h"
#include "device.h"
#include "encode.h"
#include "form.h"
#include "hashpool.h"
#include "log.h"
#include "loginpage.h"
#include "recoverpage.h"
#include "mail.h"
#include "newdevice.h"
#include "pages.h"
#include "password.h"
#include "recover.h"
#include "request.h"
#include "secret.h"
#include "worker.h"
#include "session.h"
#include "sso.h"
#include "store.h"
#include "user.h"

enum recover_kind {
	RECOVER_MAGIC = 0,
	RECOVER_RESET,
};

enum recover_step {
	RECOVER_FORM = 0,	/* GET, no token: the request form */
	RECOVER_PEEK,		/* GET with a token: confirm / new password */
	RECOVER_REQUEST,	/* POST email */
	RECOVER_USE,		/* POST token (+ new password) */
};

enum recover_page {
	RPAGE_REQUEST = 0,	/* the email form */
	RPAGE_SENT,		/* "check your mail" */
	RPAGE_CONFIRM,		/* magic: the sign-in button */
	RPAGE_NEWPW,		/* reset: the new password form */
	RPAGE_DEAD,		/* the link is expired or used */
	RPAGE_DONE,		/* reset: password changed */
	RPAGE_ELSEWHERE,	/* magic: not the browser that asked */
};

#define RECOVER_TOKEN_LEN	SESSION_ID_LEN	/* 256 bits, base64url */
/* A token's stored value: the user id, or for a magic link bound to the
 * browser that asked, "<user id>:<hex SHA-256 of the cookie's value>". */
#define RECOVER_VALUE_LEN	(USER_IDLEN + 1 + SESSION_HASH_LEN)

/*
 * One request's chain: its step record (step.h) and the recovery's state.
 * Owned by its pending callback once recover_start() began it.
 */
struct recover {
	struct auth_step chain;
	struct auth_rate rate;		/* the "magic" or "reset" class */
	enum recover_kind kind;
	enum recover_step step;
	enum recover_page page;
	char		 email[USER_EMAILMAX + 1];
	char		 token[RECOVER_TOKEN_LEN + 2];
	char		 hash[SESSION_HASH_LEN + 1];
	char		 user[USER_IDLEN + 1];
	char		 host[300];		/* checked: an app's host */
	char		 org[AUTH_ORG_SLUGMAX + 1];	/* its {org} label */
	char		 rd[REDIRECT_MAX + 1];
	struct auth_pwnew pwn;		/* a reset's new password */
	struct password_refusal refusal;	/* a refused new password */
	char		 sid[SESSION_ID_LEN + 1];
	char		 bind[SESSION_ID_LEN + 2];	/* magic: the cookie */
	int		 enrolled;		/* the user has a 2nd factor */
	const char	*error;
	struct device_origin dev;		/* magic: where from */
};

static const char *const recover_kinds[] = { "magic", "reset" };

static void
recover_free(struct recover *r)
{
	auth_pwnew_clear(&r->pwn);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

static struct recover *
recover_of(struct auth_step *chk)
{
	return AUTH_STEP_STATE(chk, struct recover, chain);
}

static void
recover_release(struct auth_step *chk)
{
	recover_free(recover_of(chk));
}

/* On a hashing thread: the new password's hash. */
static void
recover_hash_work(void *chk)
{
	auth_pwnew_run(&recover_of(chk)->pwn);
}

static const char *
recover_path(const struct recover *r)
{
	return r->kind == RECOVER_MAGIC ? "/.postern/magic" :
	    "/.postern/reset";
}

/* ---- pages ---- */

/* The page's text of message <key>. */
#define RT(key)	pages_t(&lp->frame, (key))

/* The template of <r>'s page, or PAGETMPL_N for one built from blocks.
 * A confirmation is a sign-in link's, a new password a reset's. */
static enum pagetmpl_id
recover_tmpl(const struct recover *r)
{
	int	magic = r->kind == RECOVER_MAGIC;

	switch (r->page) {
	case RPAGE_REQUEST:
		return magic ? PAGETMPL_MAGIC : PAGETMPL_RESET;
	case RPAGE_SENT:
		return magic ? PAGETMPL_MAGIC_SENT : PAGETMPL_RESET_SENT;
	case RPAGE_CONFIRM:
		return PAGETMPL_MAGIC_CONFIRM;
	case RPAGE_NEWPW:
		return PAGETMPL_RESET_PASSWORD;
	default:
		return PAGETMPL_N;
	}
}

static int
recover_render(struct evbuffer *out, const struct loginpage *lp, void *ctx)
{
	const struct recover *r = ctx;
	int		 magic = r->kind == RECOVER_MAGIC, rc;
	const char	*title = RT(magic ? "magic.title" : "reset.title");
	enum pagetmpl_id id = recover_tmpl(r);

	rc = pages_begin(out, &lp->frame, title);
	if (id != PAGETMPL_N)
		return rc | recoverpage_render(out, lp, id, r->email,
		    r->token);
	if (r->page == RPAGE_DONE)
		return rc | recoverpage_done(out, lp);
	if (r->page == RPAGE_ELSEWHERE)
		return rc | recoverpage_refused(out, lp, title,
		    RT("recover.elsewhere"), recover_path(r),
		    RT("recover.send_here"));
	return rc | recoverpage_refused(out, lp, title, RT("recover.dead"),
	    recover_path(r), RT("recover.send_new"));
}

static void
recover_page(struct exchange *ex, struct recover *r, enum recover_page page,
    int status, const char *reason)
{
	struct loginpage lp = { .rd = r->rd, .error = r->error,
	    .refused = &r->refusal };
	char		 extra[256] = "";

	r->page = page;
	if (page == RPAGE_DEAD || page == RPAGE_ELSEWHERE)
		metrics_inc(&ex->w->metrics.auth[r->kind == RECOVER_MAGIC ?
		    METRICS_MAGIC_REFUSED : METRICS_RESET_REFUSED]);
	if (page == RPAGE_SENT && r->bind[0] != '\0')	/* known or not */
		(void)snprintf(extra, sizeof(extra), "Set-Cookie: %s=%s; "
		    "Path=/; Max-Age=%" PRIu64 "; Secure; HttpOnly; "
		    "SameSite=Lax\r\n", RECOVER_MAGIC_COOKIE, r->bind,
		    ex->cfg->token_ttl / 1000);
	auth_page_ctx(ex, status, &lp, recover_render, r, extra, reason);
	OPENSSL_cleanse(extra, sizeof(extra));
}

/*
 * Is stored token value <v> (<len> bytes) usable by <ex>'s request for
 * <r>?  0 and r->user set; -1 if it is not a token value; -2 if it is a
 * magic link bound to another browser (the cookie's hash, compared in
 * constant time) while account.magic_link_same_browser holds.
 */
static int
recover_value_check(struct exchange *ex, struct recover *r, const char *v,
    size_t len)
{
	char	cookie[SESSION_ID_LEN + 2], hash[SESSION_HASH_LEN + 1];
	int	bound = len == RECOVER_VALUE_LEN && v[USER_IDLEN] == ':';

	if (len != USER_IDLEN && !bound)
		return -1;
	memcpy(r->user, v, USER_IDLEN);
	r->user[USER_IDLEN] = '\0';
	if (r->kind != RECOVER_MAGIC || !ex->cfg->magic_same_browser)
		return 0;
	if (!bound || cookie_get(request_header(ex->req, "cookie"),
	    RECOVER_MAGIC_COOKIE, cookie, sizeof(cookie)) != COOKIE_FOUND ||
	    !session_id_valid(cookie))
		return -2;
	session_hash(cookie, hash);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return CRYPTO_memcmp(hash, v + USER_IDLEN + 1, SESSION_HASH_LEN) ==
	    0 ? 0 : -2;
}

/* End the chain with a page. */
static void
recover_end(struct auth_step *chk, enum recover_page page, int status,
    const char *reason)
{
	struct exchange	*ex = chk->ex;

	chk->ex = NULL;
	ex->check = NULL;
	recover_page(ex, recover_of(chk), page, status, reason);
	(void)auth_step_done(chk);
}



/* ---- request: email -> mail ---- */

/* May the user of brief <reply> sign in by link? */
static int
recover_magic_allowed(const struct config *cfg, const redisReply *reply)
{
	size_t	i;

	if (cfg->magic_links)
		return 1;
	for (i = 3; i < reply->elements; i++)
		if (config_names_has(&cfg->magic_orgs,
		    reply->element[i]->str))
			return 1;
	return 0;
}

static void
recover_on_put(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);
	char			 link[600], mins[24];

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	(void)snprintf(link, sizeof(link), "https://%s%s?token=%s", r->host,
	    recover_path(r), r->token);
	(void)snprintf(mins, sizeof(mins), "%" PRIu64,
	    ex->cfg->token_ttl / 60000);
	if (mailer_send(ex->w->mailer, r->email, r->kind == RECOVER_MAGIC ?
	    "magic_link" : "password_reset", (const struct mail_var []){
	    { "link", link }, { "product", ex->cfg->brand_product },
	    { "expires_minutes", mins }, { "email", r->email } }, 4) == -1)
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "not_queued",
		    "purpose", recover_kinds[r->kind], "user", r->user,
		    "request_id", ex->request_id, NULL);
	else
		auth_audit(ex, r->kind == RECOVER_MAGIC ? "magic_link_sent" :
		    "reset_link_sent", r->user, r->user, 1, NULL);
	OPENSSL_cleanse(link, sizeof(link));
	recover_end(chk, RPAGE_SENT, 200, NULL);
}

/* Make the token and store its hash; the mail goes in recover_on_put(). */
static void
recover_put(struct auth_step *chk)
{
	struct recover	*r = recover_of(chk);
	char		 value[RECOVER_VALUE_LEN + 1];

	if (session_new_id(r->token, sizeof(r->token)) == -1) {
		auth_step_unavailable(chk);
		return;
	}
	session_hash(r->token, r->hash);
	(void)snprintf(value, sizeof(value), "%s", r->user);
	if (r->bind[0] != '\0') {
		value[USER_IDLEN] = ':';
		session_hash(r->bind, value + USER_IDLEN + 1);
	}
	if (acctstore_otk_put(chk->st, recover_kinds[r->kind], r->hash,
	    r->user, value, chk->ex->cfg->token_ttl / 1000, recover_on_put,
	    chk) == -1)
		auth_step_unavailable(chk);
}

/* The request came on an app's "{org}.rest" host: is its label an org?  A
 * made-up label gets no link (and the same page). */
static void
recover_on_org(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "refused",
		    "reason", "link_host_org", "purpose",
		    recover_kinds[r->kind], "request_id", ex->request_id,
		    NULL);
		recover_end(chk, RPAGE_SENT, 200, NULL);	/* the same */
		return;
	}
	recover_put(chk);
}

/* Is the user of brief <reply> (<email>) one who must sign in by SSO
 * (sso.orgs required: by the email's domain or a membership)? */
static int
recover_sso_only(const struct config *cfg, const redisReply *reply,
    const char *email)
{
	size_t	i;
	int	required = 0;

	if (sso_realm(cfg, email, &required) != NULL && required)
		return 1;
	for (i = 3; i < reply->elements; i++)
		if (sso_org_required(cfg, reply->element[i]->str) != NULL)
			return 1;
	return 0;
}

static void
recover_on_brief(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    strcmp(reply->element[0]->str, "1") == 0 ||
	    (r->kind == RECOVER_MAGIC &&
	    !recover_magic_allowed(ex->cfg, reply)) ||
	    recover_sso_only(ex->cfg, reply, r->email)) {
		recover_end(chk, RPAGE_SENT, 200, NULL);	/* the same */
		return;
	}
	if (r->org[0] == '\0')
		recover_put(chk);
	else if (acctstore_org_exists(chk->st, r->org, recover_on_org, chk) ==
	    -1)
		auth_step_unavailable(chk);
}

static void
recover_on_email(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct recover		*r = recover_of(chk);

	if (auth_step_reply(chk, reply, err) == NULL)
		return;
	if (reply->type != REDIS_REPLY_STRING || reply->len != USER_IDLEN) {
		recover_end(chk, RPAGE_SENT, 200, NULL);	/* the same */
		return;
	}
	memcpy(r->user, reply->str, USER_IDLEN + 1);
	if (acctstore_user_brief(chk->st, r->user, recover_on_brief, chk) ==
	    -1)
		auth_step_unavailable(chk);
}

/* ---- use: token -> session or new password ---- */

static void
recover_on_created(void *arg, enum session_status status)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex = chk->ex;
	struct recover		*r = recover_of(chk);
	char			 extra[600], enc[3 * REDIRECT_MAX + 1];
	char			 loc[3 * REDIRECT_MAX + 32];

	if (ex == NULL) {
		(void)auth_step_done(chk);
		return;
	}
	if (status == SESSION_ERROR) {
		auth_step_unavailable(chk);
		return;
	}
	if (status == SESSION_NONE) {		/* disabled meanwhile */
		recover_end(chk, RPAGE_DEAD, 400, "user_disabled");
		return;
	}
	auth_session_cookie(ex->cfg, r->sid, extra, sizeof(extra));
	(void)snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
	    "%s", r->dev.cookie);
	(void)snprintf(loc, sizeof(loc), "%s", r->rd);
	if (r->enrolled) {
		(void)encode_pct(r->rd, "/", enc, sizeof(enc));
		(void)snprintf(loc, sizeof(loc), "/.postern/2fa?rd=%s", enc);
	}
	auth_audit(ex, "login", r->user, r->user, 1, "magic_link");
	newdevice_notify(ex, r->user, r->email, &r->dev);
	ex = auth_step_done(chk);
	client_answer(ex, &(struct pages_resp){ .status = 303,
	    .location = loc, .extra = extra }, NULL);
	OPENSSL_cleanse(extra, sizeof(extra));
}

static void
recover_on_password_set(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);
	char			 n[24];

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
		recover_end(chk, RPAGE_DEAD, 400, "user_gone");
		return;
	}
	(void)snprintf(n, sizeof(n), "%lld", reply->integer);
	auth_audit(ex, "password_reset", r->user, r->user, 1, n);
	auth_notify_change(ex, r->email, "Your password was reset with an "
	    "emailed link, and every session was signed out.");
	recover_end(chk, RPAGE_DONE, 200, NULL);
}


static void
recover_on_hashed(void *arg)
{
	struct auth_step	*chk = arg;
	struct recover		*r = recover_of(chk);
	int64_t			 now = (int64_t)time(NULL);

	if (chk->ex == NULL) {
		(void)auth_step_done(chk);
		return;
	}
	if (r->pwn.phc[0] == '\0' || acctstore_set_password(chk->st,
	    r->user, "", r->pwn.phc, "", now, recover_on_password_set, chk) ==
	    -1)
		auth_step_unavailable(chk);
}

/* The token is consumed: it was <reply>'s user's; finish the step. */
static void
recover_on_taken(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);
	struct session_limits	 lim;
	char			 scope[AUTH_SCOPE_MAX];
	char			 user[USER_IDLEN + 1];

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	(void)snprintf(user, sizeof(user), "%s", r->user);
	if (reply->type != REDIS_REPLY_STRING || recover_value_check(ex, r,
	    reply->str, reply->len) != 0 ||
	    CRYPTO_memcmp(user, r->user, USER_IDLEN) != 0) {
		recover_end(chk, RPAGE_DEAD, 400, "token_used");
		return;
	}
	if (r->kind == RECOVER_MAGIC) {
		auth_limits(ex->cfg, &lim);
		auth_scope(ex, scope, sizeof(scope));
		auth_drop_current(ex, chk->st);
		device_origin(ex, r->email, &r->dev);
		if (session_new_id(r->sid, sizeof(r->sid)) == -1 ||
		    session_create(chk->st, r->sid, r->user, "magic", 0, scope,
		    (int64_t)time(NULL), &lim, &r->dev.origin,
		    recover_on_created, chk) == -1)
			auth_step_unavailable(chk);
		return;
	}
	user_password_params(ex->cfg, &r->pwn.params);
	auth_hash(chk, recover_hash_work, recover_on_hashed);
}

/* Check the new password of <chk> against the rules and the context of
 * brief <reply> (the email, the user's org slugs): 0, or -1 and
 * r->refusal. */
static int
recover_password_check(const struct config *cfg, struct auth_step *chk,
    const redisReply *reply)
{
	struct recover	*r = recover_of(chk);
	const char	*orgs[SESSION_MAX_ORGS];
	size_t		 i, n = 0;

	for (i = 3; i < reply->elements && n < SESSION_MAX_ORGS; i++)
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			orgs[n++] = reply->element[i]->str;
	return password_judge(cfg->pwrules, r->pwn.pw, r->pwn.len,
	    &(struct password_context){ .email = r->email, .words = orgs,
	    .nwords = n }, &r->refusal);
}

/* The token's user, as read without consuming it. */
static void
recover_on_user_of_token(void *arg, const redisReply *reply,
    const char *err);

static void
recover_on_token_brief(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    strcmp(reply->element[0]->str, "1") == 0) {
		recover_end(chk, RPAGE_DEAD, 400, "user_disabled");
		return;
	}
	(void)snprintf(r->email, sizeof(r->email), "%s",
	    reply->element[1]->str);
	r->enrolled = strcmp(reply->element[2]->str, "1") == 0;
	if (r->step == RECOVER_PEEK) {
		recover_end(chk, r->kind == RECOVER_MAGIC ? RPAGE_CONFIRM :
		    RPAGE_NEWPW, 200, NULL);
		return;
	}
	if (r->kind == RECOVER_RESET && (ex->cfg->pwrules == NULL ||
	    recover_password_check(ex->cfg, chk, reply) == -1)) {
		r->error = ex->cfg->pwrules == NULL ? "recover.no_passwords" :
		    loginpage_refusal_key(&r->refusal);
		recover_end(chk, RPAGE_NEWPW, 400, "password_rules");
		return;
	}
	if (acctstore_otk_take(chk->st, recover_kinds[r->kind], r->hash, 1,
	    recover_on_taken, chk) == -1)
		auth_step_unavailable(chk);
}

static void
recover_on_user_of_token(void *arg, const redisReply *reply,
    const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct recover		*r = recover_of(chk);
	int			 rc = -1;

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type == REDIS_REPLY_STRING)
		rc = recover_value_check(ex, r, reply->str, reply->len);
	if (rc != 0) {		/* -2: read only, the link still works */
		recover_end(chk, rc == -2 ? RPAGE_ELSEWHERE : RPAGE_DEAD,
		    rc == -2 ? 403 : 400, rc == -2 ? "magic_other_browser" :
		    "token_unknown");
		return;
	}
	if (acctstore_user_brief(chk->st, r->user, recover_on_token_brief,
	    chk) == -1)
		auth_step_unavailable(chk);
}

/* ---- entry ---- */

/* Within the limits: look up the address or the token. */
static void
recover_lookup(struct auth_step *chk)
{
	struct recover	*r = recover_of(chk);
	int		 rc;

	if (r->step == RECOVER_REQUEST)
		rc = acctstore_user_by_email(chk->st, r->email,
		    recover_on_email, chk);
	else {
		session_hash(r->token, r->hash);
		rc = acctstore_otk_take(chk->st, recover_kinds[r->kind],
		    r->hash, 0, recover_on_user_of_token, chk);
	}
	if (rc == -1)
		auth_step_unavailable(chk);
}

/* rd names no dangling org (it is where a magic link lands): go on. */
static void
recover_rd(struct auth_step *chk)
{
	auth_rd_verify(chk, recover_of(chk)->rd, recover_lookup);
}

static void
recover_start(struct exchange *ex, struct recover *r)
{
	struct auth_step	*chk = &r->chain;
	struct store		*st = ex->w->store;

	if (st == NULL || !store_healthy(st)) {
		recover_free(r);
		auth_unavailable(ex);
		return;
	}
	auth_step_start(chk, ex, st, recover_release);
	if (r->step == RECOVER_PEEK)	/* a GET: nothing to guess */
		recover_rd(chk);
	else
		auth_rate(&r->rate, chk, recover_kinds[r->kind], r->step ==
		    RECOVER_REQUEST ? r->email : NULL, recover_rd);
}


/* Take what step <r> needs from form or query <f>; NULL, or why not. */
static const char *
recover_take(struct exchange *ex, struct recover *r, const struct form *f)
{
	const char	*tok = form_get(f, "token"), *email, *np, *cf;
	char		 why[160];

	auth_rd(ex, form_get(f, "rd"), r->rd, sizeof(r->rd));
	if (tok != NULL) {
		if (!session_id_valid(tok))
			return "recover.invalid";
		(void)strcpy(r->token, tok);
		if (r->step != RECOVER_FORM)
			r->step = RECOVER_USE;
		else
			r->step = RECOVER_PEEK;
		if (r->step == RECOVER_USE && r->kind == RECOVER_RESET) {
			np = form_get(f, "new_password");
			cf = form_get(f, "confirm");
			if (np == NULL || cf == NULL || *np == '\0' ||
			    strcmp(np, cf) != 0)
				return "recover.mismatch";
			if (strlen(np) > PASSWORD_MAX_BYTES ||
			    (r->pwn.pw = strdup(np)) == NULL)
				return "recover.too_long";
			r->pwn.len = strlen(np);
		}
		return NULL;
	}
	if (r->step == RECOVER_FORM) {	/* ?email=: prefilled, if valid */
		if ((email = form_get(f, "email")) != NULL &&
		    user_email_normalize(email, r->email, why, sizeof(why)) ==
		    -1)
			r->email[0] = '\0';
		return NULL;
	}
	r->step = RECOVER_REQUEST;
	if ((email = form_get(f, "email")) == NULL ||
	    user_email_normalize(email, r->email, why, sizeof(why)) == -1)
		return "login.missing_email";
	if (auth_link_host(ex, r->host, sizeof(r->host), r->org) == -1)
		return "recover.no_host";
	if (!mail_configured(ex->cfg))
		return "recover.no_mail";
	if (r->kind == RECOVER_MAGIC && ex->cfg->magic_same_browser &&
	    session_new_id(r->bind, sizeof(r->bind)) == -1)
		return "recover.try_later";
	return NULL;
}

static void
recover_go(struct exchange *ex, struct recover *r, const struct form *f)
{
	const char	*why = recover_take(ex, r, f);

	if (why != NULL) {
		r->error = why;
		recover_page(ex, r, r->step == RECOVER_USE && r->kind ==
		    RECOVER_RESET && r->token[0] != '\0' ? RPAGE_NEWPW :
		    r->token[0] != '\0' ? RPAGE_DEAD : RPAGE_REQUEST, 400,
		    "bad_form");
		recover_free(r);
	} else if (r->step == RECOVER_FORM) {
		recover_page(ex, r, RPAGE_REQUEST, 200, NULL);
		recover_free(r);
	} else
		recover_start(ex, r);
}

static struct recover *
recover_new(const struct exchange *ex, int post)
{
	struct recover	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->kind = strcmp(ex->req->path, "/.postern/magic") == 0 ?
	    RECOVER_MAGIC : RECOVER_RESET;
	r->step = post ? RECOVER_REQUEST : RECOVER_FORM;
	(void)strcpy(r->rd, "/");
	return r;
}

static void
recover_on_form(struct exchange *ex, struct evbuffer *body)
{
	struct recover	*r;
	struct form	 f;
	const char	*why;
	size_t		 len = evbuffer_get_length(body);

	if ((r = recover_new(ex, 1)) == NULL) {
		auth_unavailable(ex);
		return;
	}
	if (form_parse((const char *)evbuffer_pullup(body, -1), len, &f,
	    &why) == -1) {
		r->error = "recover.bad_form";
		recover_page(ex, r, RPAGE_REQUEST, 400, why);
		recover_free(r);
		return;
	}
	if (!auth_form_genuine(ex, &f)) {
		form_free(&f);
		r->error = "recover.expired";
		recover_page(ex, r, RPAGE_REQUEST, 403, "csrf");
		recover_free(r);
		return;
	}
	recover_go(ex, r, &f);
	form_free(&f);
}

int
recover_builtin(struct exchange *ex)
{
	struct request	*req = ex->req;
	struct recover	*r;
	struct form	 f = { 0 };
	const char	*why;
	int		 magic = strcmp(req->path, "/.postern/magic") == 0;
	int		 parsed;

	if (!magic && strcmp(req->path, "/.postern/reset") != 0)
		return 0;
	if (ex->cfg->keys == NULL || !ex->cfg->keys->present ||
	    (magic && !ex->cfg->magic_links && ex->cfg->magic_orgs.n == 0)) {
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if (req->method == HTTP_POST) {
		client_read_form(ex, FORM_MAX_BODY, recover_on_form);
		return 1;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET, POST\r\n" }, "method");
		return 1;
	}
	if ((r = recover_new(ex, 0)) == NULL) {
		auth_unavailable(ex);
		return 1;
	}
	if ((parsed = req->query != NULL) && form_parse(req->query,
	    strlen(req->query), &f, &why) == -1) {
		r->error = "recover.invalid";
		recover_page(ex, r, RPAGE_DEAD, 400, why);
		recover_free(r);
		return 1;
	}
	recover_go(ex, r, &f);		/* the request may be over now */
	if (parsed)
		form_free(&f);
	return 1;
}

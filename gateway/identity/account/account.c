/*
 * The account pages (see account.h).
 *
 * Every request runs the same chain: parse the form (POST), find the
 * session (cookie -> session_lookup), gate it (second factor passed?
 * password fresh enough?), then the step's own work, each Redis reply or
 * hash-pool result continuing it.  The chain's state is an acct (owned
 * embedding the step record the client points at; see step.h), so a client
 * that closes meanwhile only unlinks itself.
 *
 *   GET  /.postern/2fa                    code form
 *   POST /.postern/2fa                    TOTP code or backup code -> rd
 *   GET  /.postern/2fa/setup              new seed, QR code (fresh auth)
 *   POST /.postern/2fa/setup              first code -> backup codes
 *   GET  /.postern/reauth                 password (+ code) form
 *   POST /.postern/reauth                 -> auth_time = now -> rd
 *   GET  /.postern/account                overview
 *   POST /.postern/account/password       current + new password
 *   POST /.postern/account/2fa/disable    password + code
 *   POST /.postern/account/backup-codes   new codes (fresh auth)
 *   POST /.postern/account/sessions/revoke  one of the user's sessions
 *   POST /.postern/account/backup-codes/download  the codes just shown,
 *                                          sent back as a text file
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "account.h"
#include "account-int.h"
#include "acctpage.h"
#include "acctstore.h"
#include "auth-int.h"
#include "backup.h"
#include "client.h"
#include "config.h"
#include "encode.h"
#include "form.h"
#include "hashpool.h"
#include "log.h"
#include "loginpage.h"
#include "pages.h"
#include "password.h"
#include "qr.h"
#include "request.h"
#include "secret.h"
#include "worker.h"
#include "session.h"
#include "store.h"
#include "totp.h"

static const struct acct_route acct_routes[] = {
	{ "/.postern/2fa", 0, ACCT_2FA_GET, 0, NULL },
	{ "/.postern/2fa", 1, ACCT_2FA_POST, 0, NULL },
	{ "/.postern/2fa/setup", 0, ACCT_SETUP_GET,
	    ACCT_NEED_MFA | ACCT_NEED_FRESH, "/.postern/2fa/setup" },
	{ "/.postern/2fa/setup", 1, ACCT_SETUP_POST,
	    ACCT_NEED_MFA | ACCT_NEED_FRESH, "/.postern/2fa/setup" },
	{ "/.postern/reauth", 0, ACCT_REAUTH_GET, 0, NULL },
	{ "/.postern/reauth", 1, ACCT_REAUTH_POST, 0, NULL },
	{ "/.postern/account", 0, ACCT_HOME_GET, ACCT_NEED_MFA,
	    "/.postern/account" },
	{ "/.postern/account/password", 1, ACCT_PASSWORD_POST, ACCT_NEED_MFA,
	    "/.postern/account" },
	{ "/.postern/account/2fa/disable", 1, ACCT_DISABLE_POST,
	    ACCT_NEED_MFA, "/.postern/account" },
	{ "/.postern/account/backup-codes", 1, ACCT_BACKUP_POST,
	    ACCT_NEED_MFA | ACCT_NEED_FRESH, "/.postern/account" },
	{ "/.postern/account/sessions/revoke", 1, ACCT_REVOKE_POST,
	    ACCT_NEED_MFA | ACCT_NEED_FRESH, "/.postern/account" },
	{ "/.postern/account/backup-codes/download", 1, ACCT_CODES_POST,
	    ACCT_NEED_MFA, "/.postern/account" },
};

void
acct_free(struct acct *a)
{
	auth_pwcheck_clear(&a->pwc);
	auth_pwnew_clear(&a->pwn);
	free(a->sessions);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

static void
acct_release(struct auth_step *s)
{
	acct_free(acct_of(s));
}

struct acct *
acct_of(struct auth_step *s)
{
	return AUTH_STEP_STATE(s, struct acct, step);
}

int64_t
acct_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- the chain ---- */

/*
 * Send the user to gateway page <page>, then back to <back> (a gateway
 * page, or NULL), and from there to <rd>.
 */
void
acct_detour(struct exchange *ex, const char *page, const char *back,
    const char *rd, const char *reason)
{
	char	inner[REDIRECT_MAX + 1], enc[3 * REDIRECT_MAX + 1];
	char	loc[3 * REDIRECT_MAX + 64];

	(void)encode_pct(rd, "/", enc, sizeof(enc));
	if (back == NULL)
		(void)snprintf(inner, sizeof(inner), "%s", rd);
	else if (strcmp(rd, "/") == 0 || snprintf(inner, sizeof(inner),
	    "%s?rd=%s", back, enc) >= (int)sizeof(inner))
		(void)snprintf(inner, sizeof(inner), "%s", back);
	(void)encode_pct(inner, "/", enc, sizeof(enc));
	(void)snprintf(loc, sizeof(loc), "%s?rd=%s", page, enc);
	client_answer(ex, &(struct pages_resp){ .status = 303,
	    .location = loc }, reason);
}

static void	acct_run(struct exchange *, struct auth_step *);

static void
acct_on_session(void *arg, enum session_status status,
    const struct session *s)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex = chk->ex;
	struct acct		*a = acct_of(chk);

	if (ex == NULL) {
		(void)auth_step_done(chk);
		return;
	}
	if (status == SESSION_ERROR) {
		(void)auth_step_done(chk);
		auth_unavailable(ex);
		return;
	}
	if (status == SESSION_NONE) {
		(void)auth_step_done(chk);
		auth_send_to(ex, "/.postern/login",
		    "unauthenticated", "Bearer realm=\"postern\"",
		    "", "unauthenticated");
		return;
	}
	memcpy(&a->s, s, sizeof(*s));
	acct_run(ex, chk);
}

/* rd is checked: look the session up. */
static void
acct_lookup(struct auth_step *chk)
{
	struct acct		*a = acct_of(chk);
	struct session_limits	 lim;
	char			 scope[AUTH_SCOPE_MAX];

	auth_limits(chk->ex->cfg, &lim);
	auth_scope(chk->ex, scope, sizeof(scope));
	if (session_lookup(chk->st, a->sid, scope, acct_now(), &lim,
	    acct_on_session, chk) == -1)
		auth_step_unavailable(chk);
}

/*
 * Check <a>'s rd, then look up <ex>'s session for <a>; the chain goes on
 * in acct_run().
 */
static void
acct_start(struct exchange *ex, struct acct *a)
{
	struct store		*st = ex->w->store;

	if (!auth_cookie(ex, a->sid, sizeof(a->sid))) {
		acct_free(a);
		auth_send_to(ex, "/.postern/login",
		    "unauthenticated", "Bearer realm=\"postern\"",
		    "", "unauthenticated");
		return;
	}
	if (st == NULL || !store_healthy(st)) {
		acct_free(a);
		auth_unavailable(ex);
		return;
	}
	auth_step_start(&a->step, ex, st, acct_release);
	auth_rd_verify(&a->step, a->rd, acct_lookup);
}

/* The Set-Cookie of a rotated session for the chain's answer, or "". */
static void
acct_cookie(const struct exchange *ex, const struct acct *a, char *buf,
    size_t size)
{
	buf[0] = '\0';
	if (a->rotated)
		auth_session_cookie(ex->cfg, a->newsid, buf, size);
}

/* Finish the chain with <a>'s page. */
void
acct_end_page(struct auth_step *chk, int status, const char *reason)
{
	struct exchange	*ex = chk->ex;
	char		 extra[600];

	chk->ex = NULL;
	ex->check = NULL;
	acct_cookie(ex, acct_of(chk), extra, sizeof(extra));
	acct_page(ex, acct_of(chk), status, extra, reason);
	OPENSSL_cleanse(extra, sizeof(extra));
	(void)auth_step_done(chk);
}

/* Finish the chain with a redirect to <where> (copied first). */
void
acct_end_redirect(struct auth_step *chk, const char *where)
{
	char		 loc[REDIRECT_MAX + 64], extra[600] = "";
	struct exchange	*ex;

	(void)snprintf(loc, sizeof(loc), "%s", where);
	if (chk->ex != NULL)
		acct_cookie(chk->ex, acct_of(chk), extra, sizeof(extra));
	if ((ex = auth_step_done(chk)) != NULL)
		client_answer(ex, &(struct pages_resp){ .status = 303,
		    .location = loc, .extra = extra }, NULL);
	OPENSSL_cleanse(extra, sizeof(extra));
}

/* End the chain with acct_detour() (the chain's rd copied first). */
static void
acct_end_detour(struct auth_step *chk, const char *page, const char *back,
    const char *reason)
{
	char		 rd[REDIRECT_MAX + 1];
	struct exchange	*ex;

	(void)snprintf(rd, sizeof(rd), "%s", acct_of(chk)->rd);
	if ((ex = auth_step_done(chk)) != NULL)
		acct_detour(ex, page, back, rd, reason);
}


/* ---- the overview ---- */

static void
acct_on_revoked(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
		auth_audit(ex, "session_revoked", a->s.user, a->target, 1,
		    "by_user");
	acct_end_redirect(chk, "/.postern/account");
}

/* ---- password steps (hash pool) ---- */

static void	acct_on_verified(void *);

/* On a hashing thread: the form's password against the user's hash. */
static void
acct_verify_work(void *s)
{
	auth_pwcheck_run(&acct_of(s)->pwc);
}

/* On a hashing thread: the new password's hash. */
static void
acct_hash_work(void *s)
{
	auth_pwnew_run(&acct_of(s)->pwn);
}

static void
acct_on_user(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct auth_pwcheck	*pwc = &acct_of(chk)->pwc;
	struct exchange		*ex;

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
	    reply->element[0]->len < sizeof(pwc->phc)) {
		memcpy(pwc->phc, reply->element[0]->str,
		    reply->element[0]->len);
		pwc->usable = strcmp(reply->element[1]->str, "1") != 0;
	}
	user_password_params(ex->cfg, &pwc->params);
	auth_hash(chk, acct_verify_work, acct_on_verified);
}


static void
acct_on_password_set(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);
	static char		 msg[] = "Your password was changed. Your other "
				    "sessions were signed out.";

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
		a->error = "Your password was changed meanwhile. Try again.";
		acct_end_page(chk, 409, "password_race");
		return;
	}
	auth_audit(ex, "password_changed", a->s.user, a->s.user, 1,
	    reply->integer > 0 ? "other_sessions_revoked" : "by_user");
	auth_notify_change(ex, a->s.email, "Your password was changed.");
	a->notice = msg;
	acct_elevate(chk, 0, acct_now());	/* then the overview */
}

static void
acct_on_hashed(void *arg)
{
	struct auth_step	*chk = arg;
	struct acct		*a = acct_of(chk);

	if (chk->ex == NULL) {
		(void)auth_step_done(chk);
		return;
	}
	if (a->pwn.phc[0] == '\0') {
		auth_step_unavailable(chk);
		return;
	}
	if (acctstore_set_password(chk->st, a->s.user, a->pwc.phc, a->pwn.phc,
	    a->s.hash, acct_now(), acct_on_password_set, chk) == -1)
		auth_step_unavailable(chk);
}

static void
acct_on_verified(void *arg)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex = chk->ex;
	struct acct		*a = acct_of(chk);

	if (ex == NULL) {
		(void)auth_step_done(chk);
		return;
	}
	if (a->pwc.result != PASSWORD_OK || !a->pwc.usable) {
		acct_fail(chk, "The password is incorrect.");
		return;
	}
	switch (a->route->step) {
	case ACCT_PASSWORD_POST:
		a->pwn.params = a->pwc.params;
		auth_hash(chk, acct_hash_work, acct_on_hashed);
		break;
	case ACCT_REAUTH_POST:
		if (!a->s.mfa_enrolled)
			acct_elevate(chk, 0, acct_now());
		else
			acct_load_mfa(chk);
		break;
	default:			/* ACCT_DISABLE_POST */
		acct_load_mfa(chk);
		break;
	}
}

/* Verify the password given on the form (pwc) of <a>'s user. */
void
acct_check_password(struct auth_step *chk)
{
	if (acctstore_user(chk->st, acct_of(chk)->s.user, acct_on_user,
	    chk) == -1)
		auth_step_unavailable(chk);
}

/* Check the new password of <chk> against the rules and the context of
 * the session's user (the email, its org slugs): 0, or -1 and
 * a->refusal. */
static int
acct_password_check(const struct config *cfg, struct auth_step *chk)
{
	struct acct	*a = acct_of(chk);
	const char	*orgs[SESSION_MAX_ORGS];
	size_t		 i;

	for (i = 0; i < a->s.norgs; i++)
		orgs[i] = a->s.orgs[i].slug;
	return password_judge(cfg->pwrules, a->pwn.pw, a->pwn.len,
	    &(struct password_context){ .email = a->s.email, .words = orgs,
	    .nwords = a->s.norgs }, &a->refusal);
}

/* ---- gates and dispatch ---- */

int
account_mfa_required(const struct config *cfg, const struct session *s)
{
	size_t	i;

	if (cfg->mfa_required)
		return 1;
	for (i = 0; i < s->norgs; i++)
		if (config_names_has(&cfg->mfa_orgs, s->orgs[i].slug) ||
		    config_names_has(&cfg->mfa_roles, s->orgs[i].role))
			return 1;
	return 0;
}

int
account_session_gate(struct exchange *ex, const struct session *s)
{
	static const char www[] = "Bearer realm=\"postern\", "
	    "error=\"insufficient_user_authentication\"";

	if (s->mfa_enrolled && !s->mfa) {
		auth_send_to(ex, "/.postern/2fa",
		    "mfa_required", www, "", "mfa_pending");
		return 1;
	}
	if (!s->mfa_enrolled && account_mfa_required(ex->cfg, s)) {
		auth_send_to(ex, "/.postern/2fa/setup",
		    "mfa_enrolment_required", www, "",
		    "mfa_enrolment_required");
		return 1;
	}
	return 0;
}

/* The step itself, once the gates and the rate limit passed. */
static void
acct_dispatch(struct auth_step *chk)
{
	struct exchange	*ex = chk->ex;
	struct acct	*a = acct_of(chk);
	const struct acct_route *r = a->route;
	char		 hashes[ACCTSTORE_BACKUP_CODES][65];

	switch (r->step) {
	case ACCT_2FA_GET:
		if (!a->s.mfa_enrolled)	/* a route wants one: enrol */
			acct_end_detour(chk, "/.postern/2fa/setup", NULL,
			    "mfa_enrolment_required");
		else if (a->s.mfa)
			acct_end_redirect(chk, a->rd);
		else
			acct_end_page(chk, 200, NULL);
		break;
	case ACCT_2FA_POST:
		if (!a->s.mfa_enrolled || a->s.mfa)
			acct_end_redirect(chk, a->rd);
		else
			acct_load_mfa(chk);
		break;
	case ACCT_SETUP_GET:
		if (a->s.mfa_enrolled)
			acct_end_redirect(chk, "/.postern/account");
		else
			acct_setup_start(ex, chk);
		break;
	case ACCT_SETUP_POST:
		if (a->s.mfa_enrolled)
			acct_end_redirect(chk, "/.postern/account");
		else
			acct_load_mfa(chk);
		break;
	case ACCT_REAUTH_GET:
		acct_end_page(chk, 200, NULL);
		break;
	case ACCT_PASSWORD_POST:
		if (ex->cfg->pwrules == NULL ||
		    acct_password_check(ex->cfg, chk) == -1) {
			a->error = ex->cfg->pwrules == NULL ? "Passwords cannot "
			    "be changed here." :
			    loginpage_refusal_key(&a->refusal);
			acct_home_page(chk, 400, "password_rules");
		} else
			acct_check_password(chk);
		break;
	case ACCT_REAUTH_POST:
		acct_check_password(chk);
		break;
	case ACCT_DISABLE_POST:
		if (!a->s.mfa_enrolled)
			acct_end_redirect(chk, "/.postern/account");
		else
			acct_check_password(chk);
		break;
	case ACCT_HOME_GET:
		acct_home_page(chk, 200, NULL);
		break;
	case ACCT_BACKUP_POST:
		if (!a->s.mfa_enrolled)
			acct_end_redirect(chk, "/.postern/account");
		else if (acct_new_codes(a, hashes) == -1 ||
		    acctstore_backup_replace(chk->st, a->s.user, hashes,
		    acct_on_enrolled, chk) == -1)
			auth_step_unavailable(chk);
		OPENSSL_cleanse(hashes, sizeof(hashes));
		break;
	case ACCT_REVOKE_POST:
		if (acctstore_session_revoke(chk->st, a->s.user, a->target,
		    acct_on_revoked, chk) == -1)
			auth_step_unavailable(chk);
		break;
	case ACCT_CODES_POST:
		acct_codes_download(chk);
		break;
	}
}

static void
acct_run(struct exchange *ex, struct auth_step *chk)
{
	struct acct	*a = acct_of(chk);
	const struct acct_route *r = a->route;
	uint64_t	 age = (uint64_t)(acct_now() - a->s.auth_time);

	if ((r->need & ACCT_NEED_MFA) && a->s.mfa_enrolled && !a->s.mfa) {
		acct_end_detour(chk, "/.postern/2fa", r->back, "mfa_pending");
		return;
	}
	if ((r->need & ACCT_NEED_FRESH) && age * 1000 >
	    ex->cfg->account_fresh_auth) {
		acct_end_detour(chk, "/.postern/reauth", r->back,
		    "fresh_auth");
		return;
	}
	if (r->post && r->step != ACCT_REVOKE_POST &&
	    r->step != ACCT_BACKUP_POST &&
	    r->step != ACCT_CODES_POST)		/* codes and passwords */
		auth_rate(&a->rate, chk, "totp", a->s.user, acct_dispatch);
	else
		acct_dispatch(chk);
}

/* A form field copied into <dst>; 0, or -1 if too long. */
static int
acct_field(const struct form *f, const char *name, char *dst, size_t size)
{
	const char	*v = form_get(f, name);

	if (v == NULL)
		v = "";
	if (strlen(v) >= size)
		return -1;
	(void)strcpy(dst, v);
	return 0;
}

/* The backup codes of a download's form, "code0" on: NULL, or why not. */
static const char *
acct_take_codes(struct acct *a, const struct form *f)
{
	char		 name[16], norm[BACKUP_CHARS + 1];
	const char	*v;

	for (a->ncodes = 0; a->ncodes < BACKUP_CODES; a->ncodes++) {
		(void)snprintf(name, sizeof(name), "code%d", a->ncodes);
		if ((v = form_get(f, name)) == NULL)
			break;
		if (backup_normalize(v, norm, sizeof(norm)) == -1 ||
		    strlen(v) > BACKUP_CODE_LEN)
			return "The form could not be read.";
		(void)strcpy(a->codes[a->ncodes], v);
	}
	OPENSSL_cleanse(norm, sizeof(norm));
	return a->ncodes == 0 ? "The form could not be read." : NULL;
}

/* The fields each POST step takes; NULL, or why the form is not usable. */
static const char *
acct_take_form(struct acct *a, const struct form *f)
{
	const char	*pw = form_get(f, "password");
	const char	*np = form_get(f, "new_password");
	const char	*cf = form_get(f, "confirm");

	if (acct_field(f, "code", a->code, sizeof(a->code)) == -1 ||
	    acct_field(f, "backup", a->backup, sizeof(a->backup)) == -1 ||
	    acct_field(f, "session", a->target, sizeof(a->target)) == -1)
		return "The form could not be read.";
	switch (a->route->step) {
	case ACCT_2FA_POST:
		if (a->code[0] == '\0' && a->backup[0] == '\0')
			return "Enter a code.";
		break;
	case ACCT_SETUP_POST:
		if (a->code[0] == '\0')
			return "Enter the code your app shows.";
		break;
	case ACCT_CODES_POST:
		return acct_take_codes(a, f);
	case ACCT_REVOKE_POST:
		if (strlen(a->target) != SESSION_HASH_LEN ||
		    strspn(a->target, encode_hex_lower) != SESSION_HASH_LEN)
			return "The form could not be read.";
		break;
	case ACCT_PASSWORD_POST:
		if (np == NULL || cf == NULL || *np == '\0' ||
		    strcmp(np, cf) != 0)
			return "The new passwords do not match.";
		if (strlen(np) > PASSWORD_MAX_BYTES ||
		    (a->pwn.pw = strdup(np)) == NULL)
			return "The new password is too long.";
		a->pwn.len = strlen(np);
		__attribute__((fallthrough));	/* FALLTHROUGH */
	case ACCT_REAUTH_POST:
	case ACCT_DISABLE_POST:
		if (pw == NULL || *pw == '\0' ||
		    strlen(pw) > PASSWORD_MAX_BYTES)
			return "Enter your password.";
		if ((a->pwc.password = strdup(pw)) == NULL)
			return "The form could not be read.";
		a->pwc.pwlen = strlen(pw);
		break;
	default:
		break;
	}
	return NULL;
}

static const struct acct_route *
acct_route_of(const struct request *req)
{
	size_t	i;
	int	post = req->method == HTTP_POST;

	for (i = 0; i < sizeof(acct_routes) / sizeof(acct_routes[0]); i++)
		if (strcmp(acct_routes[i].path, req->path) == 0 &&
		    acct_routes[i].post == post)
			return &acct_routes[i];
	return NULL;
}

static struct acct *
acct_new(const struct acct_route *r)
{
	struct acct	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->route = r;
	a->last_step = -1;
	(void)strcpy(a->rd, "/");
	return a;
}

/* A form that cannot go on: its page again with <why>, no session work. */
static void
acct_form_refused(struct exchange *ex, struct acct *a, int status,
    const char *why, const char *reason)
{
	a->error = why;
	if (a->route->step == ACCT_REAUTH_POST || a->route->step ==
	    ACCT_2FA_POST || a->route->step == ACCT_SETUP_POST) {
		/* pages that need no session data to show again */
		if (a->route->step == ACCT_SETUP_POST) {
			acct_detour(ex, "/.postern/2fa/setup", NULL, a->rd,
			    reason);
			acct_free(a);
			return;
		}
		acct_page(ex, a, status, NULL, reason);
		acct_free(a);
		return;
	}
	acct_free(a);
	client_answer(ex, &(struct pages_resp){ .status = status }, reason);
}

static void
acct_on_form(struct exchange *ex, struct evbuffer *body)
{
	const struct acct_route *r = acct_route_of(ex->req);
	struct acct	*a;
	struct form	 f;
	const char	*why;
	size_t		 len = evbuffer_get_length(body);

	if (r == NULL || (a = acct_new(r)) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 503 },
		    "nomem");
		return;
	}
	if (form_parse((const char *)evbuffer_pullup(body, -1), len, &f,
	    &why) == -1) {
		acct_form_refused(ex, a, 400, "The form could not be read. "
		    "Please try again.", why);
		return;
	}
	auth_rd(ex, form_get(&f, "rd"), a->rd, sizeof(a->rd));
	if (!auth_form_genuine(ex, &f)) {
		form_free(&f);
		acct_form_refused(ex, a, 403, "This form has expired. Please "
		    "try again.", "csrf");
		return;
	}
	why = acct_take_form(a, &f);
	form_free(&f);
	if (why != NULL) {
		acct_form_refused(ex, a, 400, why, "bad_form");
		return;
	}
	acct_start(ex, a);
}

int
account_builtin(struct exchange *ex)
{
	const struct acct_route *r;
	struct request	*req = ex->req;
	struct acct	*a;
	struct form	 f;
	const char	*why;
	int		 known = 0;
	size_t		 i;

	for (i = 0; i < sizeof(acct_routes) / sizeof(acct_routes[0]); i++)
		known |= strcmp(acct_routes[i].path, req->path) == 0;
	if (!known)
		return 0;
	if (ex->cfg->keys == NULL || !ex->cfg->keys->present) {
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if ((r = acct_route_of(req)) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET, POST\r\n" }, "method");
		return 1;
	}
	if (r->post) {
		client_read_form(ex, FORM_MAX_BODY, acct_on_form);
		return 1;
	}
	if ((a = acct_new(r)) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 503 },
		    "nomem");
		return 1;
	}
	if (req->query != NULL && form_parse(req->query, strlen(req->query),
	    &f, &why) == 0) {
		auth_rd(ex, form_get(&f, "rd"), a->rd, sizeof(a->rd));
		form_free(&f);
	}
	acct_start(ex, a);
	return 1;
}

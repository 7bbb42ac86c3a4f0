/*
 * The account pages' markup (see account.h): the second step, enrolment,
 * backup codes, step-up and the overview, built from acctpage.h's blocks.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "account-int.h"
#include "acctpage.h"
#include "auth-int.h"
#include "client.h"
#include "catalog.h"
#include "config.h"
#include "encode.h"
#include "exchange.h"
#include "request.h"
#include "loginpage.h"
#include "pages.h"
#include "qr.h"

/* ---- the overview's sessions ---- */

/* Session <e> (ACCTSTORE_SESSION_FIELDS replies) into <r>: 0, or -1 if
 * it is not one. */
static int
acct_sess_read(const redisReply *const *e, struct acct_sess *r)
{
	size_t	i;

	for (i = 0; i < ACCTSTORE_SESSION_FIELDS; i++)
		if (e[i]->type != REDIS_REPLY_STRING)
			return -1;
	if (e[0]->len != SESSION_HASH_LEN ||
	    strspn(e[0]->str, encode_hex_lower) != SESSION_HASH_LEN)
		return -1;
	memcpy(r->hash, e[0]->str, SESSION_HASH_LEN + 1);
	r->created = strtoll(e[1]->str, NULL, 10);
	r->last_seen = strtoll(e[2]->str, NULL, 10);
	r->mfa = strcmp(e[4]->str, "1") == 0;
	(void)snprintf(r->ip, sizeof(r->ip), "%s", e[5]->str);
	uagent_label(e[6]->str, r->device, sizeof(r->device));
	return 0;
}

/* The sessions of the overview. */
static void
acct_on_sessions_reply(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct acct		*a = acct_of(chk);
	size_t			 i, n;

	if (auth_step_reply(chk, reply, err) == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements % ACCTSTORE_SESSION_FIELDS != 0) {
		auth_step_unavailable(chk);
		return;
	}
	n = reply->elements / ACCTSTORE_SESSION_FIELDS;
	free(a->sessions);
	a->nsessions = 0;
	if ((a->sessions = calloc(n + 1, sizeof(*a->sessions))) == NULL) {
		auth_step_unavailable(chk);
		return;
	}
	for (i = 0; i < n; i++)
		if (acct_sess_read((const redisReply *const *)reply->element +
		    i * ACCTSTORE_SESSION_FIELDS, &a->sessions[a->nsessions]) ==
		    0)
			a->nsessions++;
	acct_end_page(chk, a->status, a->reason);
}

/* The overview (with its sessions) as the answer, status <status>. */
void
acct_home_page(struct auth_step *chk, int status, const char *reason)
{
	struct acct	*a = acct_of(chk);

	a->status = status;
	a->reason = reason;
	if (acctstore_sessions(chk->st, a->s.user, acct_on_sessions_reply,
	    chk) == -1)
		auth_step_unavailable(chk);
}

/* ---- the backup codes as a file ---- */

/* The file's first lines, in the language <ex> asks for (<f> set). */
static void
acct_codes_header(const struct exchange *ex, const struct acct *a,
    struct evbuffer *body, struct pages_frame *f)
{
	const struct pages_var v[] = { { "email", a->s.email, 0 } };
	char	title[400];

	*f = (struct pages_frame){ .cat = ex->cfg->page_catalog,
	    .lang = catalog_pick(ex->cfg->page_catalog,
	    request_header(ex->req, "accept-language"), ex->cfg->page_lang) };
	(void)evbuffer_add_printf(body, "%s\r\n%s\r\n\r\n",
	    pages_tf(f, "mfa.file_title", v, 1, title, sizeof(title)),
	    pages_t(f, "mfa.file_intro"));
}

static void
acct_on_codes_known(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct acct		*a = acct_of(chk);
	struct exchange		*ex;
	struct evbuffer		*body;
	struct pages_frame	 f;
	int			 i;

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		/* used, replaced, or never the user's: nothing to give */
		a->error = "These backup codes are no longer valid.";
		acct_home_page(chk, 410, "backup_codes_stale");
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		auth_step_unavailable(chk);
		return;
	}
	acct_codes_header(ex, a, body, &f);
	for (i = 0; i < a->ncodes; i++)
		(void)evbuffer_add_printf(body, "%s\r\n", a->codes[i]);
	if ((ex = auth_step_done(chk)) != NULL)
		client_answer(ex, &(struct pages_resp){ .status = 200,
		    .body = body, .body_type = "text/plain; charset=utf-8",
		    .lang = catalog_tag(f.cat, f.lang),
		    .extra = "Content-Disposition: attachment; "
		    "filename=\"backup-codes.txt\"\r\n" }, NULL);
	evbuffer_free(body);		/* emptied by the send */
}

void
acct_codes_download(struct auth_step *chk)
{
	struct acct	*a = acct_of(chk);
	char		 norm[BACKUP_CHARS + 1];
	char		 hashes[BACKUP_CODES][65];
	int		 i;

	for (i = 0; i < a->ncodes; i++) {
		(void)backup_normalize(a->codes[i], norm, sizeof(norm));
		backup_hash(norm, hashes[i]);
	}
	OPENSSL_cleanse(norm, sizeof(norm));
	if (acctstore_backup_known(chk->st, a->s.user, hashes, a->ncodes,
	    acct_on_codes_known, chk) == -1)
		auth_step_unavailable(chk);
	OPENSSL_cleanse(hashes, sizeof(hashes));
}

/* ---- pages ---- */

/* The page's words in its language: an English text of the message
 * catalogue (catalog.h) reads as its key there. */
#define T(s)	pages_t(&lp->frame, (s))

/* Sign out of this session: the logout form (CSRF-checked POST). */
static int
acct_render_signout(struct evbuffer *out, const struct loginpage *lp)
{
	return acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/logout", .submit = "Sign out",
	    .secondary = 1 });
}

/* Render <a>'s page for its step into <out>; see acct_render(). */
static int	acct_render(struct evbuffer *, const struct loginpage *,
		    void *);

/*
 * The name of the app checked return-to URL <rd> leads to: the app of its
 * host, or for a path the app of <ex>'s host; NULL when none serves it.
 */
static const char *
acct_back_app(const struct exchange *ex, const char *rd)
{
	const struct config_app *app = NULL;
	char		 host[256];
	const char	*h;
	size_t		 n, i;

	if (rd[0] == '/' && ex->req->host != NULL)
		app = config_app_for_host(ex->cfg, ex->req->host);
	else if (rd[0] != '/') {
		if ((h = strstr(rd, "://")) == NULL)
			return NULL;
		h += 3;
		n = strcspn(h, ":/?#");
		if (n == 0 || n >= sizeof(host))
			return NULL;
		for (i = 0; i < n; i++)
			host[i] = (char)tolower((unsigned char)h[i]);
		host[n] = '\0';
		app = config_app_for_host(ex->cfg, host);
	}
	return app != NULL ? app->name : NULL;
}

void
acct_page(struct exchange *ex, struct acct *a, int status, const char *extra,
    const char *reason)
{
	struct loginpage lp = { .rd = a->rd, .error = a->error,
	    .notice = a->notice, .refused = &a->refusal };

	a->back = acct_back_app(ex, a->rd);

	auth_page_ctx(ex, status, &lp, acct_render, a, extra, reason);
}

static const struct acctpage_field acct_f_code[] = {
	{ "code", "Authentication code", "text", "one-time-code", "numeric",
	    NULL, NULL },
};
static const struct acctpage_field acct_f_backup[] = {
	{ "backup", "Backup code", "text", "off", NULL, NULL, NULL },
};
static const struct acctpage_field acct_f_password[] = {
	{ "password", "Password", "password", "current-password", NULL, NULL, NULL },
};
static const struct acctpage_field acct_f_password_code[] = {
	{ "password", "Password", "password", "current-password", NULL, NULL, NULL },
	{ "code", "Authentication code", "text", "one-time-code", "numeric",
	    NULL, NULL },
};
/* The overview's second form with a password: ids of its own. */
static const struct acctpage_field acct_f_disable[] = {
	{ "password", "Password", "password", "current-password", NULL, NULL,
	    "off_password" },
	{ "code", "Authentication code", "text", "one-time-code", "numeric",
	    NULL, "off_code" },
};
static const struct acctpage_field acct_f_change[] = {
	{ "password", "Current password", "password", "current-password", NULL,
	    NULL, NULL },
	{ "new_password", "New password", "password", "new-password", NULL,
	    NULL, NULL },
	{ "confirm", "New password again", "password", "new-password", NULL,
	    NULL, NULL },
};

/*
 * Append template <id> after the frame: <v>[0..<n>) with the last <nb>
 * values (raw) the text of buffers <b>, which this frees.  0 or -1.
 */
static int
acct_tmpl(struct evbuffer *out, const struct loginpage *lp,
    enum pagetmpl_id id, struct pages_var *v, size_t n, struct evbuffer **b,
    size_t nb, int built)
{
	size_t	i;
	int	rc = built;

	for (i = 0; i < nb; i++) {
		if (b[i] == NULL || evbuffer_add(b[i], "", 1) != 0)
			rc = -1;
		else
			v[n - nb + i].val = (const char *)evbuffer_pullup(b[i],
			    -1);
	}
	if (rc == 0)
		rc = pages_render(out, &lp->frame, id, v, n);
	for (i = 0; i < nb; i++)
		if (b[i] != NULL)
			evbuffer_free(b[i]);
	return rc;
}

/* A new buffer each in <b>[0..<nb>); NULL where none: 0, or -1. */
static int
acct_bufs(struct evbuffer **b, size_t nb)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < nb; i++)
		if ((b[i] = evbuffer_new()) == NULL)
			rc = -1;
	return rc;
}

/* The sign-in's second step (mfa_code.html), after the frame: its alert,
 * code form, backup code form and sign-out form made here. */
static int
acct_render_2fa(struct evbuffer *out, const struct loginpage *lp)
{
	struct evbuffer	*b[4];
	struct pages_var v[] = {
		{ "csrf", lp->csrf, 0 }, { "rd", lp->rd, 0 },
		{ "alert", NULL, 1 }, { "form", NULL, 1 },
		{ "backup_form", NULL, 1 }, { "signout", NULL, 1 },
	};
	int		 rc = acct_bufs(b, 4);

	if (rc == 0)
		rc = loginpage_alert(b[0], lp) | acctpage_form(b[1], lp,
		    &(struct acctpage_form){ .action = "/.postern/2fa",
		    .submit = "Verify", .fields = acct_f_code, .nfields = 1,
		    .focus = 1 }) | acctpage_form(b[2], lp,
		    &(struct acctpage_form){ .action = "/.postern/2fa",
		    .submit = "Use backup code", .secondary = 1,
		    .fields = acct_f_backup, .nfields = 1 }) |
		    acct_render_signout(b[3], lp);
	return acct_tmpl(out, lp, PAGETMPL_MFA_CODE, v, 6, b, 4, rc);
}

static int
acct_render_setup(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	struct evbuffer	*b[5];
	struct pages_var v[] = {
		{ "csrf", lp->csrf, 0 }, { "alert", NULL, 1 },
		{ "qr", NULL, 1 }, { "key", NULL, 1 }, { "form", NULL, 1 },
		{ "signout", NULL, 1 },
	};
	int		 rc = acct_bufs(b, 5);

	if (rc == 0)
		rc = loginpage_alert(b[0], lp) | qr_svg(a->uri, b[1]) |
		    acctpage_key(b[2], T("Or enter this key by hand:"), a->b32) |
		    acctpage_form(b[3], lp, &(struct acctpage_form){
		    .action = "/.postern/2fa/setup", .submit = "Turn on",
		    .fields = acct_f_code, .nfields = 1, .focus = 1 }) |
		    acct_render_signout(b[4], lp);
	return acct_tmpl(out, lp, PAGETMPL_MFA_SETUP, v, 6, b, 5, rc);
}

static int
acct_render_codes(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	const char	*codes[BACKUP_CODES];
	struct evbuffer	*b[3];
	struct pages_var v[] = {
		{ "csrf", lp->csrf, 0 }, { "next", a->rd, 0 },
		{ "alert", NULL, 1 }, { "codes", NULL, 1 }, { "tools", NULL, 1 },
	};
	int		 i, rc = acct_bufs(b, 3);

	for (i = 0; i < a->ncodes; i++)
		codes[i] = a->codes[i];
	if (rc == 0)
		rc = loginpage_alert(b[0], lp) | acctpage_codes(b[1], codes,
		    (size_t)a->ncodes) | acctpage_codes_tools(b[2], lp,
		    "/.postern/account/backup-codes/download", codes,
		    (size_t)a->ncodes);
	return acct_tmpl(out, lp, PAGETMPL_BACKUP_CODES, v, 5, b, 3, rc);
}

/* The re-authentication page's template (reauth.html), after the frame:
 * its alert, password (+ code) form and sign-out form made here. */
static int
acct_render_reauth(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	struct evbuffer	*b[3];
	struct pages_var v[] = {
		{ "csrf", lp->csrf, 0 }, { "rd", lp->rd, 0 },
		{ "email", a->s.email, 0 }, { "alert", NULL, 1 },
		{ "form", NULL, 1 }, { "signout", NULL, 1 },
	};
	int		 rc = acct_bufs(b, 3);

	if (rc == 0)
		rc = loginpage_alert(b[0], lp) | acctpage_form(b[1], lp,
		    &(struct acctpage_form){ .action = "/.postern/reauth",
		    .submit = "Continue", .fields = a->s.mfa_enrolled ?
		    acct_f_password_code : acct_f_password,
		    .nfields = a->s.mfa_enrolled ? 2 : 1, .focus = 1 }) |
		    acct_render_signout(b[2], lp);
	return acct_tmpl(out, lp, PAGETMPL_REAUTH, v, 6, b, 3, rc);
}

/* <t> as "2026-12-07 04:50 UTC" into <buf>. */
static void
acct_time(int64_t t, char *buf, size_t size)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(buf, size, "-");
}

/* Most recently active first. */
static int
acct_sess_cmp(const void *x, const void *y)
{
	const struct acct_sess *p = x, *q = y;

	return (p->last_seen < q->last_seen) - (p->last_seen > q->last_seen);
}

/* One session of the list: device, address, times, and this device or
 * its "Sign out" (revoke) form. */
static int
acct_render_session(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a, const struct acct_sess *r)
{
	static const char tmpl[] = "<li><strong>{{device}}</strong> {{this}}"
	    "<br><span class=\"muted\">{{t_ip}} {{ip}}<br>{{t_in}} "
	    "{{created}} {{mfa}}<br>{{t_last}} {{last}}</span>\n";
	static const char *const keys[] = { "device", "this", "ip",
	    "created", "mfa", "last", "t_ip", "t_in", "t_last", NULL };
	char		 c[32], l[32];
	int		 me = strcmp(r->hash, a->s.hash) == 0, rc;
	const char	*vals[] = { r->device, me ? T("(this device)") : "",
	    r->ip[0] != '\0' ? r->ip : T("unknown"), c, r->mfa ?
	    T("with two-step verification") : "", l, T("IP address"),
	    T("Signed in"), T("Last active") };

	acct_time(r->created, c, sizeof(c));
	acct_time(r->last_seen, l, sizeof(l));
	rc = pages_fill(out, tmpl, keys, vals);
	if (!me)
		rc |= acctpage_form(out, lp, &(struct acctpage_form){
		    .action = "/.postern/account/sessions/revoke",
		    .submit = "Sign out", .secondary = 1,
		    .hidden = { { "session", r->hash } } });
	return rc | (evbuffer_add_printf(out, "</li>\n") < 0);
}

/* The sessions, this device first, then the most recently active. */
static int
acct_render_sessions(struct evbuffer *out, const struct loginpage *lp,
    struct acct *a)
{
	size_t	i;
	int	rc;

	qsort(a->sessions, a->nsessions, sizeof(*a->sessions), acct_sess_cmp);
	rc = evbuffer_add_printf(out, "<ul class=\"sessions\">\n") < 0;
	for (i = 0; i < a->nsessions; i++)
		if (strcmp(a->sessions[i].hash, a->s.hash) == 0)
			rc |= acct_render_session(out, lp, a, &a->sessions[i]);
	for (i = 0; i < a->nsessions; i++)
		if (strcmp(a->sessions[i].hash, a->s.hash) != 0)
			rc |= acct_render_session(out, lp, a, &a->sessions[i]);
	return rc | (evbuffer_add_printf(out, "</ul>\n") < 0);
}

/* "Back to <app>": rd if it leads somewhere, else the app's root. */
static int
acct_render_back(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	const struct pages_var v[] = { { "app", a->back, 0 } };
	char	text[300];

	if (a->back == NULL)
		return 0;
	return acctpage_link(out, a->rd, pages_tf(&lp->frame,
	    "account.back_to", v, 1, text, sizeof(text)));
}

/* The second factor's part of the overview: backup codes and turning it
 * off, apart, the second marked as the dangerous one. */
static int
acct_render_mfa(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	int	rc;

	rc = acctpage_heading(out, 2, T("Two-step verification"));
	if (!a->s.mfa_enrolled)
		return rc | acctpage_para(out, T("Two-step verification is off."),
		    NULL) | acctpage_link(out, "/.postern/2fa/setup",
		    T("Set up two-step verification"));
	rc |= acctpage_para(out, T("Two-step verification is on."), NULL);
	rc |= acctpage_section(out, 1);
	rc |= acctpage_heading(out, 3, T("Backup codes"));
	rc |= acctpage_para(out, T("New codes replace all your unused ones."),
	    NULL);
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/account/backup-codes",
	    .submit = "New backup codes", .secondary = 1 });
	rc |= acctpage_section(out, 0);
	rc |= acctpage_danger(out, 1);
	rc |= acctpage_heading(out, 3, T("Turn off two-step verification"));
	rc |= acctpage_para(out, T("Your account will be protected by your "
	    "password alone."), NULL);
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/account/2fa/disable",
	    .submit = "Turn off two-step verification", .danger = 1,
	    .fields = acct_f_disable, .nfields = 2 });
	return rc | acctpage_danger(out, 0);
}

/* The overview (account.html), after the frame: the way back, the
 * forms, the two-step part and the sessions made here, each escaped. */
static int
acct_render_home(struct evbuffer *out, const struct loginpage *lp,
    struct acct *a)
{
	struct evbuffer	*b[6];
	struct pages_var v[] = {
		{ "csrf", lp->csrf, 0 }, { "rd", lp->rd, 0 },
		{ "email", a->s.email, 0 }, { "alert", NULL, 1 },
		{ "back", NULL, 1 }, { "signout", NULL, 1 },
		{ "password_form", NULL, 1 }, { "mfa", NULL, 1 },
		{ "sessions", NULL, 1 },
	};
	int		 rc = acct_bufs(b, 6);

	if (rc == 0)
		rc = loginpage_alert(b[0], lp) | acct_render_back(b[1], lp, a) |
		    acct_render_signout(b[2], lp) | acctpage_form(b[3], lp,
		    &(struct acctpage_form){
		    .action = "/.postern/account/password",
		    .submit = "Change password", .fields = acct_f_change,
		    .nfields = 3 }) | acct_render_mfa(b[4], lp, a) |
		    acct_render_sessions(b[5], lp, a);
	return acct_tmpl(out, lp, PAGETMPL_ACCOUNT, v, 9, b, 6, rc);
}

static int
acct_render(struct evbuffer *out, const struct loginpage *lp, void *ctx)
{
	struct acct	*a = ctx;

	/* each template ends the page */
	switch (a->route->step) {
	case ACCT_2FA_GET:
	case ACCT_2FA_POST:
		return pages_begin(out, &lp->frame, "Two-step verification") |
		    acct_render_2fa(out, lp);
	case ACCT_SETUP_GET:
	case ACCT_SETUP_POST:
	case ACCT_BACKUP_POST:
		if (a->ncodes > 0)
			return pages_begin(out, &lp->frame, "Backup codes") |
			    acct_render_codes(out, lp, a);
		return pages_begin(out, &lp->frame, "Set up two-step "
		    "verification") | acct_render_setup(out, lp, a);
	case ACCT_REAUTH_GET:
	case ACCT_REAUTH_POST:
		return pages_begin(out, &lp->frame, "Confirm it's you") |
		    acct_render_reauth(out, lp, a);
	default:
		return pages_begin(out, &lp->frame, "Your account") |
		    acct_render_home(out, lp, a);
	}
}

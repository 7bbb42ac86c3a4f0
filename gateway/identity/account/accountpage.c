/*
 * The account pages' markup (see account.h): the second step, enrolment,
 * backup codes, step-up and the overview, built from acctpage.h's blocks.
 */
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
#include "loginpage.h"
#include "pages.h"
#include "qr.h"

/* ---- pages ---- */

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

void
acct_page(struct exchange *ex, struct acct *a, int status, const char *extra,
    const char *reason)
{
	struct loginpage lp = { .rd = a->rd, .error = a->error,
	    .notice = a->notice };

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

static int
acct_render_2fa(struct evbuffer *out, const struct loginpage *lp)
{
	int	rc;

	rc = acctpage_heading(out, 1, "Two-step verification");
	rc |= loginpage_alert(out, lp);
	rc |= acctpage_para(out, "Enter the 6-digit code from your "
	    "authenticator app.", NULL);
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/2fa", .submit = "Verify",
	    .fields = acct_f_code, .nfields = 1, .focus = 1 });
	rc |= acctpage_heading(out, 2, "Lost your device?");
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/2fa", .submit = "Use backup code",
	    .secondary = 1, .fields = acct_f_backup, .nfields = 1 });
	rc |= acctpage_heading(out, 2, "Not you?");
	return rc | acct_render_signout(out, lp);
}

static int
acct_render_setup(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	int	rc;

	rc = acctpage_heading(out, 1, "Set up two-step verification");
	rc |= loginpage_alert(out, lp);
	rc |= acctpage_para(out, "Scan this code with an authenticator app "
	    "(for example FreeOTP, Aegis or Google Authenticator):", NULL);
	rc |= qr_svg(a->uri, out);
	rc |= acctpage_para(out, "Or enter this key by hand:", a->b32);
	rc |= acctpage_para(out, "Then enter the code the app shows to "
	    "finish.", NULL);
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/2fa/setup", .submit = "Turn on",
	    .fields = acct_f_code, .nfields = 1, .focus = 1 });
	return rc | acct_render_signout(out, lp);
}

static int
acct_render_codes(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	const char	*codes[BACKUP_CODES];
	int		 i, rc;

	for (i = 0; i < a->ncodes; i++)
		codes[i] = a->codes[i];
	rc = acctpage_heading(out, 1, "Your backup codes");
	rc |= loginpage_alert(out, lp);
	rc |= acctpage_para(out, "Each code signs you in once if you lose "
	    "your authenticator. Store them somewhere safe now:",
	    "they will not be shown again.");
	rc |= acctpage_codes(out, codes, (size_t)a->ncodes);
	rc |= acctpage_link(out, a->rd, "Continue");
	return rc;
}

static int
acct_render_reauth(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	int	rc;

	rc = acctpage_heading(out, 1, "Confirm it's you");
	rc |= loginpage_alert(out, lp);
	rc |= acctpage_para(out, "Enter your password again to continue as",
	    a->s.email);
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/reauth", .submit = "Continue",
	    .fields = a->s.mfa_enrolled ? acct_f_password_code :
	    acct_f_password, .nfields = a->s.mfa_enrolled ? 2 : 1,
	    .focus = 1 });
	rc |= acctpage_heading(out, 2, "Not you?");
	return rc | acct_render_signout(out, lp);
}

/* The sessions table: rows are "hash created last_seen mfa\n". */
static int
acct_render_sessions(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	char		 hash[SESSION_HASH_LEN + 1], c[32], l[32];
	const char	*p = a->sessions != NULL ? a->sessions : "";
	long long	 created, last;
	int		 mfa, n, rc = 0;
	time_t		 t;
	struct tm	 tm;

	rc |= evbuffer_add_printf(out, "<table><thead><tr><th>Signed in</th>"
	    "<th>Last active</th><th></th></tr></thead><tbody>\n") < 0;
	while (sscanf(p, "%64s %lld %lld %d\n%n", hash, &created, &last, &mfa,
	    &n) == 4) {
		p += n;
		t = (time_t)created;
		(void)strftime(c, sizeof(c), "%Y-%m-%d %H:%M UTC",
		    gmtime_r(&t, &tm));
		t = (time_t)last;
		(void)strftime(l, sizeof(l), "%Y-%m-%d %H:%M UTC",
		    gmtime_r(&t, &tm));
		rc |= evbuffer_add_printf(out, "<tr><td>%s%s</td><td>%s</td>"
		    "<td>", c, mfa ? " (2-step)" : "", l) < 0;
		if (strcmp(hash, a->s.hash) == 0)
			rc |= evbuffer_add_printf(out, "this device") < 0;
		else
			rc |= acctpage_form(out, lp, &(struct acctpage_form){
			    .action = "/.postern/account/sessions/revoke",
			    .submit = "Sign out", .secondary = 1,
			    .hidden = { { "session", hash } } });
		rc |= evbuffer_add_printf(out, "</td></tr>\n") < 0;
	}
	return rc | (evbuffer_add_printf(out, "</tbody></table>\n") < 0);
}

static int
acct_render_home(struct evbuffer *out, const struct loginpage *lp,
    const struct acct *a)
{
	int	rc;

	rc = acctpage_heading(out, 1, "Your account");
	rc |= loginpage_alert(out, lp);
	rc |= acctpage_para(out, "Signed in as", a->s.email);
	rc |= acctpage_section(out, 1);
	rc |= acctpage_heading(out, 2, "Password");
	rc |= acctpage_form(out, lp, &(struct acctpage_form){
	    .action = "/.postern/account/password",
	    .submit = "Change password", .fields = acct_f_change,
	    .nfields = 3 });
	rc |= acctpage_section(out, 0);
	rc |= acctpage_section(out, 1);
	rc |= acctpage_heading(out, 2, "Two-step verification");
	if (!a->s.mfa_enrolled) {
		rc |= acctpage_para(out, "Two-step verification is off.",
		    NULL);
		rc |= acctpage_link(out, "/.postern/2fa/setup",
		    "Set up two-step verification");
	} else {
		rc |= acctpage_para(out, "Two-step verification is on.", NULL);
		rc |= acctpage_form(out, lp, &(struct acctpage_form){
		    .action = "/.postern/account/backup-codes",
		    .submit = "New backup codes", .secondary = 1 });
		rc |= acctpage_form(out, lp, &(struct acctpage_form){
		    .action = "/.postern/account/2fa/disable",
		    .submit = "Turn off two-step verification",
		    .secondary = 1, .fields = acct_f_disable,
		    .nfields = 2 });
	}
	rc |= acctpage_section(out, 0);
	rc |= acctpage_section(out, 1);
	rc |= acctpage_heading(out, 2, "Where you're signed in");
	rc |= acct_render_sessions(out, lp, a);
	rc |= acct_render_signout(out, lp);
	rc |= acctpage_section(out, 0);
	return rc;
}

static int
acct_render(struct evbuffer *out, const struct loginpage *lp, void *ctx)
{
	const struct acct *a = ctx;
	int		 rc;

	switch (a->route->step) {
	case ACCT_2FA_GET:
	case ACCT_2FA_POST:
		rc = pages_begin(out, &lp->frame, "Two-step verification") |
		    acct_render_2fa(out, lp);
		break;
	case ACCT_SETUP_GET:
	case ACCT_SETUP_POST:
	case ACCT_BACKUP_POST:
		if (a->ncodes > 0)
			rc = pages_begin(out, &lp->frame, "Backup codes") |
			    acct_render_codes(out, lp, a);
		else
			rc = pages_begin(out, &lp->frame, "Set up two-step "
			    "verification") | acct_render_setup(out, lp, a);
		break;
	case ACCT_REAUTH_GET:
	case ACCT_REAUTH_POST:
		rc = pages_begin(out, &lp->frame, "Confirm it's you") |
		    acct_render_reauth(out, lp, a);
		break;
	default:
		rc = pages_begin(out, &lp->frame, "Your account") |
		    acct_render_home(out, lp, a);
		break;
	}
	return rc | acctpage_end(out);
}

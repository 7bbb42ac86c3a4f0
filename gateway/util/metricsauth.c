/*
 * The security families of /metrics (see metrics.h, enum metrics_auth):
 * sign-ins, second factors, magic links, password resets and lockouts by
 * outcome.  Most are counted from the audit events the flows already emit
 * (metrics_audit(), one table from action and reason to counters), so a
 * flow cannot be audited and not counted; the few outcomes that are not
 * audited (a wrong second factor, a refused link) are counted where they
 * happen with metrics_inc().
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "metrics.h"

/* Each counter's family and labels; a family's counters are adjacent. */
static const struct {
	const char	*family;
	const char	*labels;
} metrics_auth_names[METRICS_NAUTH] = {
	[METRICS_SIGNIN_OK] = { "postern_signin_total",
	    "method=\"password\",outcome=\"ok\"" },
	[METRICS_SIGNIN_MFA] = { "postern_signin_total",
	    "method=\"password\",outcome=\"mfa_required\"" },
	[METRICS_SIGNIN_BAD] = { "postern_signin_total",
	    "method=\"password\",outcome=\"bad_credentials\"" },
	[METRICS_SIGNIN_UNKNOWN] = { "postern_signin_total",
	    "method=\"password\",outcome=\"unknown_user\"" },
	[METRICS_SIGNIN_DISABLED] = { "postern_signin_total",
	    "method=\"password\",outcome=\"disabled\"" },
	[METRICS_SIGNIN_LOCKED] = { "postern_signin_total",
	    "method=\"password\",outcome=\"locked\"" },
	[METRICS_SIGNIN_SSO_REQUIRED] = { "postern_signin_total",
	    "method=\"password\",outcome=\"sso_required\"" },
	[METRICS_SIGNIN_OTHER] = { "postern_signin_total",
	    "method=\"password\",outcome=\"other\"" },
	[METRICS_SIGNIN_MAGIC] = { "postern_signin_total",
	    "method=\"magic_link\",outcome=\"ok\"" },
	[METRICS_SIGNIN_SSO_OK] = { "postern_signin_total",
	    "method=\"sso\",outcome=\"ok\"" },
	[METRICS_SIGNIN_SSO_FAILED] = { "postern_signin_total",
	    "method=\"sso\",outcome=\"failed\"" },
	[METRICS_MFA_OK] = { "postern_mfa_total", "outcome=\"ok\"" },
	[METRICS_MFA_WRONG] = { "postern_mfa_total", "outcome=\"wrong\"" },
	[METRICS_MFA_LOCKED] = { "postern_mfa_total", "outcome=\"locked\"" },
	[METRICS_MFA_BACKUP] = { "postern_mfa_total",
	    "outcome=\"backup_code\"" },
	[METRICS_MAGIC_SENT] = { "postern_magic_link_total",
	    "outcome=\"sent\"" },
	[METRICS_MAGIC_USED] = { "postern_magic_link_total",
	    "outcome=\"used\"" },
	[METRICS_MAGIC_REFUSED] = { "postern_magic_link_total",
	    "outcome=\"refused\"" },
	[METRICS_RESET_SENT] = { "postern_password_reset_total",
	    "outcome=\"sent\"" },
	[METRICS_RESET_DONE] = { "postern_password_reset_total",
	    "outcome=\"done\"" },
	[METRICS_RESET_REFUSED] = { "postern_password_reset_total",
	    "outcome=\"refused\"" },
	[METRICS_LOCKOUT] = { "postern_lockouts_total",
	    "flow=\"signin\"" },
};

static const char *const metrics_auth_help[] = {
	"postern_signin_total", "Sign-in attempts, by method and outcome.",
	"postern_mfa_total", "Second-factor checks at sign-in, by outcome.",
	"postern_magic_link_total", "Sign-in links mailed, used and refused.",
	"postern_password_reset_total", "Password-reset links mailed, used "
	    "to set a password, and refused.",
	"postern_lockouts_total", "Sign-in attempts refused because the "
	    "login rate-limit class locked the account or address.",
};

/*
 * Audit events counted: <action>, <ok> (-1: either), the start of the
 * reason (NULL: any), and up to two counters.  The first match wins.
 */
#define METRICS_NONE	METRICS_NAUTH
static const struct {
	const char		*action;
	int			 ok;
	const char		*reason;
	enum metrics_auth	 c[2];
} metrics_audit_rules[] = {
	{ "login", 1, "password, second factor",
	    { METRICS_SIGNIN_MFA, METRICS_NONE } },
	{ "login", 1, "password", { METRICS_SIGNIN_OK, METRICS_NONE } },
	{ "login", 1, "magic_link", { METRICS_SIGNIN_MAGIC,
	    METRICS_MAGIC_USED } },
	{ "login", 0, "bad_password", { METRICS_SIGNIN_BAD, METRICS_NONE } },
	{ "login", 0, "unknown_user", { METRICS_SIGNIN_UNKNOWN,
	    METRICS_NONE } },
	{ "login", 0, "user_disabled", { METRICS_SIGNIN_DISABLED,
	    METRICS_NONE } },
	{ "login", 0, "sso_required", { METRICS_SIGNIN_SSO_REQUIRED,
	    METRICS_NONE } },
	{ "login", 0, NULL, { METRICS_SIGNIN_OTHER, METRICS_NONE } },
	{ "rate_limit_lockout", -1, NULL, { METRICS_SIGNIN_LOCKED,
	    METRICS_LOCKOUT } },
	{ "sso_login", 1, NULL, { METRICS_SIGNIN_SSO_OK, METRICS_NONE } },
	{ "sso_login", 0, NULL, { METRICS_SIGNIN_SSO_FAILED, METRICS_NONE } },
	{ "backup_code_used", 1, NULL, { METRICS_MFA_BACKUP, METRICS_NONE } },
	{ "magic_link_sent", 1, NULL, { METRICS_MAGIC_SENT, METRICS_NONE } },
	{ "reset_link_sent", 1, NULL, { METRICS_RESET_SENT, METRICS_NONE } },
	{ "password_reset", 1, NULL, { METRICS_RESET_DONE, METRICS_NONE } },
};

void
metrics_audit(struct metrics *m, const char *action, int ok,
    const char *reason)
{
	size_t	i, j, n = sizeof(metrics_audit_rules) /
	    sizeof(metrics_audit_rules[0]);

	for (i = 0; action != NULL && i < n; i++) {
		const char *want = metrics_audit_rules[i].reason;

		if (strcmp(action, metrics_audit_rules[i].action) != 0 ||
		    (metrics_audit_rules[i].ok != -1 &&
		    metrics_audit_rules[i].ok != (ok != 0)))
			continue;
		if (want != NULL && (reason == NULL ||
		    strncmp(reason, want, strlen(want)) != 0))
			continue;
		for (j = 0; j < 2; j++)
			if (metrics_audit_rules[i].c[j] != METRICS_NONE)
				metrics_inc(&m->auth[
				    metrics_audit_rules[i].c[j]]);
		return;
	}
}

static const char *
metrics_auth_helptext(const char *family)
{
	size_t	i;

	for (i = 0; i + 1 < sizeof(metrics_auth_help) /
	    sizeof(metrics_auth_help[0]); i += 2)
		if (strcmp(metrics_auth_help[i], family) == 0)
			return metrics_auth_help[i + 1];
	return "Security events by outcome.";
}

int
metrics_auth_render(struct evbuffer *out, const uint64_t auth[METRICS_NAUTH])
{
	const char	*family = "";
	size_t		 i;

	for (i = 0; i < METRICS_NAUTH; i++) {
		if (strcmp(family, metrics_auth_names[i].family) != 0) {
			family = metrics_auth_names[i].family;
			if (metrics_head(out, family, "counter",
			    metrics_auth_helptext(family)) == -1)
				return -1;
		}
		if (evbuffer_add_printf(out, "%s{%s} %" PRIu64 "\n", family,
		    metrics_auth_names[i].labels, auth[i]) < 0)
			return -1;
	}
	return 0;
}

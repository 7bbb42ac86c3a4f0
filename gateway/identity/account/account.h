/*
 * The account pages under /.postern/: the second sign-in step
 * (/.postern/2fa: a TOTP code or a backup code), TOTP enrolment with a QR
 * code (/.postern/2fa/setup), step-up re-authentication (/.postern/reauth),
 * and the account overview (/.postern/account: change password, second
 * factor, backup codes, own sessions).  State lives in Redis (acctstore.h);
 * password checks run on the hash pool; nothing blocks the loop.
 */
#ifndef POSTERN_ACCOUNT_H
#define POSTERN_ACCOUNT_H

struct exchange;
struct config;
struct session;

/* Serve <ex>'s request if its path is an account page: 1, else 0. */
int	account_builtin(struct exchange *ex);
/*
 * Gate a valid session before a route decides: a user with a second
 * factor who has not passed it goes to /.postern/2fa, a user who must
 * enrol one (config mfa:) to /.postern/2fa/setup.  Returns 1 if <ex> was
 * answered, 0 to go on.
 */
int	account_session_gate(struct exchange *ex, const struct session *s);
/* 1 if the configuration makes the user of <s> enrol a second factor. */
int	account_mfa_required(const struct config *cfg,
	    const struct session *s);

#endif

/*
 * The help-desk actions of `postern user` (usercmd.c dispatches them):
 * delete, reset-2fa and invite.  Each takes the invocation, connected to
 * Redis (cli_connect), and a normalised email address; returns the exit
 * status with its message shown.  The audit event is usercmd.c's, written
 * once the action succeeded.
 */
#ifndef POSTERN_USERMOD_H
#define POSTERN_USERMOD_H

struct cli;

/*
 * Delete the user (identity/useradmin.h).  Without <yes>, asks for the
 * email address again on a terminal; with standard input not a terminal,
 * refuses (2).
 */
int	usermod_delete(struct cli *c, const char *email, int yes);
/* Remove the second factor and end the sessions. */
int	usermod_reset_mfa(struct cli *c, const char *email);

/* What `user invite` was given. */
struct usermod_invite {
	const char	*name;		/* --name, or NULL */
	const char	*org;		/* --org, or NULL */
	const char	*role;		/* --role, or NULL */
	const char	*host;		/* --host, or NULL: the first app's */
};

/*
 * Create the user without a password unless it exists, add the
 * membership, and mail a single-use set-password link (account.invite_ttl)
 * through the `invite` template; the token is never printed.
 */
int	usermod_invite(struct cli *c, const char *email,
	    const struct usermod_invite *in);

#endif

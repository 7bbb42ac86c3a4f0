/*
 * `postern user delete | reset-2fa` (see usermod.h): the confirmation,
 * the Redis work of identity/useradmin.c, and the messages.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"
#include "user.h"
#include "useradmin.h"
#include "usermod.h"

/*
 * May <email> be deleted?  With --yes, yes; else the operator types the
 * address again on a terminal.  0, or the exit status (message shown).
 */
static int
usermod_confirm(struct cli *c, const char *email, int yes)
{
	char	line[USER_EMAILMAX + 3];
	size_t	len;

	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		(void)cli_fail(c, "standard input is not a terminal: give "
		    "--yes to delete %s", email);
		return 2;
	}
	fprintf(stderr, "Delete %s, its sessions, memberships, linked "
	    "identities and second factor? This cannot be undone.\n"
	    "Type the email address to confirm: ", email);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return cli_fail(c, "not confirmed: nothing deleted");
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (strcasecmp(line, email) != 0)
		return cli_fail(c, "not confirmed: nothing deleted");
	return 0;
}

int
usermod_delete(struct cli *c, const char *email, int yes)
{
	char	err[STORE_ERRLEN];
	long	n = 0;
	int	rc;

	if ((rc = usermod_confirm(c, email, yes)) != 0)
		return rc;
	rc = user_delete(c->ss, email, &n, err, sizeof(err));
	if (rc == USER_NOTFOUND)
		return cli_fail(c, "no user %s", email);
	if (rc != 0)
		return cli_fail(c, "%s", err);
	printf("user %s deleted; %ld session%s revoked\n", email, n,
	    n == 1 ? "" : "s");
	return 0;
}

int
usermod_reset_mfa(struct cli *c, const char *email)
{
	char	err[STORE_ERRLEN];
	long	n = 0;
	int	rc;

	rc = user_reset_mfa(c->ss, email, &n, err, sizeof(err));
	if (rc == USER_NOTFOUND)
		return cli_fail(c, "no user %s", email);
	if (rc != 0)
		return cli_fail(c, "%s", err);
	printf("second factor of %s removed (seed and backup codes); %ld "
	    "session%s revoked\n", email, n, n == 1 ? "" : "s");
	return 0;
}

int
usermod_invite(struct cli *c, const char *email,
    const struct usermod_invite *in)
{
	(void)email;
	(void)in;
	return cli_fail(c, "not yet");
}

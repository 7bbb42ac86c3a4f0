/*
 * `postern user delete | reset-2fa | invite` (see usermod.h): the
 * confirmation, the invitation's link and mail, the Redis work of
 * identity/useradmin.c, and the messages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "config.h"
#include "listener.h"
#include "mail.h"
#include "mailcmd.h"
#include "session.h"
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

/*
 * The host of the invitation's link into <out>: <want> if an app has it by
 * name, else the first name of an app that is neither "*." nor "{org}";
 * with the port of the first TLS listener unless 443.  0, or -1.
 */
static int
usermod_link_host(const struct config *cfg, const char *want, char *out,
    size_t size)
{
	const char	*h = NULL;
	char		 port[8] = "";
	size_t		 i, k;

	for (i = 0; i < cfg->napps && h == NULL; i++)
		for (k = 0; k < cfg->apps[i].nhosts && h == NULL; k++)
			if (want != NULL ? strcmp(cfg->apps[i].hosts[k],
			    want) == 0 : strcspn(cfg->apps[i].hosts[k],
			    "*{") == strlen(cfg->apps[i].hosts[k]))
				h = cfg->apps[i].hosts[k];
	if (h == NULL)
		return -1;
	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].tls) {
			if (listener_port(&cfg->listen[i].addr) != 443)
				(void)snprintf(port, sizeof(port), ":%u",
				    listener_port(&cfg->listen[i].addr));
			break;
		}
	return snprintf(out, size, "%s%s", h, port) >= (int)size ? -1 : 0;
}

/* The options of an invitation, checked: 0, or the exit status. */
static int
usermod_invite_check(struct cli *c, const struct usermod_invite *in,
    char *host, size_t hostlen)
{
	if ((in->org == NULL) != (in->role == NULL)) {
		(void)cli_fail(c, "give both --org ORG and --role ROLE, or "
		    "neither");
		return 2;
	}
	if (in->org != NULL && (user_slug_valid(in->org) == -1 ||
	    user_role_valid(c->cfg->roles, c->cfg->nroles, in->role) == -1)) {
		(void)cli_fail(c, "'%s' is not a slug, or '%s' not a role of "
		    "the ladder in %s", in->org, in->role, c->config);
		return 2;
	}
	if (!mail_configured(c->cfg))
		return cli_fail(c, "%s has no mail: section: an invitation "
		    "is sent by mail", c->config);
	if (usermod_link_host(c->cfg, in->host, host, hostlen) == -1) {
		(void)cli_fail(c, in->host != NULL ? "--host: no app has the "
		    "host name %s" : "no app has a plain host name for the "
		    "link: give --host", in->host);
		return 2;
	}
	return 0;
}

/* The user of <email>, made without a password if absent: 0 (*<made> 1
 * if made now), or the exit status. */
static int
usermod_invitee(struct cli *c, const char *email, const char *name,
    char *id, int *made)
{
	struct user_membership	m;
	char			err[STORE_ERRLEN];
	int			rc;

	*made = 0;
	rc = user_add(c->ss, email, name != NULL ? name : "", "", id, err,
	    sizeof(err));
	if (rc == 0) {
		*made = 1;
		return 0;
	}
	if (rc != USER_EXISTS)
		return cli_fail(c, "%s", err);
	if ((rc = user_memberships(c->ss, email, &m, err, sizeof(err))) != 0)
		return cli_fail(c, "%s", err);
	if (m.disabled)
		return cli_fail(c, "user %s is disabled: enable it first",
		    email);
	memcpy(id, m.id, USER_IDLEN + 1);
	return 0;
}

/* Store a new token for <id> and mail its link: 0, or the exit status. */
static int
usermod_invite_mail(struct cli *c, const char *email, const char *id,
    const char *host, const char *org)
{
	char	token[SESSION_ID_LEN + 1], hash[65], link[600];
	char	days[24], orgtext[USER_SLUGMAX + 40], err[STORE_ERRLEN];
	char	msgid[400];
	int	rc;

	if (session_new_id(token, sizeof(token)) == -1)
		return cli_fail(c, "no random token");
	session_hash(token, hash);
	if (user_invite_put(c->ss, id, hash, c->cfg->invite_ttl / 1000, err,
	    sizeof(err)) == -1) {
		OPENSSL_cleanse(token, sizeof(token));
		return cli_fail(c, "%s", err);
	}
	(void)snprintf(link, sizeof(link), "https://%s/.postern/reset?token=%s",
	    host, token);
	OPENSSL_cleanse(token, sizeof(token));
	(void)snprintf(days, sizeof(days), "%" PRIu64,
	    (c->cfg->invite_ttl + 86399999) / 86400000);
	(void)snprintf(orgtext, sizeof(orgtext), "%s%s%s", org != NULL ?
	    " (organisation " : "", org != NULL ? org : "", org != NULL ?
	    ")" : "");
	rc = mailcmd_send(c, email, "invite", (const struct mail_var []){
	    { "link", link }, { "product", c->cfg->brand_product },
	    { "email", email }, { "expires_days", days },
	    { "org_text", orgtext } }, 5, msgid, sizeof(msgid));
	OPENSSL_cleanse(link, sizeof(link));
	return rc;
}

int
usermod_invite(struct cli *c, const char *email,
    const struct usermod_invite *in)
{
	char	host[300], id[USER_IDLEN + 1], err[STORE_ERRLEN];
	int	rc, made;

	if ((rc = usermod_invite_check(c, in, host, sizeof(host))) != 0)
		return rc;
	if ((rc = usermod_invitee(c, email, in->name, id, &made)) != 0)
		return rc;
	if (in->org != NULL && user_org_member(c->ss, in->org, email,
	    in->role, err, sizeof(err)) != 0)
		return cli_fail(c, "%s%s", err, made ? " (the user was "
		    "created; invite again once the org exists)" : "");
	if ((rc = usermod_invite_mail(c, email, id, host, in->org)) != 0) {
		fprintf(stderr, "postern user invite: %s%s; no link was "
		    "sent: run the command again\n", made ? "user created" :
		    "existing user", in->org != NULL ? " and membership "
		    "set" : "");
		return rc;
	}
	printf("invitation sent to %s (%s%s%s%s%s); the link works once, "
	    "within %" PRIu64 " hours\n", email, made ? "new user" :
	    "existing user", in->org != NULL ? ", " : "", in->org != NULL ?
	    in->role : "", in->org != NULL ? " of " : "", in->org != NULL ?
	    in->org : "", c->cfg->invite_ttl / 3600000);
	return 0;
}

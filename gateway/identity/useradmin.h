/*
 * The help-desk operations of the command-line tools on one user, each
 * one Lua script on the synchronous store (never half done):
 *
 *   user_delete     the user and everything that names it: its sessions
 *                   (their deletion reaches every gateway's cache through
 *                   Redis' invalidations), emailed links, memberships on
 *                   both sides, linked single sign-on identities, second
 *                   factor; the id goes to the tombstones (users:deleted,
 *                   user.h), so no later user gets it and nothing resolves
 *                   it again
 *   user_reset_mfa  the TOTP seed (enrolled and pending), its replay step,
 *                   the backup codes and the failure count; every session
 *                   of the user ends (their mfa flag went with the factor)
 *   user_invite_put a single-use set-password token for a user: stored
 *                   like a password reset's (otk:reset:, acctstore.h), so
 *                   /.postern/reset takes it, with the invitation's TTL
 *
 * API keys and share links belong to organisations, not to users: a
 * deleted user leaves them to its orgs.  Returns are user.h's: 0,
 * USER_NOTFOUND, or -1 with <err> set; <nrevoked> may be NULL.
 */
#ifndef POSTERN_USERADMIN_H
#define POSTERN_USERADMIN_H

#include <stddef.h>
#include <stdint.h>

struct store_sync;

int	user_delete(struct store_sync *ss, const char *email, long *nrevoked,
	    char *err, size_t errlen);
int	user_reset_mfa(struct store_sync *ss, const char *email,
	    long *nrevoked, char *err, size_t errlen);
/*
 * Store token <hash> (hex SHA-256 of the token mailed) for user <id> with
 * <ttl_s>; the user's earlier reset link stops working.  0 or -1.
 */
int	user_invite_put(struct store_sync *ss, const char *id,
	    const char *hash, uint64_t ttl_s, char *err, size_t errlen);

#endif

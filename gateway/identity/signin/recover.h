/*
 * Sign-in by emailed link (/.postern/magic, when account.magic_links or
 * account.magic_link_orgs allow it) and password reset by email
 * (/.postern/reset): single-use 256-bit tokens, SHA-256 in Redis, consumed
 * with GETDEL by a POST (never by the GET a mail scanner makes), living
 * account.token_ttl; a newer token of a kind replaces the user's older
 * one; a magic link works only in the browser that asked for it (unless
 * account.magic_link_same_browser is false); request forms that answer the
 * same for unknown addresses; a reset applies the password rules and
 * revokes every session.
 */
#ifndef POSTERN_RECOVER_H
#define POSTERN_RECOVER_H

struct exchange;

/*
 * The cookie a magic-link request sets (256 random bits; the token keeps
 * its SHA-256): with account.magic_link_same_browser the link works only
 * where it is presented.  Removed from requests to the upstream.
 */
#define RECOVER_MAGIC_COOKIE	"__Host-postern-magic"

/* Serve /.postern/magic and /.postern/reset: 1, else 0. */
int	recover_builtin(struct exchange *ex);

#endif

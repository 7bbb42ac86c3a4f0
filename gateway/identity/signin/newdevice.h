/*
 * The new-device notice (account.notify_new_device, docs/account.md).
 * When a sign-in (password, emailed link, single sign-on) comes from a
 * browser new to an account that has signed in with other browsers
 * before (session_create() says SESSION_DEVICE_NEW), the user gets a
 * mail: when, from which address and browser, with a single-use "This
 * wasn't me" link.  An account's first browser gets none: there is no
 * earlier one to tell apart from.
 *
 * The link, /.postern/not-me?token=..., holds 256 random bits; Redis
 * keeps only their SHA-256 (NEWDEVICE_KEY_TOKEN) for NEWDEVICE_TTL.  Its
 * GET only shows a button (a mail client that fetches links does
 * nothing); the POST takes the token (GETDEL, once), ends every session
 * of the user from that browser on every instance at once, forgets the
 * browser, audits new_device_denied and goes on to the password reset
 * page with the email filled in.
 */
#ifndef POSTERN_NEWDEVICE_H
#define POSTERN_NEWDEVICE_H

#include "store.h"

struct device_origin;
struct exchange;

/*
 * A "This wasn't me" token (docs/redis.md): "<user id>:<device hash>:
 * <email>" under the hex SHA-256 of the token, taken once.
 */
#define NEWDEVICE_KEY_TOKEN	STORE_LAYOUT("notme:<sha256hex>")
#define NEWDEVICE_TTL		(7 * 86400)	/* seconds */

/*
 * After the session with cookie id <sid> of <user> (<email>) was created
 * from <d>: mail the notice if <d>'s browser was new to the user and
 * the configuration asks for it, and audit new_device.  Never fails the
 * sign-in: a failure to store the token or queue the mail is logged.
 */
void	newdevice_notify(struct exchange *ex, const char *user,
	    const char *email, const struct device_origin *d);
/* Serve /.postern/not-me: 1 if <ex> was that path, else 0. */
int	newdevice_builtin(struct exchange *ex);

#endif

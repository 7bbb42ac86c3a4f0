/*
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
 * Cookies"): a browser that signed in to an account with its password gets
 * __Host-postern-device, "<nonce>.<mac>" where <mac> is an HMAC under the
 * gateway secret of the account's email and the nonce.  A sign-in to that
 * account presenting it is rate-limited per device instead of per
 * account, so an attacker spraying one account from many addresses cannot
 * lock its owner out of a browser they have signed in with before.
 * The cookie's nonce is also the browser's device id for the new-device
 * notice: each sign-in (password, emailed link, single sign-on) keeps the
 * nonce of a valid cookie and sends the cookie again, and the SHA-256 of
 * the nonce joins the user's devices in Redis (session.h,
 * SESSION_LAYOUT_DEVICES).  A browser signed in to two accounts by turns
 * holds one cookie: the other account sees it as new each time it
 * returns.  A secret rotation voids every cookie: every browser is new
 * once.
 */
#ifndef POSTERN_DEVICE_H
#define POSTERN_DEVICE_H

#include <stddef.h>

#include <netinet/in.h>

#include "session.h"
#include "uagent.h"

struct config;
struct exchange;

#define DEVICE_COOKIE		"__Host-postern-device"
#define DEVICE_MAX_AGE		(180 * 86400)	/* seconds */
#define DEVICE_NONCE_LEN	22	/* base64url of 16 random bytes */
#define DEVICE_MAC_LEN		43	/* base64url of HMAC-SHA-256 */
#define DEVICE_VALUE_LEN	(DEVICE_NONCE_LEN + 1 + DEVICE_MAC_LEN)

/*
 * A Set-Cookie header line ("...\r\n") for a new device cookie of the
 * account <email> (lower-cased) into <out> (<size> bytes; 200 is enough).
 * 0, or -1 (no secret, RAND failure, too small): then <out> is "".
 */
int	device_cookie(const struct config *cfg, const char *email, char *out,
	    size_t size);
/*
 * The device cookie in Cookie header <hdr> (NULL for none), if it is one
 * the gateway made for <email> (the MAC compared in constant time): 0 and
 * its nonce into <id> (DEVICE_NONCE_LEN + 1 bytes), else -1 (absent, sent
 * twice, malformed, forged, or another account's).
 */
int	device_check(const struct config *cfg, const char *hdr,
	    const char *email, char *id, size_t size);

/*
 * Where a sign-in comes from, for session_create(): the client address,
 * the cleaned User-Agent and the device (hash of the device cookie's
 * nonce), with the Set-Cookie line the sign-in's answer sends.  Lives in
 * the sign-in flow's state (origin points into it).
 */
struct device_origin {
	struct session_origin origin;
	char		 ip[INET6_ADDRSTRLEN + 8];
	char		 ua[UAGENT_STORE_MAX];
	char		 hash[65];	/* hex SHA-256 of the nonce, or "" */
	char		 cookie[200];	/* "Set-Cookie: ...\r\n", or "" */
};

/*
 * Fill <d> for a sign-in to <email> (lower-cased) by <ex>'s client: the
 * nonce of its valid device cookie for <email>, else a new one.  Without
 * a gateway secret (or on a RAND failure) there is no device: hash and
 * cookie are "" and origin.device NULL.
 */
void	device_origin(struct exchange *ex, const char *email,
	    struct device_origin *d);

#endif

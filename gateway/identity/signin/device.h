/*
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
 * Cookies"): a browser that signed in to an account with its password gets
 * __Host-postern-device, "<nonce>.<mac>" where <mac> is an HMAC under the
 * gateway secret of the account's email and the nonce.  A sign-in to that
 * account presenting it is rate-limited per device instead of per
 * account, so an attacker spraying one account from many addresses cannot
 * lock its owner out of a browser they have signed in with before.
 * Stateless: nothing in Redis; a secret rotation voids every cookie.
 */
#ifndef POSTERN_DEVICE_H
#define POSTERN_DEVICE_H

#include <stddef.h>

struct config;

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

#endif

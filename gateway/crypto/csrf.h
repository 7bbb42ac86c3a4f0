/*
 * CSRF protection of the gateway's forms: a synchronizer token bound to a
 * random pre-session id held in the __Host-postern-csrf cookie (the token is
 * an HMAC of that id under a key derived from the gateway secret, so the
 * server keeps no state), plus an Origin/Referer check.
 */
#ifndef POSTERN_CSRF_H
#define POSTERN_CSRF_H

#include <stddef.h>

#define CSRF_COOKIE	"__Host-postern-csrf"
#define CSRF_ID_LEN	43	/* base64url of 32 random bytes */
#define CSRF_TOKEN_LEN	43	/* base64url of an HMAC-SHA256 */

/* A new random pre-session id (CSRF_ID_LEN chars + NUL). */
int	csrf_new_id(char *out, size_t outlen);
/* The form token for pre-session <id> under <key> (32 bytes). */
int	csrf_token(const unsigned char *key, const char *id, char *out,
	    size_t outlen);
/* Does <token> belong to <id>?  Constant-time; 1 if so. */
int	csrf_verify(const unsigned char *key, const char *id,
	    const char *token);
/*
 * Is a state-changing request from our own origin?  <origin> and <referer>
 * are the request's headers (NULL if absent), <host> its Host header,
 * <tls> whether it came over HTTPS.  Origin, when present, must be exactly
 * the scheme and host; otherwise the Referer must start with them and '/'.
 * A request with neither is refused.
 */
int	csrf_origin_ok(const char *origin, const char *referer,
	    const char *host, int tls);

#endif

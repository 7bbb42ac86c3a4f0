/*
 * Cookie header parsing (RFC 6265 §4.2.1 syntax, read strictly) and the
 * removal of the gateway's own cookies before a request goes upstream;
 * and the check that keeps upstream responses from setting them.
 */
#ifndef POSTERN_COOKIE_H
#define POSTERN_COOKIE_H

#include <stddef.h>

enum cookie_result {
	COOKIE_FOUND = 0,
	COOKIE_ABSENT,		/* no cookie of that name */
	COOKIE_AMBIGUOUS,	/* sent more than once: trust none */
	COOKIE_INVALID,		/* value too long or with bad octets */
};

/*
 * Find cookie <name> in the Cookie header value <hdr> (NULL for none) and
 * copy its value, NUL-terminated, into <out> of <outlen> bytes.  A name
 * that appears twice is COOKIE_AMBIGUOUS: an attacker who can add a cookie
 * (a sibling subdomain, say) must not choose which one we read.
 */
enum cookie_result cookie_get(const char *hdr, const char *name, char *out,
		    size_t outlen);

/*
 * Return a copy of <hdr> without the cookies named in the NULL-terminated
 * <names> (compared exactly, as browsers send them), or NULL if nothing is
 * left.  The caller frees the result.  *<err> is set to -1 on allocation
 * failure (the result is then NULL too), else 0.
 */
char		*cookie_strip(const char *hdr, const char *const *names,
		    int *err);

/* The name every cookie of the gateway's starts with (after an optional
 * __Host- or __Secure- prefix): postern, postern-csrf, postern-share. */
#define COOKIE_OURS	"postern"

/*
 * Whether the cookie name of <len> bytes at <name> is, or could pass for,
 * one of the gateway's: surrounding whitespace and quotes aside, and in
 * any case, an optional "__Host-" or "__Secure-" then "postern" alone or
 * followed by "-".
 */
int		 cookie_name_ours(const char *name, size_t len);

/*
 * Whether the Set-Cookie (or Set-Cookie2) header value <value> would set,
 * replace or delete a cookie of the gateway's (cookie_name_ours()): an
 * upstream must never touch the session.  Each comma-separated piece is
 * checked, in case several lines were folded into one.
 */
int		 cookie_set_ours(const char *value);

#endif

/*
 * Cookie header parsing (RFC 6265 §4.2.1 syntax, read strictly) and the
 * removal of the gateway's own cookies before a request goes upstream.
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

#endif

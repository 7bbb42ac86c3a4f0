/*
 * Parsers of the small value syntaxes shared by the configuration and the
 * policy files: durations, sizes, integers, booleans, addresses, CIDR
 * prefixes, host names and upstream URLs.  They know nothing of YAML: each
 * takes a NUL-terminated string, returns 0 or -1, and on -1 writes a short
 * human reason (without the input and without a trailing period) into
 * <err> of <errlen> bytes.  The caller adds the key name and the position.
 */
#ifndef POSTERN_PARSE_H
#define POSTERN_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "confaddr.h"
#include "confapp.h"

#define PARSE_ERRLEN	160	/* enough for every reason below */

/*
 * A duration: one or more <digits><unit> groups, units "d", "h", "m", "s",
 * "ms", each at most once and largest first ("1h30m", "500ms", "7d").  A bare
 * number is rejected: "30" could mean seconds or milliseconds.  Stores
 * milliseconds in *<ms>; overflow of uint64 is an error.
 */
int	parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen);

/*
 * A size in bytes: <digits> with an optional unit: "B", binary "KiB", "MiB",
 * "GiB", "TiB" (powers of 1024) or decimal "KB", "MB", "GB", "TB" (powers of
 * 1000).  A bare number is bytes.  Overflow of uint64 is an error.
 */
int	parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/* A decimal integer in [<min>, <max>]: digits only, no sign, no spaces. */
int	parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	    char *err, size_t errlen);

/* "true" or "false" (YAML 1.2 core schema spelling; no yes/no/on/off). */
int	parse_bool(const char *s, int *out, char *err, size_t errlen);

/*
 * An address to listen on or connect to: "host:port" where host is an IPv4
 * literal or "localhost", "[v6]:port", or "unix:/absolute/path".  Ports are
 * 1-65535 in decimal.  Never queries DNS.  Fills <a> (a->text is a copy of
 * <s>); free with parse_addr_free().
 */
int	parse_addr(const char *s, struct config_addr *a, char *err,
	    size_t errlen);
/* Frees a->text and zeroes <a>; NULL-safe. */
void	parse_addr_free(struct config_addr *a);

/*
 * Resolve <host> (no brackets) and numeric <port> into <a> with
 * getaddrinfo(AI_NUMERICSERV); the first address wins.  With <numeric>,
 * only IP literals and "localhost" are accepted and DNS is never asked.
 * Does not touch a->text.
 */
int	parse_resolve(const char *host, const char *port, int numeric,
	    struct config_addr *a, char *err, size_t errlen);

/*
 * A prefix "10.0.0.0/8", "fd00::/8"; a plain address is /32 or /128.  Host
 * bits set after the prefix are an error (the reason names the network).
 */
int	parse_cidr(const char *s, struct config_cidr *c, char *err,
	    size_t errlen);

/*
 * A host name as used in Host headers, without a port: letters, digits,
 * '-' and '.', labels of 1-63 bytes, 253 bytes in all; with <wildcard> a
 * leading "*." is allowed.  IPv4 literals pass; an IPv6 literal must be
 * bracketed ("[::1]").  Upper case is accepted (callers lower-case).
 */
int	parse_host(const char *s, int wildcard, char *err, size_t errlen);

/*
 * An upstream URL: "http://host[:port]" or "https://host[:port]", with at
 * most a lone "/" after the authority (no path, query, fragment or userinfo
 * yet).  u->host is lower-case and unbracketed (add brackets for an IPv6
 * Host header), u->port the numeric port (default 80 or 443).  IP literals
 * and "localhost" are resolved into u->addr; for other names u->addr.sslen
 * is 0 and the caller resolves with parse_resolve().  u->addr.text is
 * "host:port" as written.  Free with parse_url_free().
 */
int	parse_url(const char *s, struct config_upstream *u, char *err,
	    size_t errlen);
/* Frees the strings of <u> and zeroes it; NULL-safe. */
void	parse_url_free(struct config_upstream *u);

/*
 * Copy at most <max> bytes of <s> into <dst> (of <size> bytes) for quoting
 * in a message: bytes outside printable ASCII become '?', a cut is marked
 * with "...".  Returns <dst>.
 */
char	*parse_printable(char *dst, size_t size, const char *s, size_t max);

#endif

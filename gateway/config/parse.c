/*
 * Parsers of the value syntaxes of configuration and policy files (see
 * parse.h).  Everything here is strict: a value is either exactly one of
 * the documented forms or an error with a reason; nothing is guessed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"

#define PARSE_HOSTMAX	253

struct parse_unit {
	const char	*name;
	uint64_t	 mult;
};

/* Largest first: a combined duration must list its units in this order. */
static const struct parse_unit parse_dur_units[] = {
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

static const struct parse_unit parse_size_units[] = {
	{ "", 1 },
	{ "B", 1 },
	{ "KiB", 1ULL << 10 },
	{ "MiB", 1ULL << 20 },
	{ "GiB", 1ULL << 30 },
	{ "TiB", 1ULL << 40 },
	{ "KB", 1000ULL },
	{ "MB", 1000ULL * 1000 },
	{ "GB", 1000ULL * 1000 * 1000 },
	{ "TB", 1000ULL * 1000 * 1000 * 1000 },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static int
parse_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
parse_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
parse_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int
parse_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char *
parse_printable(char *dst, size_t size, const char *s, size_t max)
{
	size_t	i, n = 0;

	if (size < 4) {		/* too small for a cut mark: callers pass more */
		if (size > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; s[i] != '\0' && i < max && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i] != '\0') {
		n = n > size - 4 ? size - 4 : n;
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return dst;
}

/*
 * Leading decimal digits of *<sp> into *<out>; advances *<sp>.  Returns -1
 * if there are none or if the value does not fit in uint64.
 */
static int
parse_digits(const char **sp, uint64_t *out, char *err, size_t errlen)
{
	const char	*s = *sp;
	uint64_t	 v = 0;

	if (!parse_isdigit((unsigned char)*s))
		return parse_fail(err, errlen, "expected a number");
	for (; parse_isdigit((unsigned char)*s); s++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return parse_fail(err, errlen, "number too large");
	}
	*sp = s;
	*out = v;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	uint64_t	v = 0;

	if (parse_digits(&s, &v, err, errlen) == -1)
		return -1;
	if (*s != '\0')
		return parse_fail(err, errlen, "expected a whole number");
	if (v < min || v > max)
		return parse_fail(err, errlen, "out of range (%" PRIu64
		    " to %" PRIu64 ")", min, max);
	*out = v;
	return 0;
}

/* One "<digits><unit>" group of a duration; *<last> orders the units. */
static int
parse_dur_group(const char **sp, size_t *last, uint64_t *ms, char *err,
    size_t errlen)
{
	const char	*s = *sp, *u;
	uint64_t	 n = 0;
	size_t		 i, len;

	if (*last != SIZE_MAX && !parse_isdigit((unsigned char)*s))
		return parse_fail(err, errlen, "unexpected character '%c'",
		    *s >= 0x20 && *s < 0x7f ? *s : '?');
	if (parse_digits(&s, &n, err, errlen) == -1)
		return -1;
	for (u = s; parse_isalpha((unsigned char)*s); s++)
		;
	if ((len = (size_t)(s - u)) == 0)
		return parse_fail(err, errlen, *s == '\0' ? "missing unit "
		    "(ms, s, m, h or d, e.g. 30s)" : "unexpected character "
		    "'%c'", *s >= 0x20 && *s < 0x7f ? *s : '?');
	for (i = 0; i < NITEMS(parse_dur_units); i++)
		if (strlen(parse_dur_units[i].name) == len &&
		    memcmp(parse_dur_units[i].name, u, len) == 0)
			break;
	if (i == NITEMS(parse_dur_units))
		return parse_fail(err, errlen, "unknown unit '%.*s' "
		    "(expected ms, s, m, h or d)", len > 8 ? 8 : (int)len, u);
	if (*last != SIZE_MAX && i <= *last)
		return parse_fail(err, errlen, "units must go from largest "
		    "to smallest, each once (e.g. 1h30m)");
	if (__builtin_mul_overflow(n, parse_dur_units[i].mult, &n) ||
	    __builtin_add_overflow(*ms, n, ms))
		return parse_fail(err, errlen, "duration too large");
	*last = i;
	*sp = s;
	return 0;
}

int
parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	uint64_t	total = 0;
	size_t		last = SIZE_MAX;

	if (*s == '\0')
		return parse_fail(err, errlen, "empty duration");
	while (*s != '\0')
		if (parse_dur_group(&s, &last, &total, err, errlen) == -1)
			return -1;
	*ms = total;
	return 0;
}

int
parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	char		 unit[16];
	uint64_t	 n = 0;
	size_t		 i;

	if (*s == '\0')
		return parse_fail(err, errlen, "empty size");
	if (parse_digits(&s, &n, err, errlen) == -1)
		return -1;
	for (i = 0; i < NITEMS(parse_size_units); i++)
		if (strcmp(parse_size_units[i].name, s) == 0)
			break;
	if (i == NITEMS(parse_size_units))
		return parse_fail(err, errlen, "unknown unit '%s' (expected "
		    "B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)",
		    parse_printable(unit, sizeof(unit), s, 8));
	if (__builtin_mul_overflow(n, parse_size_units[i].mult, out))
		return parse_fail(err, errlen, "size too large");
	return 0;
}

int
parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	if (strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0)
		*out = 0;
	else
		return parse_fail(err, errlen, "expected true or false");
	return 0;
}

static int
parse_port(const char *s, char *err, size_t errlen)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return parse_fail(err, errlen, "missing port");
	if (parse_uint(s, 1, 65535, &v, err, errlen) == -1)
		return parse_fail(err, errlen, "port must be a number "
		    "from 1 to 65535");
	return 0;
}

int
parse_resolve(const char *host, const char *port, int numeric,
    struct config_addr *a, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (numeric && strcmp(host, "localhost") != 0)
		hints.ai_flags |= AI_NUMERICHOST;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		if (numeric && rc == EAI_NONAME)
			return parse_fail(err, errlen, "host must be an IP "
			    "address or localhost");
		return parse_fail(err, errlen, "cannot resolve host: %s",
		    gai_strerror(rc));
	}
	if (res->ai_addrlen > sizeof(a->ss)) {
		freeaddrinfo(res);
		return parse_fail(err, errlen, "address too long");
	}
	memset(&a->ss, 0, sizeof(a->ss));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
parse_unix(const char *path, struct config_addr *a, char *err, size_t errlen)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a->ss;
	size_t			 len = strlen(path);

	if (path[0] != '/')
		return parse_fail(err, errlen, "unix socket path must be "
		    "absolute (unix:/path)");
	if (len >= sizeof(sun->sun_path))
		return parse_fail(err, errlen, "unix socket path longer than "
		    "%zu bytes", sizeof(sun->sun_path) - 1);
	memset(&a->ss, 0, sizeof(a->ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	a->sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

/*
 * Split "host:port" or "[v6]:port" (copy in <buf>, modified) into pointers
 * to the host (unbracketed) and to the port, which may be empty when
 * <portopt>.  *<v6> tells whether the host was bracketed.
 */
static int
parse_split_hostport(char *buf, char **host, char **port, int *v6,
    int portopt, char *err, size_t errlen)
{
	char	*p;

	*v6 = buf[0] == '[';
	if (*v6) {
		if ((p = strchr(buf, ']')) == NULL)
			return parse_fail(err, errlen, "missing ']'");
		*host = buf + 1;
		*p++ = '\0';
	} else {
		*host = buf;
		if ((p = strchr(buf, ':')) != NULL && strchr(p + 1, ':')
		    != NULL)
			return parse_fail(err, errlen, "an IPv6 address must "
			    "be in brackets ([::1]:port)");
		p = p != NULL ? p : buf + strlen(buf);
	}
	if (*p == '\0' && portopt)
		*port = p;
	else if (*p != ':')
		return parse_fail(err, errlen, *p == '\0' ? "missing port "
		    "(host:port)" : "unexpected text after ']'");
	else if (p[1] == '\0')
		return parse_fail(err, errlen, "missing port");
	else
		*port = p + 1;
	*p = '\0';
	if (**host == '\0')
		return parse_fail(err, errlen, "missing host");
	return 0;
}

int
parse_addr(const char *s, struct config_addr *a, char *err, size_t errlen)
{
	char	 buf[PARSE_HOSTMAX + 16], *host, *port;
	int	 v6;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		if (parse_unix(s + 5, a, err, errlen) == -1)
			return -1;
	} else {
		if (strlen(s) >= sizeof(buf))
			return parse_fail(err, errlen, "address too long");
		memcpy(buf, s, strlen(s) + 1);
		if (parse_split_hostport(buf, &host, &port, &v6, 0, err,
		    errlen) == -1 || parse_port(port, err, errlen) == -1)
			return -1;
		if (v6 && strchr(host, ':') == NULL)
			return parse_fail(err, errlen, "not an IPv6 address "
			    "in brackets");
		if (parse_resolve(host, port, 1, a, err, errlen) == -1)
			return -1;
	}
	if ((a->text = strdup(s)) == NULL)
		return parse_fail(err, errlen, "out of memory");
	return 0;
}

void
parse_addr_free(struct config_addr *a)
{
	if (a == NULL)
		return;
	free(a->text);
	memset(a, 0, sizeof(*a));
}

/* Zero the bits of <c> after the prefix; 1 if any was set. */
static int
parse_cidr_mask(struct config_cidr *c, size_t len)
{
	unsigned char	 mask;
	size_t		 i;
	int		 set = 0;

	for (i = 0; i < len; i++) {
		if (c->bits >= (i + 1) * 8)
			continue;
		mask = c->bits <= i * 8 ? 0 :
		    (unsigned char)(0xff << (8 - (c->bits - i * 8)));
		set |= (c->addr[i] & ~mask) != 0;
		c->addr[i] &= mask;
	}
	return set;
}

int
parse_cidr(const char *s, struct config_cidr *c, char *err, size_t errlen)
{
	char		 buf[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN];
	char		*slash;
	uint64_t	 bits;
	size_t		 len;

	memset(c, 0, sizeof(*c));
	if (strlen(s) >= sizeof(buf))
		return parse_fail(err, errlen, "not an IP address or prefix");
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, c->addr) == 1)
		c->family = AF_INET6;
	else
		return parse_fail(err, errlen, "not an IP address or prefix");
	len = c->family == AF_INET ? 4 : 16;
	bits = len * 8;
	if (slash != NULL && parse_uint(slash, 0, len * 8, &bits, err,
	    errlen) == -1)
		return parse_fail(err, errlen, "prefix length must be 0 to %zu",
		    len * 8);
	c->bits = (unsigned int)bits;
	if (parse_cidr_mask(c, len)) {
		(void)inet_ntop(c->family, c->addr, net, sizeof(net));
		return parse_fail(err, errlen, "host bits are set (the "
		    "network is %s/%u)", net, c->bits);
	}
	return 0;
}

/* One DNS label of 1-63 letters, digits and inner '-'; *<end> after it. */
static int
parse_label(const char *s, const char **end, char *err, size_t errlen)
{
	const char	*p;

	for (p = s; parse_isalpha((unsigned char)*p) ||
	    parse_isdigit((unsigned char)*p) || *p == '-'; p++)
		;
	if (p == s && (*p == '.' || *p == '\0'))
		return parse_fail(err, errlen, "empty label in host name");
	if (p == s || (*p != '.' && *p != '\0'))
		return parse_fail(err, errlen, "invalid character in host "
		    "name (letters, digits, '-' and '.')");
	if (p - s > 63)
		return parse_fail(err, errlen, "label longer than 63 bytes "
		    "in host name");
	if (*s == '-' || p[-1] == '-')
		return parse_fail(err, errlen, "a host name label cannot "
		    "start or end with '-'");
	*end = p;
	return 0;
}

int
parse_host(const char *s, int wildcard, char *err, size_t errlen)
{
	unsigned char	 in6[16];
	char		 buf[INET6_ADDRSTRLEN + 2];
	size_t		 len = strlen(s);

	if (len > 2 && s[0] == '[' && s[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, in6) == 1)
			return 0;
		return parse_fail(err, errlen, "not an IPv6 address");
	}
	if (len == 0 || len > PARSE_HOSTMAX)
		return parse_fail(err, errlen, "host name must be 1 to %d "
		    "bytes", PARSE_HOSTMAX);
	if (wildcard && strncmp(s, "*.", 2) == 0)
		s += 2;
	for (;;) {
		if (parse_label(s, &s, err, errlen) == -1)
			return -1;
		if (*s++ == '\0')
			return 0;
	}
}

/* Scheme of <s>: sets *<rest> after "://"; -1 if neither http nor https. */
static int
parse_url_scheme(const char *s, struct config_upstream *u, const char **rest,
    char *err, size_t errlen)
{
	if (strncmp(s, "http://", 7) == 0) {
		*rest = s + 7;
		u->tls = 0;
	} else if (strncmp(s, "https://", 8) == 0) {
		*rest = s + 8;
		u->tls = 1;
	} else
		return parse_fail(err, errlen, "expected an http:// or "
		    "https:// URL");
	return 0;
}

/* The authority of an URL into <buf>; rejects what we do not support. */
static int
parse_url_authority(const char *s, char *buf, size_t size, char *err,
    size_t errlen)
{
	size_t	len = strcspn(s, "/?#");

	if (s[len] == '?' || s[len] == '#')
		return parse_fail(err, errlen, "query and fragment are not "
		    "supported in upstream URLs");
	if (s[len] == '/' && s[len + 1] != '\0')
		return parse_fail(err, errlen, "a path is not supported in "
		    "upstream URLs yet");
	if (memchr(s, '@', len) != NULL)
		return parse_fail(err, errlen, "user information is not "
		    "supported in upstream URLs");
	if (len == 0)
		return parse_fail(err, errlen, "missing host");
	if (len >= size)
		return parse_fail(err, errlen, "host too long");
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int
parse_url(const char *s, struct config_upstream *u, char *err, size_t errlen)
{
	char		 buf[PARSE_HOSTMAX + 16], auth[PARSE_HOSTMAX + 16];
	char		*host, *port;
	const char	*rest = NULL;
	unsigned char	 ip[16];
	int		 v6;

	memset(u, 0, sizeof(*u));
	if (parse_url_scheme(s, u, &rest, err, errlen) == -1 ||
	    parse_url_authority(rest, buf, sizeof(buf), err, errlen) == -1)
		return -1;
	for (host = buf; *host != '\0'; host++)	/* host names are caseless */
		if (*host >= 'A' && *host <= 'Z')
			*host = (char)(*host - 'A' + 'a');
	memcpy(auth, buf, sizeof(auth));
	if (parse_split_hostport(buf, &host, &port, &v6, 1, err, errlen) == -1)
		return -1;
	if (v6 ? inet_pton(AF_INET6, host, ip) != 1 :
	    parse_host(host, 0, err, errlen) == -1)
		return v6 ? parse_fail(err, errlen, "not an IPv6 address") : -1;
	if (*port == '\0')
		port = u->tls ? "443" : "80";
	else if (parse_port(port, err, errlen) == -1)
		return -1;
	if ((v6 || inet_pton(AF_INET, host, ip) == 1 ||
	    strcmp(host, "localhost") == 0) &&
	    parse_resolve(host, port, 1, &u->addr, err, errlen) == -1)
		return -1;
	if ((u->url = strdup(s)) == NULL ||
	    (u->host = strdup(host)) == NULL ||
	    (u->port = strdup(port)) == NULL ||
	    (u->addr.text = strdup(auth)) == NULL) {
		parse_url_free(u);
		return parse_fail(err, errlen, "out of memory");
	}
	return 0;
}

void
parse_url_free(struct config_upstream *u)
{
	if (u == NULL)
		return;
	free(u->url);
	free(u->host);
	free(u->port);
	parse_addr_free(&u->addr);
	memset(u, 0, sizeof(*u));
}

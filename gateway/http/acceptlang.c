/*
 * Accept-Language (see acceptlang.h).  The header is read once, element
 * by element, into at most ACCEPTLANG_MAX_RANGES ranges; each language
 * offered then takes the q-value of the range that matches it most
 * closely (an exact range over one that extends or shortens it, over
 * "*"), as RFC 9110 section 12.5.1 does for media ranges.
 */
#include <string.h>
#include <strings.h>

#include "acceptlang.h"

struct acceptlang_range {
	char	tag[ACCEPTLANG_RANGE_MAX + 1];	/* "*" or a language range */
	int	q;				/* 0..1000 */
};

/* A qvalue (RFC 9110 section 12.4.2) in [s, e) as 0..1000, or -1. */
static int
acceptlang_qvalue(const char *s, const char *e)
{
	int	q, scale = 100;

	if (s == e || (*s != '0' && *s != '1'))
		return -1;
	q = (*s++ - '0') * 1000;
	if (s == e)
		return q;
	if (*s++ != '.')
		return -1;
	for (; s < e && scale > 0; s++, scale /= 10) {
		if (*s < '0' || *s > '9')
			return -1;
		q += (*s - '0') * scale;
	}
	return s == e && q <= 1000 ? q : -1;
}

/* Is [s, e) "*" or 1*8ALPHA *("-" 1*8alphanum) (RFC 4647 section 2.1)? */
static int
acceptlang_valid(const char *s, const char *e)
{
	size_t	seg = 0, nseg = 0;

	if (e - s == 1 && *s == '*')
		return 1;
	for (; s < e; s++) {
		if (*s == '-') {
			if (seg == 0)
				return 0;
			seg = 0;
			nseg++;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' &&
		    *s <= 'Z') || (nseg > 0 && *s >= '0' && *s <= '9')) {
			if (++seg > 8)
				return 0;
		} else
			return 0;
	}
	return seg > 0;
}

static const char *
acceptlang_ows(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* One element [p, e): "range [OWS ; OWS q=qvalue] OWS"; 0, or -1. */
static int
acceptlang_element(const char *p, const char *e, struct acceptlang_range *r)
{
	const char	*t;

	p = acceptlang_ows(p, e);
	for (t = p; t < e && *t != ';' && *t != ' ' && *t != '\t'; t++)
		;
	if ((size_t)(t - p) > ACCEPTLANG_RANGE_MAX || !acceptlang_valid(p, t))
		return -1;
	memcpy(r->tag, p, (size_t)(t - p));
	r->tag[t - p] = '\0';
	r->q = 1000;
	p = acceptlang_ows(t, e);
	if (p == e)
		return 0;
	if (*p != ';')
		return -1;
	p = acceptlang_ows(p + 1, e);
	if (e - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return -1;
	for (t = p + 2; t < e && *t != ' ' && *t != '\t'; t++)
		;
	if (acceptlang_ows(t, e) != e)
		return -1;
	return (r->q = acceptlang_qvalue(p + 2, t)) == -1 ? -1 : 0;
}

/* Read up to ACCEPTLANG_MAX_RANGES well-formed elements of <hdr>. */
static size_t
acceptlang_parse(const char *hdr, struct acceptlang_range *rs)
{
	const char	*p = hdr, *e;
	size_t		 n = 0;

	while (*p != '\0' && n < ACCEPTLANG_MAX_RANGES) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if (acceptlang_element(p, e, &rs[n]) == 0)
			n++;
		p = *e == ',' ? e + 1 : e;
	}
	return n;
}

/*
 * How closely range <r> matches language <tag>: 0 not at all, 1 "*",
 * 2 the range shortened ("de-ch" for "de"), 3 the range extended ("de"
 * for "de-at"), 4 exactly.
 */
static int
acceptlang_match(const char *r, const char *tag)
{
	size_t	rl = strlen(r), tl = strlen(tag);

	if (strcmp(r, "*") == 0)
		return 1;
	if (rl == tl && strncasecmp(r, tag, rl) == 0)
		return 4;
	if (rl < tl && tag[rl] == '-' && strncasecmp(r, tag, rl) == 0)
		return 3;
	if (tl < rl && r[tl] == '-' && strncasecmp(r, tag, tl) == 0)
		return 2;
	return 0;
}

/* The q-value <tag> gets from <rs> and the position of its range. */
static int
acceptlang_q(const struct acceptlang_range *rs, size_t n, const char *tag,
    size_t *pos)
{
	size_t	i;
	int	m, best = 0, q = 0;

	*pos = n;
	for (i = 0; i < n; i++)
		if ((m = acceptlang_match(rs[i].tag, tag)) > best) {
			best = m;
			q = rs[i].q;
			*pos = i;
		}
	return q;
}

size_t
acceptlang_pick(const char *hdr, const char *const *tags, size_t ntags,
    size_t def)
{
	struct acceptlang_range rs[ACCEPTLANG_MAX_RANGES];
	size_t		 n, i, pos, best = def, bestpos = 0;
	int		 q, bestq = 0;

	if (hdr == NULL || (n = acceptlang_parse(hdr, rs)) == 0)
		return def;
	for (i = 0; i < ntags; i++) {
		q = acceptlang_q(rs, n, tags[i], &pos);
		if (q > bestq || (q == bestq && q > 0 && (pos < bestpos ||
		    (pos == bestpos && i == def)))) {
			best = i;
			bestq = q;
			bestpos = pos;
		}
	}
	return best;
}

/*
 * Cookie header parsing.  Browsers send "name=value; name2=value2"; we
 * accept optional whitespace around the separators and nothing else odd:
 * a pair without '=' is skipped, never guessed at.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chclass.h"
#include "cookie.h"

struct cookie_pair {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
	const char	*end;		/* just past the pair */
};

/* Parse the pair starting at <p>; returns the position after it. */
static const char *
cookie_next(const char *p, struct cookie_pair *cp)
{
	const char	*eq, *semi;

	while (*p == ' ' || *p == '\t')
		p++;
	semi = strchr(p, ';');
	cp->end = semi != NULL ? semi : p + strlen(p);
	eq = memchr(p, '=', (size_t)(cp->end - p));
	cp->name = p;
	cp->namelen = eq != NULL ? (size_t)(eq - p) : 0;
	while (cp->namelen > 0 && (p[cp->namelen - 1] == ' ' ||
	    p[cp->namelen - 1] == '\t'))
		cp->namelen--;
	cp->value = eq != NULL ? eq + 1 : cp->end;
	while (cp->value < cp->end && (*cp->value == ' ' || *cp->value == '\t'))
		cp->value++;
	cp->valuelen = (size_t)(cp->end - cp->value);
	while (cp->valuelen > 0 && (cp->value[cp->valuelen - 1] == ' ' ||
	    cp->value[cp->valuelen - 1] == '\t'))
		cp->valuelen--;
	return semi != NULL ? semi + 1 : cp->end;
}

/* cookie-octets, optionally inside one pair of quotes: one lookup a byte
 * (every signed-in request checks its session cookie). */
static int
cookie_value_ok(const char *v, size_t len)
{
	unsigned int	all = 1;
	size_t		i;

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
		v++, len -= 2;
	for (i = 0; i < len; i++)
		all &= CHCLASS(v[i], CH_COOKIE);
	return (int)all;
}

enum cookie_result
cookie_get(const char *hdr, const char *name, char *out, size_t outlen)
{
	struct cookie_pair	 cp;
	const char		*p = hdr;
	size_t			 nlen = strlen(name);
	int			 found = 0;

	if (hdr == NULL)
		return COOKIE_ABSENT;
	while (*p != '\0') {
		p = cookie_next(p, &cp);
		if (cp.namelen != nlen || memcmp(cp.name, name, nlen) != 0)
			continue;
		if (found++)
			return COOKIE_AMBIGUOUS;
		if (cp.valuelen >= outlen ||
		    !cookie_value_ok(cp.value, cp.valuelen))
			return COOKIE_INVALID;
		memcpy(out, cp.value, cp.valuelen);
		out[cp.valuelen] = '\0';
	}
	return found ? COOKIE_FOUND : COOKIE_ABSENT;
}

static int
cookie_named(const struct cookie_pair *cp, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strlen(*names) == cp->namelen &&
		    memcmp(cp->name, *names, cp->namelen) == 0)
			return 1;
	return 0;
}

char *
cookie_strip(const char *hdr, const char *const *names, int *err)
{
	struct cookie_pair	 cp;
	const char		*p = hdr;
	char			*out;
	size_t			 off = 0, n;

	*err = 0;
	if (hdr == NULL)
		return NULL;
	/* Each kept pair may gain one byte of separator ("a=1;b=2"). */
	if ((out = malloc(2 * strlen(hdr) + 1)) == NULL) {
		*err = -1;
		return NULL;
	}
	while (*p != '\0') {
		p = cookie_next(p, &cp);
		if (cp.namelen == 0 || cookie_named(&cp, names))
			continue;
		n = (size_t)(cp.end - cp.name);
		while (n > 0 && (cp.name[n - 1] == ' ' || cp.name[n - 1] == '\t'))
			n--;
		if (off > 0) {
			out[off++] = ';';
			out[off++] = ' ';
		}
		memcpy(out + off, cp.name, n);
		off += n;
	}
	if (off == 0) {
		free(out);
		return NULL;
	}
	out[off] = '\0';
	return out;
}

/* <len> bytes at <s> start with <pre>, ignoring ASCII case? */
static int
cookie_prefix_ci(const char *s, size_t len, const char *pre)
{
	size_t	n = strlen(pre);

	return len >= n && strncasecmp(s, pre, n) == 0;
}

int
cookie_name_ours(const char *name, size_t len)
{
	while (len > 0 && (*name == ' ' || *name == '\t' || *name == '"'))
		name++, len--;
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t' ||
	    name[len - 1] == '"'))
		len--;
	if (cookie_prefix_ci(name, len, "__host-"))
		name += 7, len -= 7;
	else if (cookie_prefix_ci(name, len, "__secure-"))
		name += 9, len -= 9;
	if (!cookie_prefix_ci(name, len, COOKIE_OURS))
		return 0;
	return len == sizeof(COOKIE_OURS) - 1 ||
	    name[sizeof(COOKIE_OURS) - 1] == '-';
}

/*
 * The name of the cookie a Set-Cookie value starting at <p> sets, read as
 * loosely as any browser or proxy might: leading '=' are skipped (a
 * nameless cookie "=a=b" goes back to servers as "a=b").  Its end goes to
 * *<end>; returns its start.
 */
static const char *
cookie_set_name(const char *p, const char **end)
{
	while (*p == ' ' || *p == '\t' || *p == '=')
		p++;
	*end = p + strcspn(p, "=;,");
	return p;
}

int
cookie_set_ours(const char *value)
{
	const char	*p = value, *name, *end;

	/* Every comma-separated piece: a proxy may have folded several
	 * Set-Cookie lines into one (an Expires date only adds pieces). */
	for (;;) {
		name = cookie_set_name(p, &end);
		if (cookie_name_ours(name, (size_t)(end - name)))
			return 1;
		if ((p = strchr(end, ',')) == NULL)
			return 0;
		p++;
	}
}

/*
 * Return-to URL checks (see redirect.h).  We accept a small, regular
 * subset instead of parsing URLs the way each browser does: the bypasses of
 * other gateways' redirect checks live in the differences between parsers.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "redirect.h"

/* Printable ASCII other than space and backslash: no byte a browser
 * strips or rewrites (tab, CR, LF, '\\' read as '/'), no raw UTF-8. */
static int
redirect_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '\\')
			return 0;
	return 1;
}

/* A path on this host: "/" then anything but a second '/'. */
static int
redirect_path_ok(const char *p)
{
	return p[0] == '/' && p[1] != '/';
}

/* "https://host[:port]" then a path (or nothing), host served by an app. */
static int
redirect_absolute_ok(const struct config *cfg, const char *rd)
{
	const char	*h = rd + strlen("https://"), *end, *colon;
	char		 host[256];
	size_t		 len, i;

	end = h + strcspn(h, "/?#");
	if (*end != '\0' && *end != '/')
		return 0;		/* "https://a.example?x" has no path */
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return 0;		/* userinfo */
	colon = memchr(h, ':', (size_t)(end - h));
	len = (size_t)((colon != NULL ? colon : end) - h);
	if (len == 0 || len >= sizeof(host))
		return 0;
	if (colon != NULL) {
		if (colon + 1 == end || end - colon > 6)
			return 0;
		for (i = 1; colon + i < end; i++)
			if (!isdigit((unsigned char)colon[i]))
				return 0;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '.')
			return 0;	/* no IPv6 literals, no '%' */
		host[i] = (char)tolower((unsigned char)h[i]);
	}
	host[len] = '\0';
	if (host[len - 1] == '.')
		return 0;
	return config_app_for_host(cfg, host) != NULL &&
	    (*end == '\0' || redirect_path_ok(end));
}

int
redirect_check(const struct config *cfg, const char *rd, char *out,
    size_t outlen)
{
	int	ok = 0;

	if (rd != NULL && strlen(rd) <= REDIRECT_MAX && strlen(rd) < outlen &&
	    redirect_chars_ok(rd)) {
		if (rd[0] == '/')
			ok = redirect_path_ok(rd);
		else if (strncmp(rd, "https://", 8) == 0)
			ok = redirect_absolute_ok(cfg, rd);
	}
	if (ok && strstr(rd, "/.postern/") != NULL &&
	    strncmp(strstr(rd, "/.postern/"), "/.postern/login", 15) == 0)
		ok = 0;			/* no loops back to the login page */
	(void)strcpy(out, ok ? rd : "/");
	return ok ? 0 : -1;
}

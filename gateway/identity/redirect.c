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

/*
 * The lower-case host of "https://host[:port]..." <rd> into <host> (256
 * bytes); returns where the authority ends, or NULL if it is not of the
 * accepted form.
 */
static const char *
redirect_host(const char *rd, char *host)
{
	const char	*h = rd + strlen("https://"), *end, *colon;
	size_t		 len, i;

	end = h + strcspn(h, "/?#");
	if (*end != '\0' && *end != '/')
		return NULL;		/* "https://a.example?x" has no path */
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return NULL;		/* userinfo */
	colon = memchr(h, ':', (size_t)(end - h));
	len = (size_t)((colon != NULL ? colon : end) - h);
	if (len == 0 || len >= 256)
		return NULL;
	if (colon != NULL) {
		if (colon + 1 == end || end - colon > 6)
			return NULL;
		for (i = 1; colon + i < end; i++)
			if (!isdigit((unsigned char)colon[i]))
				return NULL;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '.')
			return NULL;	/* no IPv6 literals, no '%' */
		host[i] = (char)tolower((unsigned char)h[i]);
	}
	host[len] = '\0';
	return host[len - 1] == '.' ? NULL : end;
}

/* "https://host[:port]" then a path (or nothing), host served by an app. */
static int
redirect_absolute_ok(const struct config *cfg, const char *rd)
{
	const char	*end;
	char		 host[256];

	if ((end = redirect_host(rd, host)) == NULL)
		return 0;
	return config_app_for_host(cfg, host) != NULL &&
	    (*end == '\0' || redirect_path_ok(end));
}

int
redirect_tenant(const struct config *cfg, const char *rd, char *org,
    size_t size)
{
	const struct config_app	*app;
	const char		*dot;
	char			 host[256];
	size_t			 i, len;

	if (strncmp(rd, "https://", 8) != 0 ||
	    redirect_host(rd, host) == NULL ||
	    (app = config_app_for_host(cfg, host)) == NULL ||
	    (dot = strchr(host, '.')) == NULL)
		return 0;
	for (i = 0; i < app->nhosts; i++)	/* named, or under "*." */
		if (strcmp(app->hosts[i], host) == 0 ||
		    (app->hosts[i][0] == '*' &&
		    strcmp(app->hosts[i] + 1, dot) == 0))
			return 0;
	if ((len = (size_t)(dot - host)) >= size)
		len = 0;		/* no org has so long a slug: "" */
	memcpy(org, host, len);
	org[len] = '\0';
	return 1;
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

/*
 * User-Agent labels (see uagent.h).  Browsers copy each other's tokens
 * ("Chrome/" is in Edge's and Opera's headers, "Safari/" in Chrome's,
 * "Mac OS X" in iOS's), so the tests go from the most specific token to
 * the most general, and the first that matches wins.
 */
#include <stdio.h>
#include <string.h>

#include "uagent.h"

struct uagent_rule {
	const char	*token;		/* a substring of the header */
	const char	*name;		/* what it means */
};

static const struct uagent_rule uagent_browsers[] = {
	{ "Edg/", "Edge" }, { "EdgA/", "Edge" }, { "EdgiOS/", "Edge" },
	{ "Edge/", "Edge" },
	{ "OPR/", "Opera" }, { "OPiOS/", "Opera" }, { "Opera", "Opera" },
	{ "Firefox/", "Firefox" }, { "FxiOS/", "Firefox" },
	{ "CriOS/", "Chrome" }, { "Chrome/", "Chrome" },
	{ "Chromium/", "Chrome" },
	{ "Safari/", "Safari" },
};

static const struct uagent_rule uagent_systems[] = {
	{ "Windows", "Windows" },
	{ "iPhone", "iOS" }, { "iPad", "iOS" }, { "iPod", "iOS" },
	{ "Android", "Android" },
	{ "CrOS", "ChromeOS" },
	{ "Macintosh", "macOS" }, { "Mac OS X", "macOS" },
	{ "Linux", "Linux" }, { "X11", "Linux" },
};

static const char *
uagent_match(const char *ua, const struct uagent_rule *r, size_t n)
{
	size_t	i;

	if (ua == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strstr(ua, r[i].token) != NULL)
			return r[i].name;
	return NULL;
}

const char *
uagent_browser(const char *ua)
{
	if (ua != NULL && strncmp(ua, "curl/", 5) == 0)
		return "curl";
	return uagent_match(ua, uagent_browsers,
	    sizeof(uagent_browsers) / sizeof(uagent_browsers[0]));
}

const char *
uagent_os(const char *ua)
{
	if (ua != NULL && strncmp(ua, "curl/", 5) == 0)
		return NULL;		/* curl names no system */
	return uagent_match(ua, uagent_systems,
	    sizeof(uagent_systems) / sizeof(uagent_systems[0]));
}

void
uagent_label(const char *ua, char *out, size_t size)
{
	const char	*b = uagent_browser(ua), *os = uagent_os(ua);

	if (size == 0)
		return;
	if (b == NULL && os == NULL)
		(void)snprintf(out, size, "Unknown device");
	else if (os == NULL)
		(void)snprintf(out, size, "%s", b);
	else
		(void)snprintf(out, size, "%s on %s", b != NULL ? b :
		    "Unknown browser", os);
}

void
uagent_clean(const char *ua, char *out, size_t size)
{
	size_t	i;

	if (size == 0)
		return;
	for (i = 0; ua != NULL && ua[i] != '\0' && i + 1 < size; i++)
		out[i] = ua[i] >= 0x20 && ua[i] < 0x7f ? ua[i] : '?';
	out[i] = '\0';
}

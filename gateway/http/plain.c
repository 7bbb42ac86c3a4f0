/*
 * Cleartext requests (see plain.h).  The Host a redirect names is checked
 * against the configured apps: a Location built from any Host would let
 * anyone use the gateway as an open redirector (and cache-poison a
 * shared proxy in front).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "confapp.h"
#include "plain.h"
#include "request.h"

enum plain_path
plain_path_kind(const char *path)
{
	if (strncmp(path, PLAIN_ACME_PREFIX, strlen(PLAIN_ACME_PREFIX)) == 0)
		return PLAIN_PATH_ACME;
	if (strcmp(path, "/.postern/health") == 0 ||
	    strcmp(path, "/.postern/ready") == 0)
		return PLAIN_PATH_HEALTH;
	if (strncmp(path, "/.postern/", 10) == 0 ||
	    strcmp(path, "/.postern") == 0)
		return PLAIN_PATH_GATEWAY;
	return PLAIN_PATH_APP;
}

int
plain_forwarded_https(const struct request *req)
{
	const char	*v = NULL;
	size_t		 i, n = 0;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, "x-forwarded-proto") == 0) {
			v = req->headers[i].value;
			n++;
		}
	/* Two of them: which one did the proxy write?  Neither counts. */
	return n == 1 && strcasecmp(v, "https") == 0;
}

/* <host> as a redirect may name it into <out> (256 bytes); 0 or -1. */
static int
plain_host(const struct config *cfg, const char *host, char *out)
{
	size_t	len, i;

	if (host == NULL || (len = strlen(host)) == 0 || len >= 256)
		return -1;
	if (host[len - 1] == '.')	/* "example.com." is the same name */
		len--;
	if (len == 0 || host[0] == '.')
		return -1;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)host[i]) && host[i] != '-' &&
		    host[i] != '.')
			return -1;	/* IPv6 literals, '_', '~', ... */
		out[i] = (char)tolower((unsigned char)host[i]);
	}
	out[len] = '\0';
	return config_app_for_host(cfg, out) != NULL ? 0 : -1;
}

int
plain_location(const struct config *cfg, const struct request *req,
    uint16_t port, char *out, size_t outlen)
{
	char	host[256], p[8] = "";
	int	n;

	if (plain_host(cfg, req->host, host) == -1)
		return -1;
	if (port != 443)
		(void)snprintf(p, sizeof(p), ":%u", port);
	/* The path is the normalised one (no controls, no "//"); the query
	 * passed the parser's URL checks (no spaces, no controls). */
	n = snprintf(out, outlen, "https://%s%s%s%s%s", host, p, req->path,
	    req->query != NULL ? "?" : "",
	    req->query != NULL ? req->query : "");
	if (n <= 0 || (size_t)n >= outlen)
		return -1;
	for (; *out != '\0'; out++)	/* a header value, whatever the parser */
		if ((unsigned char)*out <= 0x20 || (unsigned char)*out >= 0x7f)
			return -1;
	return 0;
}

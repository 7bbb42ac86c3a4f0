/*
 * Return-to URLs (the `rd` parameter of the sign-in pages).  Only two forms
 * are followed: a path on the same host ("/app/page?x=1"), and an https URL
 * whose host is served by one of the configured apps.  Everything else --
 * other hosts, scheme-relative "//evil", "/\evil", "https:evil",
 * "javascript:", userinfo, controls or whitespace that browsers would strip
 * -- falls back to "/".  The checked value is safe to put in a Location
 * header and in an HTML attribute once escaped.
 */
#ifndef POSTERN_REDIRECT_H
#define POSTERN_REDIRECT_H

#include <stddef.h>

struct config;

#define REDIRECT_MAX	2048

/*
 * Copy <rd> (already percent-decoded once, as a form or query value) into
 * <out> (at least REDIRECT_MAX + 1 bytes) if it is a safe return-to URL
 * under <cfg>, else "/".  Returns 0 if <rd> was accepted, -1 if it fell
 * back to "/" (the caller may log that as an open-redirect attempt).
 */
int	redirect_check(const struct config *cfg, const char *rd, char *out,
	    size_t outlen);

#endif

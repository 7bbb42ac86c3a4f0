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

/*
 * For an <rd> that redirect_check() accepted: if its host is served only
 * through an "{org}.example.com" host pattern, copy that first label (the
 * org slug it names, lower-case; "" if longer than <size> - 1, which no
 * slug is) into <org> (<size> bytes) and return 1;
 * the caller must then confirm that the org exists before following <rd>
 * (a dangling name under the pattern is no app of ours).  0 otherwise.
 */
int	redirect_tenant(const struct config *cfg, const char *rd, char *org,
	    size_t size);

#endif

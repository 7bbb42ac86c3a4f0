/*
 * Security headers (see headers.h).  One implementation for proxied
 * responses (proxy.c) and the gateway's own pages (pages.c): both append
 * the lines of a set built here at configuration load.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "confapp.h"
#include "headers.h"
#include "log.h"
#include "parse.h"

/*
 * Gateway pages are never framed and load nothing but the configured logo
 * (headers_page(): img-src its origin); a page with inline style adds
 * "script-src 'nonce-...'; style-src 'nonce-...'" per response (the
 * account pages' one script carries the nonce; no other page has any).
 */
#define HEADERS_PAGE_CSP	"default-src 'none'; frame-ancestors 'none'; " \
				"base-uri 'none'; form-action 'self'"

/* Not ours to send, but headers_filter() may hide them. */
#define HEADERS_SERVER		HEADERS_N
#define HEADERS_POWERED		(HEADERS_N + 1)

/* Built once per snapshot; owned by the app (or config) it belongs to. */
struct headers_set {
	char	*line[HEADERS_N];	/* "Name: value\r\n", or NULL */
	size_t	 len[HEADERS_N];
	char	*csp;			/* the CSP value, for nonces */
	char	*block[2];		/* every line: [0] plain, [1] TLS */
	size_t	 blocklen[2];
	int	 override;
	int	 hide_server;
};

static const char *const headers_names[HEADERS_N + 2] = {
	[HEADERS_HSTS] = "Strict-Transport-Security",
	[HEADERS_CSP] = "Content-Security-Policy",
	[HEADERS_FRAME] = "X-Frame-Options",
	[HEADERS_REFERRER] = "Referrer-Policy",
	[HEADERS_PERMISSIONS] = "Permissions-Policy",
	[HEADERS_NOSNIFF] = "X-Content-Type-Options",
	[HEADERS_COOP] = "Cross-Origin-Opener-Policy",
	[HEADERS_CORP] = "Cross-Origin-Resource-Policy",
	[HEADERS_SERVER] = "Server",
	[HEADERS_POWERED] = "X-Powered-By",
};

static const char *const headers_referrers[] = {
	"no-referrer", "no-referrer-when-downgrade", "origin",
	"origin-when-cross-origin", "same-origin", "strict-origin",
	"strict-origin-when-cross-origin", "unsafe-url",
};

int
headers_defaults(struct config_headers *h)
{
	h->override = 0;
	h->csp = strdup(HEADERS_APP_CSP);
	h->frame_options = strdup(HEADERS_APP_FRAME);
	h->referrer_policy = strdup(HEADERS_APP_REFERRER);
	h->permissions_policy = strdup(HEADERS_APP_PERMISSIONS);
	if (h->csp == NULL || h->frame_options == NULL ||
	    h->referrer_policy == NULL || h->permissions_policy == NULL) {
		headers_clear(h);
		return -1;
	}
	return 0;
}

void
headers_clear(struct config_headers *h)
{
	if (h == NULL)
		return;
	free(h->csp);
	free(h->frame_options);
	free(h->referrer_policy);
	free(h->permissions_policy);
	h->csp = h->frame_options = NULL;
	h->referrer_policy = h->permissions_policy = NULL;
}

/* ---- checking configured values ---- */

/* Visible ASCII and spaces only: nothing that could split a header. */
static int
headers_check_chars(const char *v, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) {
			(void)snprintf(err, errlen, "character %zu is not "
			    "printable ASCII", i + 1);
			return -1;
		}
	if (i == 0 || i > HEADERS_VALUE_MAX) {
		(void)snprintf(err, errlen, "expected 1 to %d characters",
		    HEADERS_VALUE_MAX);
		return -1;
	}
	return 0;
}

/* Trim spaces around [*s, *e) in place. */
static void
headers_trim(const char **s, const char **e)
{
	while (*s < *e && **s == ' ')
		(*s)++;
	while (*e > *s && (*e)[-1] == ' ')
		(*e)--;
}

static int
headers_token_char(int c)
{
	return isalnum(c) || c == '-';
}

/* CSP (CSP3 2.2): directives "name value..." separated by ';'. */
static int
headers_check_csp(const char *v, char *err, size_t errlen)
{
	const char	*s = v, *e, *p;
	char		 tok[40];

	if (strchr(v, ',') != NULL) {
		(void)snprintf(err, errlen, "',' is not allowed (it would "
		    "start a second policy)");
		return -1;
	}
	for (; *s != '\0'; s = *e == ';' ? e + 1 : e) {
		e = s + strcspn(s, ";");
		headers_trim(&s, &e);
		for (p = s; p < e && headers_token_char((unsigned char)*p); p++)
			;
		if (s == e)
			continue;
		if (p == s || (p < e && *p != ' ')) {
			(void)snprintf(tok, sizeof(tok), "%.*s",
			    (int)(e - s), s);
			(void)snprintf(err, errlen, "invalid directive '%s' "
			    "(expected a name such as default-src, then its "
			    "sources)", parse_printable(tok, sizeof(tok), tok,
			    32));
			return -1;
		}
	}
	return 0;
}

/* Comma-separated list of [s, e) items, each checked by <fn>. */
static int
headers_check_list(const char *v, int (*fn)(const char *, const char *),
    const char *what, const char *expect, char *err, size_t errlen)
{
	const char	*s = v, *e;
	char		 tok[48];

	for (; *s != '\0'; s = *e == ',' ? e + 1 : e) {
		e = s + strcspn(s, ",");
		headers_trim(&s, &e);
		if (s == e || fn(s, e) == -1) {
			(void)snprintf(tok, sizeof(tok), "%.*s",
			    (int)(e - s), s);
			(void)snprintf(err, errlen, "invalid %s '%s' (expected "
			    "e.g. %s)", what, parse_printable(tok, sizeof(tok),
			    tok, 40), expect);
			return -1;
		}
	}
	return 0;
}

static int
headers_is_referrer(const char *s, const char *e)
{
	size_t	i, len = (size_t)(e - s);

	for (i = 0; i < sizeof(headers_referrers) /
	    sizeof(headers_referrers[0]); i++)
		if (strlen(headers_referrers[i]) == len &&
		    strncasecmp(s, headers_referrers[i], len) == 0)
			return 0;
	return -1;
}

/* "feature=allowlist": *, self, or a parenthesised list (RFC 8941). */
static int
headers_is_permission(const char *s, const char *e)
{
	const char	*p;

	for (p = s; p < e && (islower((unsigned char)*p) ||
	    isdigit((unsigned char)*p) || *p == '-'); p++)
		;
	if (p == s || p == e || *p != '=')
		return -1;
	p++;
	if ((e - p == 1 && *p == '*') || (e - p == 4 &&
	    strncmp(p, "self", 4) == 0))
		return 0;
	return e - p >= 2 && *p == '(' && e[-1] == ')' &&
	    memchr(p + 1, '(', (size_t)(e - p - 2)) == NULL ? 0 : -1;
}

int
headers_check(enum headers_id id, const char *v, char *err, size_t errlen)
{
	char	tok[40];

	if (headers_check_chars(v, err, errlen) == -1)
		return -1;
	switch (id) {
	case HEADERS_CSP:
		return headers_check_csp(v, err, errlen);
	case HEADERS_FRAME:
		if (strcasecmp(v, "DENY") == 0 ||
		    strcasecmp(v, "SAMEORIGIN") == 0)
			return 0;
		(void)snprintf(err, errlen, "expected DENY, SAMEORIGIN or "
		    "none, got '%s'", parse_printable(tok, sizeof(tok), v, 32));
		return -1;
	case HEADERS_REFERRER:
		return headers_check_list(v, headers_is_referrer, "policy",
		    "no-referrer, same-origin, strict-origin-when-cross-origin",
		    err, errlen);
	case HEADERS_PERMISSIONS:
		return headers_check_list(v, headers_is_permission, "item",
		    "camera=(), geolocation=(self)", err, errlen);
	default:
		(void)snprintf(err, errlen, "not configurable");
		return -1;
	}
}

/* ---- building the lines ---- */

/* 0, or -1 when out of memory. */
static int
headers_set_line(struct headers_set *hs, enum headers_id id, const char *v)
{
	int	n;

	if (v == NULL)
		return 0;
	if ((n = asprintf(&hs->line[id], "%s: %s\r\n", headers_names[id],
	    v)) == -1) {
		hs->line[id] = NULL;
		return -1;
	}
	hs->len[id] = (size_t)n;
	return 0;
}

/* Concatenate the lines for plain HTTP ([0], no HSTS) and TLS ([1]). */
static int
headers_set_blocks(struct headers_set *hs)
{
	size_t	i, tls, off;

	for (tls = 0; tls < 2; tls++) {
		hs->blocklen[tls] = 0;
		for (i = tls ? 0 : 1; i < HEADERS_N; i++)
			hs->blocklen[tls] += hs->len[i];
		if ((hs->block[tls] = malloc(hs->blocklen[tls] + 1)) == NULL)
			return -1;
		for (off = 0, i = tls ? 0 : 1; i < HEADERS_N; i++)
			if (hs->line[i] != NULL) {
				memcpy(hs->block[tls] + off, hs->line[i],
				    hs->len[i]);
				off += hs->len[i];
			}
		hs->block[tls][off] = '\0';
	}
	return 0;
}

/* The Strict-Transport-Security value of <hsts> in <buf>, or NULL: none. */
static const char *
headers_hsts_value(const struct headers_hsts *hsts, char *buf, size_t size)
{
	if (hsts->max_age == 0)
		return NULL;
	(void)snprintf(buf, size, "max-age=%llu%s%s",
	    (unsigned long long)hsts->max_age,
	    hsts->include_subdomains ? "; includeSubDomains" : "",
	    hsts->preload ? "; preload" : "");
	return buf;
}

static struct headers_set *
headers_set_new(const struct config_headers *h,
    const struct headers_hsts *hsts, int hide, int page)
{
	struct headers_set	*hs;
	char			 v[128];
	int			 bad = 0;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	hs->override = h->override;
	hs->hide_server = hide;
	bad |= headers_set_line(hs, HEADERS_HSTS, headers_hsts_value(hsts, v,
	    sizeof(v)));
	bad |= headers_set_line(hs, HEADERS_CSP, h->csp);
	bad |= headers_set_line(hs, HEADERS_FRAME, h->frame_options);
	bad |= headers_set_line(hs, HEADERS_REFERRER, h->referrer_policy);
	bad |= headers_set_line(hs, HEADERS_PERMISSIONS,
	    h->permissions_policy);
	bad |= headers_set_line(hs, HEADERS_NOSNIFF, "nosniff");
	if (page) {
		bad |= headers_set_line(hs, HEADERS_COOP, "same-origin");
		bad |= headers_set_line(hs, HEADERS_CORP, "same-origin");
	}
	if (h->csp != NULL && (hs->csp = strdup(h->csp)) == NULL)
		bad = -1;
	if (bad || headers_set_blocks(hs) == -1) {
		headers_set_free(hs);
		return NULL;
	}
	return hs;
}

struct headers_set *
headers_app(const struct config_headers *sec,
    const struct headers_hsts *hsts, int hide)
{
	return headers_set_new(sec, hsts, hide, 0);
}

struct headers_set *
headers_page(const struct headers_hsts *hsts, const char *img_src)
{
	struct config_headers page = {
		.override = 1,
		.csp = HEADERS_PAGE_CSP,
		.frame_options = "DENY",
		.referrer_policy = "no-referrer",
		.permissions_policy = HEADERS_APP_PERMISSIONS,
	};
	char	csp[sizeof(HEADERS_PAGE_CSP) + 320];

	if (img_src != NULL) {
		if (strlen(img_src) > 300)
			return NULL;
		(void)snprintf(csp, sizeof(csp), "%s; img-src %s",
		    HEADERS_PAGE_CSP, img_src);
		page.csp = csp;
	}
	return headers_set_new(&page, hsts, 1, 1);
}

void
headers_set_free(struct headers_set *hs)
{
	size_t	i;

	if (hs == NULL)
		return;
	for (i = 0; i < HEADERS_N; i++)
		free(hs->line[i]);
	free(hs->block[0]);
	free(hs->block[1]);
	free(hs->csp);
	free(hs);
}

/* ---- per response ---- */

/* Which of our (or hidden) headers <name> is; -1 for any other. */
static int
headers_classify(const char *name)
{
	static const signed char by_letter[][4] = {	/* -1 ends a row */
		{ HEADERS_HSTS, HEADERS_SERVER, -1 },			/* s */
		{ HEADERS_CSP, HEADERS_COOP, HEADERS_CORP, -1 },	/* c */
		{ HEADERS_FRAME, HEADERS_NOSNIFF, HEADERS_POWERED, -1 }, /* x */
		{ HEADERS_REFERRER, -1 },				/* r */
		{ HEADERS_PERMISSIONS, -1 },				/* p */
	};
	const signed char *row;

	switch (tolower((unsigned char)name[0])) {
	case 's': row = by_letter[0]; break;
	case 'c': row = by_letter[1]; break;
	case 'x': row = by_letter[2]; break;
	case 'r': row = by_letter[3]; break;
	case 'p': row = by_letter[4]; break;
	default: return -1;
	}
	for (; *row != -1; row++)
		if (strcasecmp(name, headers_names[(int)*row]) == 0)
			return *row;
	return -1;
}

int
headers_filter(const struct headers_set *hs, int tls, const char *name,
    const char *value, unsigned int *seen)
{
	int	id;

	if (hs == NULL || (id = headers_classify(name)) == -1)
		return 0;
	if (id == HEADERS_SERVER || id == HEADERS_POWERED)
		return hs->hide_server;
	if (hs->override && hs->line[id] != NULL &&
	    (id != HEADERS_HSTS || tls))
		return 1;
	*seen |= 1u << id;
	/* CSP frame-ancestors supersedes X-Frame-Options (CSP3 6.4.2). */
	if (id == HEADERS_CSP && value != NULL &&
	    strcasestr(value, "frame-ancestors") != NULL)
		*seen |= 1u << HEADERS_FRAME;
	return 0;
}

int
headers_add(struct evbuffer *out, const struct headers_set *hs, int tls,
    unsigned int seen, const char *nonce)
{
	size_t	i;
	int	rc = 0;

	if (hs == NULL)
		return 0;
	tls = tls != 0;
	if (seen == 0 && nonce == NULL)
		return evbuffer_add(out, hs->block[tls], hs->blocklen[tls]);
	for (i = tls ? 0 : 1; i < HEADERS_N && rc == 0; i++) {
		if ((seen & (1u << i)) || hs->line[i] == NULL)
			continue;
		if (i == HEADERS_CSP && nonce != NULL)
			rc = evbuffer_add_printf(out, "%s: %s; script-src "
			    "'nonce-%s'; style-src 'nonce-%s'\r\n",
			    headers_names[i], hs->csp, nonce, nonce) < 0 ?
			    -1 : 0;
		else
			rc = evbuffer_add(out, hs->line[i], hs->len[i]);
	}
	return rc;
}

/*
 * Clear-Site-Data (W3C): a comma list of quoted types.  Unquoted or in
 * another case they are read too: what some browser might honour counts.
 */
int
headers_clears_cookies(const char *value)
{
	const char	*p = value, *e;
	size_t		 len;

	for (;;) {
		p += strspn(p, " \t\"");
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		while (len > 0 && strchr(" \t\"", p[len - 1]) != NULL)
			len--;
		if ((len == 7 && strncasecmp(p, "cookies", 7) == 0) ||
		    (len == 1 && *p == '*'))
			return 1;
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
}

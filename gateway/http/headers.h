/*
 * Security headers on every response: HSTS (over TLS only), Content-
 * Security-Policy, X-Frame-Options, Referrer-Policy, Permissions-Policy and
 * X-Content-Type-Options; on the gateway's own pages and errors also
 * Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy (same-origin:
 * no other site keeps a handle on a sign-in window or embeds its pages).  The header lines of each app and of the
 * gateway's own pages are built once per configuration snapshot, so a
 * response costs a memcpy when the upstream sent none of them.
 *
 * Per app (policy file, security_headers), mode "fill" adds only what the
 * upstream did not send; "override" replaces the upstream's value of every
 * header the gateway sends.  A header configured as null is not sent and,
 * in either mode, the upstream's passes.  hide_server_header (default on)
 * removes the upstream's Server and X-Powered-By.
 */
#ifndef POSTERN_HEADERS_H
#define POSTERN_HEADERS_H

#include <stddef.h>
#include <stdint.h>

struct config_headers;
struct evbuffer;
struct headers_set;

/* Defaults for apps (gateway pages are stricter: see headers.c). */
#define HEADERS_APP_CSP		"frame-ancestors 'self'; object-src 'none'; " \
				"base-uri 'self'"
#define HEADERS_APP_FRAME	"SAMEORIGIN"
#define HEADERS_APP_REFERRER	"strict-origin-when-cross-origin"
#define HEADERS_APP_PERMISSIONS	"camera=(), microphone=(), geolocation=(), " \
				"payment=(), usb=()"

/* Longest accepted configured value, in bytes. */
#define HEADERS_VALUE_MAX	4096

/* Bits of headers_filter()'s <seen>: one per header the gateway sends. */
enum headers_id {
	HEADERS_HSTS = 0,
	HEADERS_CSP,
	HEADERS_FRAME,
	HEADERS_REFERRER,
	HEADERS_PERMISSIONS,
	HEADERS_NOSNIFF,
	HEADERS_COOP,		/* gateway pages only: */
	HEADERS_CORP,		/* same-origin */
	HEADERS_N,
};

/*
 * Fill <h> with the app defaults (strings the caller frees); 0, or -1 when
 * out of memory (then <h> holds none).
 */
int	headers_defaults(struct config_headers *h);
/* Free the strings of <h>; NULL-safe. */
void	headers_clear(struct config_headers *h);

/*
 * Check a configured value of policy key <id> (HEADERS_CSP, HEADERS_FRAME,
 * HEADERS_REFERRER, HEADERS_PERMISSIONS).  Returns 0, or -1 with what is
 * wrong and what was expected in <err>.
 */
int	headers_check(enum headers_id id, const char *value, char *err,
	    size_t errlen);

/* Strict-Transport-Security (security_headers: hsts_*); over TLS only. */
struct headers_hsts {
	uint64_t	 max_age;		/* seconds; 0: no HSTS */
	int		 include_subdomains;
	int		 preload;
};

/*
 * The header lines of an app with security_headers <sec> (policy file),
 * <hsts>, and hide_server_header <hide>; built once per snapshot by the
 * loader.  NULL when out of memory.
 */
struct headers_set *headers_app(const struct config_headers *sec,
		    const struct headers_hsts *hsts, int hide);
/*
 * The header lines of the gateway's own pages (stricter, see headers.c);
 * <img_src> (or NULL: no image at all) is the CSP source the logo may come
 * from: "'self'" or an origin checked at load.
 */
struct headers_set *headers_page(const struct headers_hsts *hsts,
		    const char *img_src);
/* Free a set built by headers_app() or headers_page(); NULL-safe. */
void	headers_set_free(struct headers_set *);

/*
 * For an upstream response header <name>: <value> of a response to be sent
 * with <set> over TLS or not.  Returns 1 if the header must be dropped
 * (replaced in override mode, or Server/X-Powered-By hidden); otherwise 0
 * and, if it is one of ours, its bit (1 << enum headers_id) set in *<seen>.
 */
int	headers_filter(const struct headers_set *set, int tls,
	    const char *name, const char *value, unsigned int *seen);

/*
 * Append the lines of <set> whose bit is not in <seen> to <out>.  With a
 * <nonce> (base64), the CSP allows inline styles carrying it (gateway
 * pages).  NULL <set>: nothing.  Returns 0, -1 if <out> could not grow.
 */
int	headers_add(struct evbuffer *out, const struct headers_set *set,
	    int tls, unsigned int seen, const char *nonce);

/*
 * Whether a Clear-Site-Data header value <value> asks the browser to wipe
 * cookies ("cookies" or "*"), the gateway's session among them.
 */
int	headers_clears_cookies(const char *value);

#endif

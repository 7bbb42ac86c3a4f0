/*
 * The gateway's own responses: error pages (HTML for browsers, JSON for
 * everyone else), the health endpoint, redirects, and the security headers
 * every response carries.  Pages show a status, a sentence and the request
 * id, never internals (no addresses, no library messages).  Security
 * headers come from headers.c; an HTML page's inline style carries a
 * fresh CSP nonce.  Also the frame of the flows' HTML pages (sign-in,
 * account, recovery: pages_begin()) and the escaping their values go
 * through.
 */
#ifndef POSTERN_PAGES_H
#define POSTERN_PAGES_H

#include <stddef.h>

#include "pagetmpl.h"

struct catalog;
struct evbuffer;
struct headers_set;

/*
 * What every page of a flow (sign-in, account, recovery) is framed with:
 * branding (branding: in the configuration) and this response's nonce.
 */
struct pages_frame {
	const char	*product;	/* "Postern" unless branded */
	const char	*logo_url;	/* NULL: none */
	const char	*color;		/* "#rrggbb", checked at load */
	const char	*nonce;		/* CSP nonce of this response */
	const struct catalog *cat;	/* the texts; NULL: the built-in */
	const struct pagetmpl_set *tmpl; /* templates; NULL: the built-in */
	size_t		 lang;		/* index of the page's language in
					 * <cat> (catalog_pick()) */
};

/* A value of a page template: escaped, unless <raw> (the gateway's own
 * markup, never a value from a request or a user). */
struct pages_var {
	const char	*key;
	const char	*val;		/* NULL: empty */
	int		 raw;
};

/* What to send; fields left 0/NULL are omitted. */
struct pages_resp {
	int		 status;
	const char	*request_id;	/* 32 hex digits */
	int		 html;		/* client accepts text/html */
	int		 keep_alive;	/* 0: "Connection: close" */
	int		 head_only;	/* HEAD: headers only */
	int		 empty;		/* no body at all: Content-Length: 0,
					 * no Content-Type (a front proxy's
					 * decision, which it never reads) */
	const struct headers_set *headers; /* security headers (headers.h) */
	int		 tls;		/* over TLS: with HSTS */
	const char	*location;	/* redirects */
	const char	*json;		/* body instead of the error page */
	const char	*extra;		/* more header lines, each "...\r\n" */
	struct evbuffer	*body;		/* a ready body, moved out on send */
	const char	*body_type;	/* its Content-Type */
	const char	*nonce;		/* the CSP nonce its style carries */
	const char	*cache;		/* Cache-Control; NULL: no-store */
	/* error pages (status >= 400) */
	const char	*error;		/* JSON code (a program's answer: JSON
					 * even to a browser); NULL: the
					 * status's, and a page for browsers */
	const char	*message;	/* a sentence; NULL: the status's */
	const struct pages_frame *frame; /* branding; NULL: the default */
	const char	*account;	/* a 403's signed-in email: shown with
					 * "sign out / use another account" */
	unsigned long	 retry_after;	/* a 429's wait in seconds, shown */
	const char	*lang;		/* a body's language: sent as
					 * Content-Language, with "Vary:
					 * Accept-Language"; HTML error pages
					 * take their frame's */
};

/* Append a whole response to <out>; returns the body size, -1 on error. */
long		 pages_send(struct evbuffer *out, const struct pages_resp *);

/* A fresh CSP nonce (base64) into <buf> (32 bytes); -1 if RAND fails. */
int		 pages_nonce(char *buf, size_t size);

/* "Not Found" etc.; "Unknown" for codes we never send. */
const char	*pages_reason(int status);
/* The stable JSON error code of <status>: "not_found" etc. */
const char	*pages_code(int status);
/* "5 minutes" etc. for a wait of <secs> seconds into <buf>, in the
 * language of <f> (NULL: English). */
const char	*pages_wait_text(const struct pages_frame *f, unsigned long secs,
		    char *buf, size_t size);

/* Whether an Accept header value asks for HTML (browsers). */
int		 pages_wants_html(const char *accept);

/* ---- the frame of the gateway's HTML pages ---- */


/*
 * Append a page up to and including <main> (template head.html): doctype,
 * <html lang>, <title> "<title> - product" (<title> a message key or a
 * sentence, see pages_t()), the one inline style (carrying the nonce) and
 * the logo.  The
 * caller writes the content and closes with "</main></body></html>".
 * 0, or -1 if <out> could not grow.
 */
int		 pages_begin(struct evbuffer *out, const struct pages_frame *f,
		    const char *title);
/*
 * The text of message <key> (catalog.h) in the language of <f>, else in
 * English; a string that is no key comes back as it is (so a caller may
 * still pass a sentence).  Never NULL.
 */
const char	*pages_t(const struct pages_frame *f, const char *key);
/*
 * pages_t() with its {{name}} filled from <v> (<n> values) into <buf>,
 * unescaped (the caller escapes it like any value).  <buf>, truncated
 * to <size> if need be.
 */
const char	*pages_tf(const struct pages_frame *f, const char *key,
		    const struct pages_var *v, size_t n, char *buf,
		    size_t size);
/*
 * Append template <id> (pagetmpl.h) of <f>'s set, each {{name}} replaced
 * by the value <v> gives it (escaped unless raw; "lang" and "product"
 * come from <f>), each {{t:key}} by pages_t() filled likewise.  0, or -1
 * if <out> could not grow or a name has no value.
 */
int		 pages_render(struct evbuffer *out, const struct pages_frame *f,
		    enum pagetmpl_id id, const struct pages_var *v, size_t n);
/*
 * Append the text of message <key>, escaped, its {{name}} filled from <v>
 * (escaped unless raw).  0, or -1 as pages_render().
 */
int		 pages_render_text(struct evbuffer *out,
		    const struct pages_frame *f, const char *key,
		    const struct pages_var *v, size_t n);
/* Append <s> HTML-escaped (text and attribute safe) to <out>; 0 or -1. */
int		 pages_escape(struct evbuffer *out, const char *s);
/*
 * Append template <tpl>, each "{{key}}" replaced by the escaped value of
 * that key: <vals>[i] for <keys>[i] (NULL-terminated; a NULL value is
 * empty).  0, or -1 if <out> could not grow or a key has no value.
 */
int		 pages_fill(struct evbuffer *out, const char *tpl,
		    const char *const *keys, const char *const *vals);

#endif

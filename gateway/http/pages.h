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
};

/* Append a whole response to <out>; returns the body size, -1 on error. */
long		 pages_send(struct evbuffer *out, const struct pages_resp *);

/* A fresh CSP nonce (base64) into <buf> (32 bytes); -1 if RAND fails. */
int		 pages_nonce(char *buf, size_t size);

/* "Not Found" etc.; "Unknown" for codes we never send. */
const char	*pages_reason(int status);
/* The stable JSON error code of <status>: "not_found" etc. */
const char	*pages_code(int status);
/* "about 5 minutes" etc. for a wait of <secs> seconds into <buf>. */
const char	*pages_wait_text(unsigned long secs, char *buf, size_t size);

/* Whether an Accept header value asks for HTML (browsers). */
int		 pages_wants_html(const char *accept);

/* ---- the frame of the gateway's HTML pages ---- */


/*
 * Append a page up to and including <main>: doctype, <title> "<title> -
 * product", the one inline style (carrying the nonce) and the logo.  The
 * caller writes the content and closes with "</main></body></html>".
 * 0, or -1 if <out> could not grow.
 */
int		 pages_begin(struct evbuffer *out, const struct pages_frame *f,
		    const char *title);
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
